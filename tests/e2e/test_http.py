"""The HTTP surface: signature checks, URL verification, the health check, error ids."""

import http.client
import json
import logging
import time
import urllib.request

import pytest

from bot.slackdouble.payloads import encode_for_http, message_event, new_ts, url_verification
from bot.slackdouble.signing import post_to_bot
from tests.support import AGENT, CHANNEL


def test_bad_signature_is_rejected(bot, slack):
    status, _headers, _body = post_to_bot(
        bot.events_url, message_event("^help", user=AGENT, channel=CHANNEL), "not-the-secret"
    )
    bot.executor.wait_idle()

    assert status == 401
    assert slack.calls == []


def test_old_timestamp_is_rejected(bot, slack):
    six_minutes_ago = int(time.time()) - 6 * 60

    status = bot.post_and_settle(
        message_event("^help", user=AGENT, channel=CHANNEL), timestamp=six_minutes_ago
    )

    assert status == 401
    assert slack.calls == []


def test_recent_timestamp_is_accepted(bot, slack):
    four_minutes_ago = int(time.time()) - 4 * 60

    status = bot.post_and_settle(
        message_event("^help", user=AGENT, channel=CHANNEL), timestamp=four_minutes_ago
    )

    assert status == 200
    assert len(slack.calls_to("chat.postEphemeral")) == 1


def test_url_verification_echoes_challenge(bot):
    status, _headers, body = bot.post(
        url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    )

    assert status == 200
    assert b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in body


def test_healthz_reports_database(bot):
    with urllib.request.urlopen(f"{bot.server.url}/healthz", timeout=5) as response:
        status, body = response.status, json.loads(response.read())

    assert status == 200
    assert body == {"ok": True, "database": "ok"}


def test_failure_shows_error_id_in_message_and_log(bot, slack, caplog):
    slack.fail_next("chat.postEphemeral", status=200, error="channel_not_found")
    caplog.set_level(logging.INFO)

    bot.post_and_settle(message_event("^help", user=AGENT, channel=CHANNEL, thread_ts=new_ts()))

    attempts = slack.calls_to("chat.postEphemeral")
    assert len(attempts) == 2
    apology = attempts[1].args["text"]
    assert "something went wrong" in apology
    error_id = apology.split("`")[1]
    failures = [r for r in caplog.records if "handler failed" in r.getMessage()]
    assert len(failures) == 1
    assert f"error_id={error_id}" in failures[0].getMessage()
    assert f"user={AGENT}" in failures[0].getMessage()


def test_info_logs_carry_ids_not_text(bot, slack, caplog):
    caplog.set_level(logging.INFO)
    secret_text = "my salary expectation is 90k"

    bot.post_and_settle(
        message_event(f"^note {secret_text}", user=AGENT, channel=CHANNEL, thread_ts=new_ts())
    )

    handled = [r.getMessage() for r in caplog.records if r.getMessage().startswith("handled")]
    assert len(handled) == 1
    assert "command=note" in handled[0]
    assert f"channel={CHANNEL}" in handled[0]
    assert "team=T0DOUBLE" in handled[0]
    for record in caplog.records:
        if record.levelno >= logging.INFO:
            assert "90k" not in record.getMessage()


@pytest.mark.parametrize("path", ["/slack/events"])
def test_get_on_events_is_not_allowed(bot, path):
    request = urllib.request.Request(f"{bot.server.url}{path}", method="GET")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)

    assert raised.value.code == 405


@pytest.mark.parametrize("timestamp", ["x", "", "12.5", "-1"])
def test_malformed_timestamp_is_rejected_quietly(bot, slack, timestamp):
    body, content_type = encode_for_http(
        message_event("^help", user="U0VICTIM", channel="C0ANY", thread_ts=new_ts())
    )
    request = urllib.request.Request(
        bot.events_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    bot.executor.wait_idle()

    assert raised.value.code == 401
    assert slack.calls == []


def test_rejected_body_is_not_logged(bot, caplog):
    caplog.set_level(logging.DEBUG)
    secret_text = "candidate salary 120k"

    status, _headers, _body = post_to_bot(
        bot.events_url,
        message_event(f"^note {secret_text}", user=AGENT, channel=CHANNEL),
        "wrong-secret",
    )

    assert status == 401
    assert "120k" not in caplog.text


def test_oversized_body_is_refused(bot, slack):
    # The headers announce 1.1 MB; the bot answers before reading any of it, so the client
    # sends none (writing it would race the closed connection).
    connection = http.client.HTTPConnection(bot.server.host, bot.server.port, timeout=5)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", "1100000")
    connection.endheaders()

    status = connection.getresponse().status
    connection.close()
    bot.executor.wait_idle()

    assert status == 413
    assert slack.calls == []
