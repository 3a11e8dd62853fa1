"""Tests of the double's Socket Mode endpoint, driven by slack_sdk's builtin SocketModeClient.

A hand-written WebSocket client covers the handshakes and frames that slack_sdk never sends.
"""

import base64
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.slackdouble import SlackDouble
from bot.slackdouble.payloads import message_event, slash_command

EVENT = message_event("^help", user="U0ALICE", channel="C0GENERAL")
ACK_TIMEOUT = 0.2  # seconds before the test doubles redeliver an unacknowledged event


class Inbox:
    """Every text message a client received, decoded, hello and disconnect included."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.messages: list[dict] = []

    def add(self, raw: str) -> None:
        with self._changed:
            self.messages.append(json.loads(raw))
            self._changed.notify_all()

    def wait_for(
        self, where: Callable[[dict], bool], count: int = 1, timeout: float = 5.0
    ) -> list[dict]:
        """Return the matching messages once `count` of them arrived."""

        def matches() -> list[dict]:
            return [message for message in self.messages if where(message)]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matches()) >= count, timeout):
                raise AssertionError(
                    f"timed out waiting for {count} message(s); received {self.messages}"
                )
            return matches()

    def envelopes(self, count: int = 1, timeout: float = 5.0) -> list[dict]:
        return self.wait_for(lambda message: "envelope_id" in message, count, timeout)


def acknowledge(request: SocketModeRequest) -> SocketModeResponse | None:
    return SocketModeResponse(envelope_id=request.envelope_id)


def never(request: SocketModeRequest) -> None:
    return None


Connect = Callable[..., tuple[SocketModeClient, Inbox]]


@pytest.fixture
def double() -> Iterator[SlackDouble]:
    with SlackDouble(socket_ack_timeout=ACK_TIMEOUT) as running:
        yield running


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Return a function that connects a SocketModeClient to a double; closes them after."""
    clients: list[tuple[SlackDouble, SocketModeClient]] = []

    def connect_client(
        double: SlackDouble,
        respond: Callable[[SocketModeRequest], SocketModeResponse | None] = acknowledge,
        **options,
    ) -> tuple[SocketModeClient, Inbox]:
        inbox = Inbox()
        client = SocketModeClient(
            app_token=double.app_token,
            web_client=WebClient(base_url=double.base_url),
            on_message_listeners=[inbox.add],
            **options,
        )

        def answer(client: SocketModeClient, request: SocketModeRequest) -> None:
            response = respond(request)
            if response is not None:
                client.send_socket_mode_response(response)

        client.socket_mode_request_listeners.append(answer)
        clients.append((double, client))
        client.connect()
        return client, inbox

    yield connect_client
    # Closing from the double's end first spares each close() a wait of up to 3 seconds,
    # slack_sdk's receive timeout, before it can take the socket from its reader thread.
    for _double, client in clients:
        client.default_auto_reconnect_enabled = client.auto_reconnect_enabled = False
    for double in {id(double): double for double, _client in clients}.values():
        double.socket_close()
    for _double, client in clients:
        client.close()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition still false after {timeout}s")
        time.sleep(0.01)


class RawWebSocket:
    """A minimal WebSocket client that can send frames slack_sdk never sends."""

    def __init__(self, url: str, *, version: str = "13") -> None:
        parts = urlsplit(url)
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\n"
            f"Host: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: {version}\r\n\r\n"
        )
        self.socket.sendall(request.encode())
        self._buffer = b""
        head = self._read_until(b"\r\n\r\n").decode()
        self.status = int(head.split(" ", 2)[1])
        self.headers = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:])
            if name
        )

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            chunk = self.socket.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self.socket.recv(4096)
            if not chunk:
                raise ConnectionError("closed")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def send_frame(
        self, opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True
    ) -> None:
        first = (0x80 if fin else 0) | opcode
        mask_bit = 0x80 if masked else 0
        if len(payload) < 126:
            header = struct.pack("!BB", first, mask_bit | len(payload))
        else:
            header = struct.pack("!BBH", first, mask_bit | 126, len(payload))
        if masked:
            key = os.urandom(4)
            payload = bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))
            header += key
        self.socket.sendall(header + payload)

    def read_frame(self) -> tuple[int, bytes]:
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        return first & 0x0F, self._read(length)

    def read_json(self) -> dict:
        opcode, payload = self.read_frame()
        assert opcode == 0x1, f"expected a text frame, got opcode {opcode}"
        return json.loads(payload)

    def close(self) -> None:
        self.socket.close()


def socket_url(double: SlackDouble) -> str:
    return WebClient(base_url=double.base_url).apps_connections_open(app_token=double.app_token)[
        "url"
    ]


# Connecting


def test_hello_is_first_message(double, connect):
    _client, inbox = connect(double)

    double.wait_socket_connected()
    [hello] = inbox.wait_for(lambda message: message["type"] == "hello")

    assert inbox.messages[0] is hello
    assert hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": "ADOUBLE"}
    assert hello["debug_info"]["host"].startswith("applink-")
    assert double.socket_connection_count == 1
    assert double.socket_errors == []


def test_hello_counts_open_connections(double, connect):
    connect(double)
    double.wait_socket_connected()
    _second, inbox = connect(double)

    double.wait_socket_connected(total=2)
    [hello] = inbox.wait_for(lambda message: message["type"] == "hello")

    assert hello["num_connections"] == 2
    assert double.socket_connection_count == 2


def test_client_ping_gets_pong(double, connect):
    client, _inbox = connect(double)

    # slack_sdk pings on connect and records the time of the matching pong.
    wait_until(lambda: client.current_session.last_ping_pong_time is not None)

    assert client.is_connected()


def test_unknown_ticket_is_rejected(double):
    url = socket_url(double).replace("ticket=", "ticket=0")

    raw = RawWebSocket(url)
    raw.close()

    assert raw.status == 401
    assert double.socket_connection_count == 0
    [error] = double.socket_errors
    assert "invalid_ticket" in error


def test_ticket_works_once(double):
    url = socket_url(double)

    first = RawWebSocket(url)
    hello = first.read_json()
    second = RawWebSocket(url)
    second.close()
    first.close()

    assert first.status == 101
    assert hello["type"] == "hello"
    assert second.status == 401


def test_wrong_app_id_is_rejected(double):
    url = socket_url(double).replace("app_id=ADOUBLE", "app_id=AOTHER")

    raw = RawWebSocket(url)
    raw.close()

    assert raw.status == 401


def test_other_path_is_rejected(double):
    url = socket_url(double).replace("/link/", "/elsewhere/")

    raw = RawWebSocket(url)
    raw.close()

    assert raw.status == 404


def test_unsupported_version_gets_426(double):
    raw = RawWebSocket(socket_url(double), version="8")
    raw.close()

    assert raw.status == 426
    assert raw.headers["sec-websocket-version"] == "13"


def test_ticket_url_from_connections_open(double, connect):
    connect(double)

    double.wait_socket_connected()
    [call] = double.calls_to("apps.connections.open")

    assert call.ok
    assert call.response["url"].startswith(double.origin.replace("http", "ws") + "/link/?ticket=")


# Envelopes and acks


def test_event_envelope_is_acknowledged(double, connect):
    _client, inbox = connect(double)
    double.wait_socket_connected()

    envelope_id = double.socket_send(EVENT)
    ack = double.wait_for_ack(envelope_id)
    [envelope] = inbox.envelopes()

    assert envelope == {
        "envelope_id": envelope_id,
        "type": "events_api",
        "payload": EVENT,
        "accepts_response_payload": False,
    }
    assert ack.envelope_id == envelope_id
    assert ack.payload is None
    assert double.socket_acks == [ack]
    assert double.socket_envelopes == [envelope]


def test_first_delivery_retry_fields(double, connect):
    _client, inbox = connect(double)
    double.wait_socket_connected()

    double.socket_send(EVENT, retry_attempt=0)
    double.socket_send(EVENT, retry_attempt=2)
    first, retried = inbox.envelopes(count=2)

    assert (first["retry_attempt"], first["retry_reason"]) == (0, "")
    assert (retried["retry_attempt"], retried["retry_reason"]) == (2, "timeout")


def test_slash_command_ack_carries_payload(double, connect):
    def respond(request: SocketModeRequest) -> SocketModeResponse:
        return SocketModeResponse(envelope_id=request.envelope_id, payload={"text": "done"})

    _client, inbox = connect(double, respond)
    double.wait_socket_connected()
    command = slash_command(
        "/caret", "help", user="U0ALICE", channel="C0GENERAL", trigger_id=double.issue_trigger_id()
    )

    envelope_id = double.socket_send(command, type="slash_commands")
    ack = double.wait_for_ack(envelope_id)
    [envelope] = inbox.envelopes()

    assert envelope["type"] == "slash_commands"
    assert envelope["accepts_response_payload"] is True
    assert "retry_attempt" not in envelope
    assert ack.payload == {"text": "done"}


def test_envelope_id_can_be_reused(double, connect):
    _client, inbox = connect(double)
    double.wait_socket_connected()

    first = double.socket_send(EVENT, envelope_id="env-1")
    double.wait_for_ack(first)
    second = double.socket_send(EVENT, envelope_id="env-1")
    ack = double.wait_for_ack(second)

    assert first == second == "env-1"
    assert len(inbox.envelopes(count=2)) == 2
    assert len(double.socket_acks) == 2
    assert ack is double.socket_acks[1]
    assert double.socket_errors == []


def test_large_envelope_arrives_whole(double, connect):
    _client, inbox = connect(double)
    double.wait_socket_connected()
    # Over 65,535 bytes, so the frame needs the 64-bit length form of RFC 6455.
    big = message_event("^note " + "x" * 70_000, user="U0ALICE", channel="C0GENERAL")

    envelope_id = double.socket_send(big)
    double.wait_for_ack(envelope_id)
    [envelope] = inbox.envelopes()

    assert envelope["payload"] == big


def test_send_without_connection_raises(double):
    with pytest.raises(RuntimeError, match="no Socket Mode connection"):
        double.socket_send(EVENT)


def test_invalid_envelope_type_raises(double, connect):
    connect(double)
    double.wait_socket_connected()

    with pytest.raises(ValueError, match="invalid envelope type"):
        double.socket_send(EVENT, type="events")


def test_wait_for_ack_times_out_clearly(double, connect):
    connect(double, never)
    double.wait_socket_connected()
    envelope_id = double.socket_send(EVENT)

    with pytest.raises(AssertionError, match=f"ack of envelope {envelope_id}"):
        double.wait_for_ack(envelope_id, timeout=0.05)


def test_bad_client_messages_are_recorded(double, connect):
    client, inbox = connect(double, never)
    double.wait_socket_connected()
    envelope_id = double.socket_send(EVENT)
    inbox.envelopes()

    client.send_message("not json")
    client.send_message(json.dumps({"type": "hello"}))
    client.send_message(json.dumps({"envelope_id": "unknown"}))
    client.send_message(json.dumps({"envelope_id": envelope_id, "payload": "text"}))
    client.send_message(json.dumps({"envelope_id": envelope_id}))
    client.send_message(json.dumps({"envelope_id": envelope_id}))
    wait_until(lambda: len(double.socket_errors) == 5)
    errors = double.socket_errors

    assert "not JSON" in errors[0]
    assert "not an ack" in errors[1]
    assert "unknown envelope unknown" in errors[2]
    assert "payload is not an object" in errors[3]
    assert f"second ack of envelope {envelope_id}" in errors[4]
    assert len(double.socket_acks) == 1


def test_reset_forgets_envelopes_and_acks(double, connect):
    connect(double)
    double.wait_socket_connected()
    double.wait_for_ack(double.socket_send(EVENT))

    double.reset()

    assert double.socket_envelopes == []
    assert double.socket_acks == []
    assert double.socket_connection_count == 1


# Redelivery


def test_unacknowledged_event_is_redelivered(double, connect):
    seen: list[str] = []

    def ack_second_delivery(request: SocketModeRequest) -> SocketModeResponse | None:
        seen.append(request.envelope_id)
        return acknowledge(request) if len(seen) == 2 else None

    _client, inbox = connect(double, ack_second_delivery)
    double.wait_socket_connected()

    envelope_id = double.socket_send(EVENT)
    first, redelivered = inbox.envelopes(count=2)
    ack = double.wait_for_ack(redelivered["envelope_id"])

    assert first["envelope_id"] == envelope_id
    assert redelivered["envelope_id"] != envelope_id
    assert redelivered["payload"] == EVENT
    assert redelivered["retry_attempt"] == 1
    assert redelivered["retry_reason"] == "timeout"
    assert ack.envelope_id == redelivered["envelope_id"]


def test_redelivery_counts_up_to_maximum(connect):
    with SlackDouble(socket_ack_timeout=ACK_TIMEOUT, socket_max_redeliveries=2) as double:
        _client, inbox = connect(double, never)
        double.wait_socket_connected()

        double.socket_send(EVENT, retry_attempt=0)
        envelopes = inbox.envelopes(count=3)

        assert [envelope["retry_attempt"] for envelope in envelopes] == [0, 1, 2]
        assert [envelope["retry_reason"] for envelope in envelopes] == ["", "timeout", "timeout"]
        assert len({envelope["envelope_id"] for envelope in envelopes}) == 3


def test_redelivery_without_retry_count(connect):
    with SlackDouble(socket_ack_timeout=ACK_TIMEOUT, socket_count_retries=False) as double:
        _client, inbox = connect(double, never)
        double.wait_socket_connected()

        double.socket_send(EVENT)
        double.socket_send(EVENT, retry_attempt=0)
        envelopes = inbox.envelopes(count=4)

        without_count = [e for e in envelopes if "retry_attempt" not in e]
        with_zero = [e for e in envelopes if e.get("retry_attempt") == 0]
        assert len(without_count) == 2
        assert len(with_zero) == 2
        assert all(envelope["payload"] == EVENT for envelope in envelopes)


def test_acknowledged_event_is_not_redelivered(double, connect):
    marker = message_event("unacknowledged", user="U0ALICE", channel="C0GENERAL")

    def ack_all_but_marker(request: SocketModeRequest) -> SocketModeResponse | None:
        return None if request.payload == marker else acknowledge(request)

    _client, inbox = connect(double, ack_all_but_marker)
    double.wait_socket_connected()

    acknowledged = double.socket_send(EVENT)
    double.wait_for_ack(acknowledged)
    double.socket_send(marker)
    # The marker's second redelivery comes two timeouts after the acknowledged envelope's
    # timer would have fired.
    inbox.wait_for(lambda message: message.get("payload") == marker, count=3)

    events = [e for e in double.socket_envelopes if e["payload"] == EVENT]
    assert [e["envelope_id"] for e in events] == [acknowledged]


def test_interactive_envelope_is_not_redelivered(double, connect):
    _client, inbox = connect(double, never)
    double.wait_socket_connected()
    shortcut = {"type": "shortcut", "callback_id": "caret", "trigger_id": "1.2.abc"}

    double.socket_send(shortcut, type="interactive")
    double.socket_send(EVENT)
    inbox.wait_for(lambda message: message.get("payload") == EVENT, count=3)

    interactive = [e for e in double.socket_envelopes if e["type"] == "interactive"]
    assert len(interactive) == 1
    assert interactive[0]["accepts_response_payload"] is True


# Disconnecting


def test_disconnect_makes_client_reconnect(double, connect):
    _client, inbox = connect(double)
    double.wait_socket_connected()

    told = double.socket_disconnect()
    double.wait_socket_connected(total=2)
    # slack_sdk closes the old connection once the new one is open.
    double.wait_socket_connection_count(1)
    envelope_id = double.socket_send(EVENT)
    double.wait_for_ack(envelope_id)

    assert told == 1
    [disconnect] = inbox.wait_for(lambda message: message["type"] == "disconnect")
    assert disconnect["reason"] == "refresh_requested"
    assert disconnect["debug_info"]["host"].startswith("applink-")
    assert len(double.calls_to("apps.connections.open")) == 2
    assert double.socket_errors == []


def test_envelopes_avoid_refreshing_connection(double, connect):
    # slack_sdk reconnects on every disconnect message, so the old end is a raw WebSocket,
    # which ignores it.
    old = RawWebSocket(socket_url(double))
    old.read_json()
    double.wait_socket_connected()
    double.socket_disconnect(reason="warning")
    disconnect = old.read_json()
    _new, new_inbox = connect(double)
    double.wait_socket_connected(total=2)

    envelope_id = double.socket_send(EVENT)
    double.wait_for_ack(envelope_id)
    old.close()

    assert disconnect["reason"] == "warning"
    assert [e["envelope_id"] for e in new_inbox.envelopes()] == [envelope_id]


def test_server_close_makes_client_reconnect(double, connect):
    # After a close frame, slack_sdk reconnects when its monitor next runs, every
    # ping_interval seconds (5 by default).
    connect(double, ping_interval=0.5)
    double.wait_socket_connected()

    closed = double.socket_close(1001, "going away")
    double.wait_socket_connected(total=2)
    envelope_id = double.socket_send(EVENT)

    assert closed == 1
    assert double.wait_for_ack(envelope_id).envelope_id == envelope_id
    assert len(double.calls_to("apps.connections.open")) == 2


def test_disconnect_without_connection_raises(double):
    with pytest.raises(RuntimeError, match="no Socket Mode connection"):
        double.socket_disconnect()


def test_stop_closes_connections(connect):
    closes: list[int] = []
    double = SlackDouble().start()
    try:
        connect(
            double,
            auto_reconnect_enabled=False,
            on_close_listeners=[lambda code, _: closes.append(code)],
        )
        double.wait_socket_connected()
    finally:
        double.stop()

    assert double.socket_connection_count == 0
    wait_until(lambda: closes == [1001])


# Frames


def test_fragmented_ack_is_reassembled(double):
    raw = RawWebSocket(socket_url(double))
    raw.read_json()
    double.wait_socket_connected()
    envelope_id = double.socket_send(EVENT)
    assert raw.read_json()["envelope_id"] == envelope_id
    ack = json.dumps({"envelope_id": envelope_id}).encode()

    raw.send_frame(0x1, ack[:5], fin=False)
    raw.send_frame(0x9, b"between fragments")
    raw.send_frame(0x0, ack[5:])
    double.wait_for_ack(envelope_id)
    pong = raw.read_frame()
    raw.close()

    assert pong == (0xA, b"between fragments")
    assert double.socket_errors == []


def test_unmasked_frame_closes_connection(double):
    raw = RawWebSocket(socket_url(double))
    raw.read_json()
    double.wait_socket_connected()

    raw.send_frame(0x1, b"{}", masked=False)
    opcode, payload = raw.read_frame()
    double.wait_socket_connection_count(0)
    raw.close()

    assert opcode == 0x8
    assert struct.unpack("!H", payload[:2])[0] == 1002
    assert "not masked" in double.socket_errors[0]


def test_binary_message_is_recorded(double):
    raw = RawWebSocket(socket_url(double))
    raw.read_json()
    double.wait_socket_connected()

    raw.send_frame(0x2, b"\x00\x01")
    wait_until(lambda: double.socket_errors != [])
    raw.close()

    assert "binary message of 2 bytes" in double.socket_errors[0]


def test_client_close_frame_is_echoed(double):
    raw = RawWebSocket(socket_url(double))
    raw.read_json()
    double.wait_socket_connected()

    raw.send_frame(0x8, struct.pack("!H", 1000) + b"bye")
    opcode, payload = raw.read_frame()
    double.wait_socket_connection_count(0)
    raw.close()

    assert opcode == 0x8
    assert struct.unpack("!H", payload[:2])[0] == 1000
    assert double.socket_errors == []
