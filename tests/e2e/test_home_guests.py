"""The App Home of viewers outside the team: Slack guests and contacts see no queue."""

import json

import pytest

from bot.slackdouble.payloads import new_ts
from tests.e2e.test_home import (
    RECRUITER,
    contact_writes,
    deliver_to_recruiter,
    home_of,
    open_home,
    publishes_to,
    row_texts,
)
from tests.e2e.test_recording import CANDIDATE, add_contact, reply
from tests.support import AGENT, CHANNEL, OTHER_AGENT

GUEST = "U0GUEST"
SINGLE_CHANNEL_GUEST = "U0GUEST1"


@pytest.fixture
def outsiders(bot, slack):
    """Add a guest, a single-channel guest and a contact who is a Slack user."""
    slack.add_user(GUEST, "gus", real_name="Gus Guest", is_restricted=True)
    slack.add_user(SINGLE_CHANNEL_GUEST, "una", real_name="Una Guest", is_ultra_restricted=True)
    slack.add_user(CANDIDATE, "cara", real_name="Cara Candidate")
    add_contact(bot)
    return [GUEST, SINGLE_CHANNEL_GUEST, CANDIDATE]


def assert_no_queue(view, roots):
    body = json.dumps(view)
    assert "Waiting for the team" not in body
    assert "Unclaimed" not in body
    assert "Claimed by you" not in body
    assert "claimed by others" not in body
    assert f"<#{CHANNEL}>" not in body
    for root in roots:
        assert f"p{root.replace('.', '')}" not in body


def test_outsiders_see_no_queue_on_open(bot, slack, outsiders):
    roots = [contact_writes(bot, slack), contact_writes(bot, slack)]
    reply(bot, roots[1], "^claim", user=OTHER_AGENT)

    for user in [AGENT, *outsiders]:
        open_home(bot, user)

    assert "*Unclaimed* (1)" in json.dumps(home_of(slack, AGENT))
    for user in outsiders:
        view = home_of(slack, user)
        assert_no_queue(view, roots)
        assert row_texts(view) == []
        body = json.dumps(view)
        assert "Conversations delivered to you appear here." in body
        assert "Commands" not in body
        assert "^claim" not in body


def test_outsiders_see_no_queue_after_rebuild(bot, slack, outsiders):
    for user in [AGENT, *outsiders]:
        open_home(bot, user)
    slack.reset()

    root = contact_writes(bot, slack)

    assert f"p{root.replace('.', '')}" in json.dumps(home_of(slack, AGENT))
    for user in outsiders:
        assert len(publishes_to(slack, user)) == 1
        view = home_of(slack, user)
        assert_no_queue(view, [root])
        assert row_texts(view) == []


def test_guest_recipient_sees_handoff(bot, slack, outsiders):
    slack.add_user(RECRUITER, "rita", real_name="Rita Recruiter", is_restricted=True)
    waiting = contact_writes(bot, slack)
    delivered = new_ts()
    deliver_to_recruiter(bot, slack, delivered)

    open_home(bot, RECRUITER)

    view = home_of(slack, RECRUITER)
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers == ["caretbot", "Hand-offs to you (1 to accept)"]
    [row] = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert f"p{delivered.replace('.', '')}" in row
    assert "Casey Candidate" in row
    assert "Not accepted yet" in row
    assert f"p{waiting.replace('.', '')}" not in json.dumps(view)


def test_guest_recipient_rebuild_keeps_handoff_only(bot, slack, outsiders):
    slack.add_user(RECRUITER, "rita", real_name="Rita Recruiter", is_ultra_restricted=True)
    open_home(bot, RECRUITER)
    slack.reset()

    delivered = new_ts()
    deliver_to_recruiter(bot, slack, delivered)
    waiting = contact_writes(bot, slack)

    view = home_of(slack, RECRUITER)
    body = json.dumps(view)
    assert "Hand-offs to you (1 to accept)" in body
    assert f"p{delivered.replace('.', '')}" in body
    assert_no_queue(view, [waiting])


def test_profile_read_once_per_viewer(bot, slack, outsiders):
    open_home(bot, GUEST)
    contact_writes(bot, slack)
    open_home(bot, GUEST)

    calls = [c for c in slack.calls_to("users.info") if c.args.get("user") == GUEST]
    assert len(calls) == 1


def test_unknown_profile_hides_queue(bot, slack, outsiders):
    root = contact_writes(bot, slack)
    slack.fail_next("users.info", status=200, error="user_not_found")

    open_home(bot, AGENT)

    view = home_of(slack, AGENT)
    assert_no_queue(view, [root])
    assert "Conversations delivered to you appear here." in json.dumps(view)


def test_agent_queue_returns_after_profile_error(bot, slack, outsiders):
    root = contact_writes(bot, slack)
    slack.fail_next("users.info", status=200, error="user_not_found")
    open_home(bot, AGENT)

    open_home(bot, AGENT)

    assert f"p{root.replace('.', '')}" in json.dumps(home_of(slack, AGENT))
