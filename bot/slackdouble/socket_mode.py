"""Socket Mode on the double: a WebSocket endpoint at each URL apps.connections.open returns.

SocketModeMixin serves the connections and gives tests their API: send envelopes, wait for
acks, ask clients to reconnect. The message shapes, and the protocol facts behind them, are
in socket_messages.
"""

import copy
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.slackdouble import socket_messages
from bot.slackdouble.socket_messages import InvalidAck
from bot.slackdouble.state import Workspace
from bot.slackdouble.websocket import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    ConnectionClosed,
    ProtocolError,
    WebSocket,
    accept_handshake,
    handshake_problem,
    reject_handshake,
)

logger = logging.getLogger(__name__)

# Slack retries an events_api envelope that is not acknowledged within 3 seconds. It retries
# an HTTP Events API delivery up to 3 times, and Socket Mode logs show retries 1 to 3.
ACK_TIMEOUT_SECONDS = 3.0
MAX_REDELIVERIES = 3


@dataclass(frozen=True)
class SocketAck:
    """An acknowledgement that a Socket Mode client sent. `at` is from the double's clock."""

    envelope_id: str
    payload: dict | None  # the response payload, or None when the ack carried none
    at: float


@dataclass
class _Delivery:
    """One socket_send() and its redeliveries, until a client acknowledges any of them."""

    envelope: dict  # the envelope as first sent
    redeliveries: int = 0
    acks: list[SocketAck] = field(default_factory=list)
    timer: threading.Timer | None = None


@dataclass
class _Connection:
    number: int  # 1 for the double's first connection, counting up
    websocket: WebSocket
    disconnect_sent: bool = False


class SocketModeMixin:
    """The Socket Mode endpoint and its test API, mixed into SlackDouble.

    It uses the double's workspace (for tickets), lock and clock. Its own state has its own
    condition, so a test waiting on an ack never holds the lock of the Web API.
    """

    workspace: Workspace
    clock: Callable[[], float]
    _lock: threading.RLock

    def _init_socket_mode(
        self, *, ack_timeout: float | None, max_redeliveries: int, count_retries: bool
    ) -> None:
        # Settings; a test may change them between sends.
        self.socket_ack_timeout = ack_timeout
        self.socket_max_redeliveries = max_redeliveries
        self.socket_count_retries = count_retries

        self._socket_changed = threading.Condition(threading.Lock())
        self._socket_accepting = False
        self._socket_connections: list[_Connection] = []
        self._socket_opened = 0  # connections that got their hello, since the double started
        self._socket_envelopes: list[dict] = []
        self._socket_acks: list[SocketAck] = []
        self._socket_errors: list[str] = []
        self._deliveries: dict[str, _Delivery] = {}  # by the envelope id of every attempt

    # Test API

    def socket_send(
        self,
        payload: dict[str, Any],
        *,
        type: str = "events_api",
        envelope_id: str | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        accepts_response_payload: bool | None = None,
    ) -> str:
        """Send `payload` in an envelope on the newest connection, and return its envelope_id.

        `retry_attempt=None` leaves retry_attempt and retry_reason out, as some redeliveries
        do. Slack's own first delivery of an event carries retry_attempt=0. The other
        defaults are those of socket_messages.envelope(). An unacknowledged events_api
        envelope is redelivered after socket_ack_timeout seconds. Raises RuntimeError when
        no connection is open.
        """
        envelope = socket_messages.envelope(
            payload,
            type=type,
            envelope_id=envelope_id,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            accepts_response_payload=accepts_response_payload,
        )
        with self._socket_changed:
            connection = self._pick_connection()
            if connection is None:
                raise RuntimeError(
                    "no Socket Mode connection is open; connect a client and call "
                    "wait_socket_connected() first"
                )
            self._record_sent(_Delivery(envelope), envelope)
        self._transmit(connection, envelope)
        return envelope["envelope_id"]

    def socket_disconnect(self, reason: str = "refresh_requested") -> int:
        """Send a disconnect message to every open connection, and return how many got it.

        The connections stay open until their clients close them. Later envelopes go to a
        connection that got no disconnect message, when there is one. Raises RuntimeError
        when no connection is open.
        """
        message = socket_messages.disconnect(reason)
        with self._socket_changed:
            targets = [c for c in self._socket_connections if not c.disconnect_sent]
            if not targets:
                raise RuntimeError("no Socket Mode connection is open to disconnect")
            for connection in targets:
                connection.disconnect_sent = True
        for connection in targets:
            self._transmit(connection, message)
        return len(targets)

    def socket_close(self, code: int = CLOSE_NORMAL, reason: str = "") -> int:
        """Close every open connection from the double's end, and return how many it closed.

        Each client gets a close frame with `code`, then the TCP connection ends.
        """
        with self._socket_changed:
            connections = list(self._socket_connections)
        for connection in connections:
            connection.websocket.send_close(code, reason)
            connection.websocket.shutdown()
        return len(connections)

    @property
    def socket_connection_count(self) -> int:
        """The number of Socket Mode connections open now."""
        with self._socket_changed:
            return len(self._socket_connections)

    @property
    def socket_envelopes(self) -> list[dict]:
        """Every envelope sent since the last reset, redeliveries included, as sent."""
        with self._socket_changed:
            return copy.deepcopy(self._socket_envelopes)

    @property
    def socket_acks(self) -> list[SocketAck]:
        """Every acknowledgement of a known envelope, in arrival order."""
        with self._socket_changed:
            return list(self._socket_acks)

    @property
    def socket_errors(self) -> list[str]:
        """Rejected handshakes, and client messages that are not valid acks, in order."""
        with self._socket_changed:
            return list(self._socket_errors)

    def wait_socket_connected(self, timeout: float = 5.0, *, total: int = 1) -> None:
        """Block until `total` connections have opened since the double started.

        `timeout` is in real seconds. Raises AssertionError listing the errors recorded.
        """
        self._wait(
            lambda: self._socket_opened >= total,
            timeout,
            lambda: f"{total} Socket Mode connection(s); {self._socket_opened} opened",
        )

    def wait_socket_connection_count(self, count: int, timeout: float = 5.0) -> None:
        """Block until exactly `count` connections are open. `timeout` is in real seconds."""
        self._wait(
            lambda: len(self._socket_connections) == count,
            timeout,
            lambda: f"{count} open connection(s); {len(self._socket_connections)} open",
        )

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> SocketAck:
        """Block until the latest envelope sent as `envelope_id` is acknowledged; return the ack.

        `timeout` is in real seconds. Raises AssertionError listing the acks that did arrive.
        """
        with self._socket_changed:
            delivery = self._deliveries.get(envelope_id)
        if delivery is None:
            raise AssertionError(f"envelope {envelope_id} was not sent since the last reset")

        def find() -> SocketAck | None:
            return next((a for a in delivery.acks if a.envelope_id == envelope_id), None)

        self._wait(
            lambda: find() is not None,
            timeout,
            lambda: (
                f"an ack of envelope {envelope_id}; acks received: "
                f"{[ack.envelope_id for ack in self._socket_acks]}"
            ),
        )
        with self._socket_changed:
            ack = find()
        assert ack is not None
        return ack

    def _wait(self, ready: Callable[[], bool], timeout: float, describe: Callable[[], str]) -> None:
        """Block until `ready()`, or raise AssertionError with `describe()` and the errors."""
        with self._socket_changed:
            if self._socket_changed.wait_for(ready, timeout):
                return
            waited_for, errors = describe(), list(self._socket_errors)
        raise AssertionError(
            f"timed out after {timeout}s waiting for {waited_for}. Errors: {errors}"
        )

    # Called by the double's lifecycle

    def _start_socket_mode(self) -> None:
        with self._socket_changed:
            self._socket_accepting = True

    def _stop_socket_mode(self, timeout: float = 5.0) -> None:
        """Cancel redeliveries, close every connection, and wait for their threads to end."""
        with self._socket_changed:
            self._socket_accepting = False
            self._cancel_redeliveries()
        self.socket_close(CLOSE_GOING_AWAY, "server stopping")
        with self._socket_changed:
            if not self._socket_changed.wait_for(lambda: not self._socket_connections, timeout):
                logger.warning("slackdouble socket mode connections still open after stop")

    def _reset_socket_mode(self) -> None:
        """Forget sent envelopes, acks, errors and pending redeliveries. Connections stay."""
        with self._socket_changed:
            self._cancel_redeliveries()
            self._socket_envelopes.clear()
            self._socket_acks.clear()
            self._socket_errors.clear()

    # The endpoint

    def handle_websocket_upgrade(self, handler: BaseHTTPRequestHandler) -> None:
        """Serve one Socket Mode connection. The HTTP server's handler thread calls this."""
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        ticket = (query.get("ticket") or [""])[0]
        app_id = (query.get("app_id") or [""])[0]

        problem = handshake_problem(handler)
        if problem is not None:
            status, text = problem
            self._reject(handler, status, f"invalid WebSocket handshake: {text}")
            return
        if parts.path != "/link/":
            self._reject(handler, 404, f"no WebSocket endpoint at {parts.path}")
            return
        with self._lock:
            # NOTE: whether Slack accepts a second connection on one URL is not documented.
            # The double accepts each ticket once, so a client must reconnect with a new URL.
            known = ticket in self.workspace.socket_tickets
            self.workspace.socket_tickets.discard(ticket)
            expected_app_id = self.workspace.app_id
        if not known or app_id != expected_app_id:
            # NOTE: Slack's status and body for a bad ticket are not documented.
            self._reject(handler, 401, "invalid_ticket: use a URL from apps.connections.open")
            return
        with self._socket_changed:
            accepting = self._socket_accepting
        if not accepting:
            self._reject(handler, 503, "the double is stopping")
            return

        endpoint = accept_handshake(handler)
        try:
            connection = self._open(endpoint)
        except ConnectionClosed as error:
            endpoint.shutdown()
            logger.info("slackdouble socket mode client left before its hello error=%s", error)
            return
        try:
            self._serve(connection)
        finally:
            connection.websocket.shutdown()
            with self._socket_changed:
                self._socket_connections.remove(connection)
                self._socket_changed.notify_all()
            logger.info("slackdouble socket mode connection closed number=%s", connection.number)

    def _reject(self, handler: BaseHTTPRequestHandler, status: int, text: str) -> None:
        with self._socket_changed:
            self._socket_errors.append(f"handshake rejected with {status}: {text}")
            self._socket_changed.notify_all()
        logger.warning("slackdouble socket mode handshake rejected status=%s %s", status, text)
        reject_handshake(handler, status, text)

    def _open(self, endpoint: WebSocket) -> _Connection:
        """Send hello, then make the connection the one that envelopes go to."""
        with self._socket_changed:
            connection = _Connection(number=self._socket_opened + 1, websocket=endpoint)
            hello = socket_messages.hello(
                app_id=self.workspace.app_id, num_connections=len(self._socket_connections) + 1
            )
            # Sent under the condition, so no envelope can overtake the hello.
            endpoint.send_text(json.dumps(hello))
            self._socket_opened += 1
            self._socket_connections.append(connection)
            self._socket_changed.notify_all()
        logger.info("slackdouble socket mode connection opened number=%s", connection.number)
        return connection

    def _serve(self, connection: _Connection) -> None:
        while True:
            try:
                message = connection.websocket.receive()
            except ConnectionClosed:
                return
            except ProtocolError as error:
                self._record_error(connection, f"protocol error: {error.reason}")
                connection.websocket.send_close(error.code, error.reason)
                return
            if isinstance(message, bytes):
                self._record_error(connection, f"binary message of {len(message)} bytes")
                continue
            self._receive_ack(connection, message)

    def _receive_ack(self, connection: _Connection, text: str) -> None:
        try:
            envelope_id, payload = socket_messages.parse_ack(text)
        except InvalidAck as error:
            self._record_error(connection, str(error))
            return

        with self._socket_changed:
            delivery = self._deliveries.get(envelope_id)
            if delivery is None:
                problem = f"ack of unknown envelope {envelope_id}"
            elif any(ack.envelope_id == envelope_id for ack in delivery.acks):
                problem = f"second ack of envelope {envelope_id}"
            else:
                problem = None
                ack = SocketAck(envelope_id, payload, self.clock())
                delivery.acks.append(ack)
                self._socket_acks.append(ack)
                if delivery.timer is not None:
                    delivery.timer.cancel()
                self._socket_changed.notify_all()
        if problem is not None:
            self._record_error(connection, problem)
        else:
            logger.debug("slackdouble socket mode ack envelope_id=%s", envelope_id)

    # Delivery and redelivery

    def _pick_connection(self) -> _Connection | None:
        """Return the newest connection that got no disconnect message, else the newest one."""
        fresh = [c for c in self._socket_connections if not c.disconnect_sent]
        candidates = fresh or self._socket_connections
        return candidates[-1] if candidates else None

    def _record_sent(self, delivery: _Delivery, envelope: dict) -> None:
        """Remember an envelope about to go out, and time its redelivery. Hold the condition."""
        self._deliveries[envelope["envelope_id"]] = delivery
        self._socket_envelopes.append(copy.deepcopy(envelope))
        # NOTE: Slack retries Events API deliveries only. The double assumes that an
        # unacknowledged interactive or slash command envelope fails for the user instead.
        if delivery.envelope["type"] == "events_api":
            self._schedule_redelivery(delivery)

    def _schedule_redelivery(self, delivery: _Delivery) -> None:
        if self.socket_ack_timeout is None:
            return
        if delivery.redeliveries >= self.socket_max_redeliveries:
            return
        timer = threading.Timer(self.socket_ack_timeout, self._redeliver, args=(delivery,))
        timer.daemon = True
        delivery.timer = timer
        timer.start()

    def _redeliver(self, delivery: _Delivery) -> None:
        with self._socket_changed:
            if delivery.acks or delivery.timer is None or not self._socket_accepting:
                return
            connection = self._pick_connection()
            if connection is None:
                # No connection is open, so try again after another timeout, as the same attempt.
                self._schedule_redelivery(delivery)
                return
            delivery.redeliveries += 1
            envelope = socket_messages.redelivery(
                delivery.envelope,
                attempt=delivery.redeliveries,
                count_retries=self.socket_count_retries,
            )
            self._record_sent(delivery, envelope)
        logger.info(
            "slackdouble socket mode redelivery envelope_id=%s of=%s attempt=%s",
            envelope["envelope_id"],
            delivery.envelope["envelope_id"],
            delivery.redeliveries,
        )
        self._transmit(connection, envelope)

    def _cancel_redeliveries(self) -> None:
        """Stop every pending redelivery and forget the deliveries. Hold the condition."""
        for delivery in self._deliveries.values():
            if delivery.timer is not None:
                delivery.timer.cancel()
                delivery.timer = None
        self._deliveries.clear()

    def _transmit(self, connection: _Connection, message: dict) -> None:
        try:
            connection.websocket.send_text(json.dumps(message))
        except ConnectionClosed as error:
            # The redelivery of an events_api envelope makes up for the lost message.
            self._record_error(connection, f"send failed: {error}")

    def _record_error(self, connection: _Connection, problem: str) -> None:
        with self._socket_changed:
            self._socket_errors.append(f"connection {connection.number}: {problem}")
            self._socket_changed.notify_all()
        logger.warning("slackdouble socket mode error connection=%s %s", connection.number, problem)
