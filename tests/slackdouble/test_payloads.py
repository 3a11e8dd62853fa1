"""Tests of the payload builders and request signing, checked by slack_sdk and slack_bolt."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.slackdouble import SlackDouble, encode_for_http, payloads, post_to_bot, signed_headers

SECRET = "signing-secret-for-tests"
ALICE = "U0ALICE"
GENERAL = "C0GENERAL"


# Builders


def test_message_event_envelope():
    payload = payloads.message_event("^deliver", user=ALICE, channel=GENERAL, event_id="Ev0TEST")

    event = payload["event"]
    assert payload["type"] == "event_callback"
    assert payload["event_id"] == "Ev0TEST"
    assert payload["api_app_id"] == "ADOUBLE"
    assert payload["authorizations"][0]["user_id"] == "UBOTDOUBLE"
    assert isinstance(payload["event_time"], int)
    assert event["type"] == "message"
    assert event["text"] == "^deliver"
    assert event["channel_type"] == "channel"
    assert event["ts"] == event["event_ts"]
    assert "client_msg_id" in event
    assert "subtype" not in event


def test_message_event_ids_and_ts_are_fresh():
    first = payloads.message_event("a", user=ALICE, channel=GENERAL)
    second = payloads.message_event("b", user=ALICE, channel=GENERAL)

    assert first["event_id"].startswith("Ev")
    assert first["event_id"] != second["event_id"]
    assert second["event"]["ts"] > first["event"]["ts"]


def test_message_event_options():
    files = [{"id": "F0FILE", "name": "cv.pdf"}]

    in_thread = payloads.message_event(
        "x", user=ALICE, channel="D0ALICE", ts="1700000000.000200", thread_ts="1700000000.000100"
    )["event"]
    with_files = payloads.message_event("x", user=ALICE, channel=GENERAL, files=files)["event"]
    edited = payloads.message_event("x", user=ALICE, channel=GENERAL, edited="1700000001.000100")
    from_bot = payloads.message_event("x", user=None, channel=GENERAL, bot_id="B0OTHER")["event"]

    assert in_thread["thread_ts"] == "1700000000.000100"
    assert in_thread["channel_type"] == "im"
    assert with_files["subtype"] == "file_share"
    assert with_files["files"] == files
    assert edited["event"]["edited"] == {"user": ALICE, "ts": "1700000001.000100"}
    assert from_bot["bot_id"] == "B0OTHER"
    assert "user" not in from_bot
    assert "client_msg_id" not in from_bot


def test_app_home_opened_event():
    event = payloads.app_home_opened_event(ALICE)["event"]

    assert event == {
        "type": "app_home_opened",
        "user": ALICE,
        "channel": "D" + ALICE,
        "tab": "home",
        "event_ts": event["event_ts"],
    }


def test_block_actions_from_message():
    payload = payloads.block_actions(
        "deliver_confirm",
        user=ALICE,
        value="42",
        trigger_id="1.2.abc",
        channel=GENERAL,
        message_ts="1700000000.000100",
        thread_ts="1699999999.000100",
    )

    assert payload["type"] == "block_actions"
    assert payload["actions"][0]["action_id"] == "deliver_confirm"
    assert payload["actions"][0]["value"] == "42"
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": GENERAL,
        "is_ephemeral": False,
        "thread_ts": "1699999999.000100",
    }
    assert payload["message"]["ts"] == "1700000000.000100"
    assert payload["channel"]["id"] == GENERAL


def test_block_actions_from_view():
    view = {"id": "V0VIEW", "type": "modal", "state": {"values": {}}}

    payload = payloads.block_actions("pick", user=ALICE, trigger_id="1.2.abc", view=view)

    assert payload["container"] == {"type": "view", "view_id": "V0VIEW"}
    assert payload["view"] is view
    assert "message" not in payload


def test_view_submission():
    values = {"note": {"text": {"type": "plain_text_input", "value": "hi"}}}

    payload = payloads.view_submission(
        "deliver_modal",
        user=ALICE,
        values=values,
        private_metadata="draft-7",
        view_id="V0VIEW",
        trigger_id="1.2.abc",
        hash="1700000000.abcdef12",
    )

    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "deliver_modal"
    assert payload["view"]["state"] == {"values": values}
    assert payload["view"]["private_metadata"] == "draft-7"
    assert payload["view"]["hash"] == "1700000000.abcdef12"


def test_submission_of_a_double_view():
    with SlackDouble() as double:
        client = WebClient(token=double.bot_token, base_url=double.base_url)
        view = {
            "type": "modal",
            "callback_id": "ask",
            "private_metadata": "42",
            "title": {"type": "plain_text", "text": "Ask"},
            "blocks": [{"type": "divider"}],
        }
        opened = client.views_open(trigger_id=double.issue_trigger_id(), view=view)["view"]

    payload = payloads.submission_of(opened, user=ALICE, values={}, trigger_id="1.2.abc")

    assert payload["view"]["id"] == opened["id"]
    assert payload["view"]["hash"] == opened["hash"]
    assert payload["view"]["callback_id"] == "ask"
    assert payload["view"]["private_metadata"] == "42"


def test_message_shortcut():
    payload = payloads.message_shortcut(
        "deliver_shortcut",
        user=ALICE,
        channel=GENERAL,
        message_ts="1700000000.000100",
        trigger_id="1.2.abc",
        text="candidate",
    )

    assert payload["type"] == "message_action"
    assert payload["callback_id"] == "deliver_shortcut"
    assert payload["message"]["ts"] == "1700000000.000100"
    assert payload["message"]["text"] == "candidate"
    assert payload["channel"]["id"] == GENERAL


def test_slash_command_fields_are_strings():
    fields = payloads.slash_command("/caret", "help", user=ALICE, channel=GENERAL, trigger_id="t")

    assert fields["command"] == "/caret"
    assert fields["text"] == "help"
    assert fields["user_id"] == ALICE
    assert all(isinstance(value, str) for value in fields.values())


# encode_for_http


def test_events_are_encoded_as_json():
    payload = payloads.message_event("hi", user=ALICE, channel=GENERAL)

    body, content_type = encode_for_http(payload)

    assert content_type == "application/json"
    assert json.loads(body) == payload


def test_url_verification_is_encoded_as_json():
    body, content_type = encode_for_http(payloads.url_verification("abc"))

    assert content_type == "application/json"
    assert json.loads(body) == {
        "token": payloads.VERIFICATION_TOKEN,
        "challenge": "abc",
        "type": "url_verification",
    }


def test_interactive_payloads_are_encoded_as_payload_form_field():
    payload = payloads.block_actions("go", user=ALICE, trigger_id="1.2.abc", channel=GENERAL)

    body, content_type = encode_for_http(payload)

    assert content_type == "application/x-www-form-urlencoded"
    form = parse_qs(body.decode())
    assert list(form) == ["payload"]
    assert json.loads(form["payload"][0]) == payload


def test_slash_commands_are_encoded_as_plain_form():
    fields = payloads.slash_command("/caret", "a b&c", user=ALICE, channel=GENERAL, trigger_id="t")

    body, content_type = encode_for_http(fields)

    assert content_type == "application/x-www-form-urlencoded"
    assert {key: values[0] for key, values in parse_qs(body.decode()).items()} == fields


# Signing


def test_signed_headers_verify_with_slack_sdk():
    body = b'{"type":"event_callback"}'

    headers = signed_headers(body, SECRET)

    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + b" ", headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)


def test_signed_headers_use_given_timestamp():
    old = int(time.time()) - 10 * 60

    headers = signed_headers(b"x", SECRET, timestamp=old)

    assert headers["X-Slack-Request-Timestamp"] == str(old)
    assert headers["X-Slack-Signature"].startswith("v0=")
    # Slack's verifiers reject requests more than 5 minutes old.
    assert not SignatureVerifier(SECRET).is_valid_request(b"x", headers)


class RecordingHandler(BaseHTTPRequestHandler):
    requests: list[tuple[dict, bytes]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).requests.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "2")
        self.send_header("X-Test", "recorded")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def recording_server():
    RecordingHandler.requests = []
    RecordingHandler.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()
    thread.join()


def test_post_to_bot_signs_and_sends_retry_headers(recording_server):
    payload = payloads.message_event("hi", user=ALICE, channel=GENERAL)

    status, headers, body = post_to_bot(
        recording_server, payload, SECRET, retry_num=1, retry_reason="http_timeout"
    )

    request_headers, request_body = RecordingHandler.requests[0]
    assert status == 200
    assert headers["X-Test"] == "recorded"
    assert body == b"ok"
    assert json.loads(request_body) == payload
    assert request_headers["Content-Type"] == "application/json"
    assert request_headers["X-Slack-Retry-Num"] == "1"
    assert request_headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert SignatureVerifier(SECRET).is_valid_request(request_body, request_headers)


def test_post_to_bot_returns_error_status(recording_server):
    RecordingHandler.status = 401

    status, _, body = post_to_bot(recording_server, payloads.url_verification("c"), SECRET)

    assert status == 401
    assert body == b"ok"
    assert "X-Slack-Retry-Num" not in RecordingHandler.requests[0][0]


# The builders against a real Bolt app: shapes Bolt cannot route would fail here.


@pytest.fixture
def bolt():
    with SlackDouble() as double:
        client = WebClient(token=double.bot_token, base_url=double.base_url)
        app = App(signing_secret=SECRET, client=client, process_before_response=True)
        yield app, double


def dispatch(app: App, payload: dict):
    body, content_type = encode_for_http(payload)
    headers = {"Content-Type": content_type, **signed_headers(body, SECRET)}
    return app.dispatch(BoltRequest(body=body.decode(), headers=headers))


def test_bolt_answers_url_verification(bolt):
    app, _ = bolt

    response = dispatch(app, payloads.url_verification("challenge-123"))

    assert response.status == 200
    assert json.loads(response.body) == {"challenge": "challenge-123"}


def test_bolt_rejects_bad_signature(bolt):
    app, _ = bolt
    body, content_type = encode_for_http(payloads.url_verification("c"))
    headers = {"Content-Type": content_type, **signed_headers(body, "wrong-secret")}

    response = app.dispatch(BoltRequest(body=body.decode(), headers=headers))

    assert response.status == 401


def test_bolt_routes_every_builder(bolt):
    app, double = bolt
    seen = []

    @app.message(re.compile(r"^\^deliver"))
    def on_message(message):
        seen.append(("message", message["text"]))

    @app.event("app_home_opened")
    def on_home(event):
        seen.append(("app_home_opened", event["user"]))

    @app.action("confirm")
    def on_action(ack, body):
        ack()
        seen.append(("action", body["actions"][0]["value"]))

    @app.view("deliver_modal")
    def on_submission(ack, view):
        ack()
        seen.append(("view", view["private_metadata"]))

    @app.shortcut("deliver_shortcut")
    def on_shortcut(ack, shortcut):
        ack()
        seen.append(("shortcut", shortcut["message_ts"]))

    @app.command("/caret")
    def on_command(ack, command):
        ack()
        seen.append(("command", command["text"]))

    requests = [
        payloads.message_event("^deliver now", user=ALICE, channel=GENERAL),
        payloads.app_home_opened_event(ALICE),
        payloads.block_actions(
            "confirm",
            user=ALICE,
            value="7",
            trigger_id="1.2.a",
            channel=GENERAL,
            message_ts="1700000000.000100",
        ),
        payloads.view_submission(
            "deliver_modal",
            user=ALICE,
            values={},
            private_metadata="draft-1",
            view_id="V0VIEW",
            trigger_id="1.2.a",
            hash="1.abcdef12",
        ),
        payloads.message_shortcut(
            "deliver_shortcut",
            user=ALICE,
            channel=GENERAL,
            message_ts="1700000000.000100",
            trigger_id="1.2.a",
        ),
        payloads.slash_command("/caret", "help", user=ALICE, channel=GENERAL, trigger_id="t"),
    ]
    statuses = [dispatch(app, payload).status for payload in requests]

    assert statuses == [200] * len(requests)
    assert seen == [
        ("message", "^deliver now"),
        ("app_home_opened", ALICE),
        ("action", "7"),
        ("view", "draft-1"),
        ("shortcut", "1700000000.000100"),
        ("command", "help"),
    ]
    assert double.calls_to("auth.test")[0].ok is True
