"""The App Home end to end: an agent's queue, a recruiter's hand-offs, rebuilds after changes."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot import ids
from bot.app import build_web_client
from bot.home_refresh import HomeRefresher
from bot.slackdouble.payloads import app_home_opened_event, block_actions, message_event, new_ts
from bot.slackdouble.validation import HOME, view_problems
from bot.threads import ThreadRef
from bot.views.home import AGING_MARK, FRESH_MARK, HOME_MAX_BLOCKS, OLD_MARK
from storage.claims import set_autoclaim
from storage.contacts import link_conversation
from storage.models import Contact, Conversation, utcnow
from storage.queue import recent_home_viewers, record_home_opened
from storage.settings import put_setting
from tests.e2e.test_recording import CANDIDATE, add_contact, reply, start_thread
from tests.support import (
    AGENT,
    CHANNEL,
    OTHER_AGENT,
    TEAM,
    DeliverDriver,
    deliver_through,
    seed_contact,
    settle_outbox,
    step1_state,
    step2_state,
)

RECRUITER = "U0RECRUIT"
ALL_WEEK = {
    "time_zone": "UTC",
    "weekly": {
        day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    },
}


@pytest.fixture
def recruiter(slack):
    slack.add_user(RECRUITER, "rita", real_name="Rita Recruiter", email="rita@example.com")
    return RECRUITER


@pytest.fixture
def contact(bot, slack):
    slack.add_user(CANDIDATE, "cara", real_name="Cara Candidate")
    add_contact(bot)


def open_home(bot, user):
    return bot.post_and_settle(app_home_opened_event(user, team=TEAM))


def publishes_to(slack, user):
    return [c for c in slack.calls_to("views.publish") if c.args.get("user_id") == user]


def home_of(slack, user):
    """Return the user's last published home, checked as Slack would."""
    [*_, call] = publishes_to(slack, user)
    assert call.ok, call.error
    view = call.response["view"]
    assert view_problems({"type": "home", "blocks": view["blocks"]}, view_type=HOME) == []
    return view


def row_texts(view):
    return [
        block["text"]["text"]
        for block in view["blocks"]
        if block["type"] == "section" and "<http" in block["text"]["text"]
    ]


def contact_writes(bot, slack, text="Hello, any news?"):
    """Start a thread as the contact; return the thread ts."""
    return start_thread(bot, slack, text, user=CANDIDATE)


def link_contact(bot, root):
    with bot.session_scope() as session:
        [contact_id] = session.execute(sa.select(Contact.id)).scalars()
        link_conversation(
            session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=root, contact_id=contact_id
        )


def set_waiting_since(bot, root, delta):
    with bot.session_scope() as session:
        session.execute(
            sa.update(Conversation)
            .where(Conversation.thread_ts == root)
            .values(unread=True, unread_since=utcnow() - delta)
        )


def test_agent_home_lists_waiting_conversations(bot, slack, contact):
    older = contact_writes(bot, slack, "First question")
    newer = contact_writes(bot, slack, "Second question")
    set_waiting_since(bot, older, timedelta(hours=3))
    link_contact(bot, older)

    assert open_home(bot, AGENT) == 200

    view = home_of(slack, AGENT)
    rows = row_texts(view)
    assert len(rows) == 2
    assert f"p{older.replace('.', '')}" in rows[0]
    assert f"p{newer.replace('.', '')}" in rows[1]
    assert f"thread_ts={older}&amp;cid={CHANNEL}" in rows[0]
    assert "Cara Candidate" in rows[0]
    assert "Contact not linked" in rows[1]
    body = json.dumps(view)
    assert "*Unclaimed* (2)" in body
    assert "*Claimed by you*: none waiting." in body
    assert "Waits count working hours" in body
    assert "`^claim` make this conversation yours" in body


def test_home_groups_claimed_by_me_and_hides_others(bot, slack, contact):
    mine = contact_writes(bot, slack)
    theirs = contact_writes(bot, slack)
    contact_writes(bot, slack)
    reply(bot, mine, "^claim", user=AGENT)
    reply(bot, theirs, "^claim", user=OTHER_AGENT)

    open_home(bot, AGENT)

    body = json.dumps(home_of(slack, AGENT))
    assert "*Claimed by you* (1)" in body
    assert "*Unclaimed* (1)" in body
    assert "1 conversation claimed by others also wait" in body
    assert f"p{theirs.replace('.', '')}" not in body


def test_home_records_the_visit(bot, slack):
    open_home(bot, AGENT)

    with bot.session_scope() as session:
        viewers = recent_home_viewers(
            session, workspace_id=TEAM, since=utcnow() - timedelta(minutes=1)
        )
    assert viewers == {AGENT}


def test_messages_tab_publishes_nothing(bot, slack):
    bot.post_and_settle(app_home_opened_event(AGENT, team=TEAM, tab="messages"))

    assert slack.calls_to("views.publish") == []


def test_long_queue_fits_one_home(bot, slack, contact):
    roots = [new_ts() for _ in range(130)]
    for root in roots:
        slack.add_message(CHANNEL, root, CANDIDATE, "Hello")
        bot.post(message_event("Hello", user=CANDIDATE, channel=CHANNEL, ts=root))
    bot.executor.wait_idle()

    open_home(bot, AGENT)

    view = home_of(slack, AGENT)
    assert len(view["blocks"]) <= HOME_MAX_BLOCKS
    rows = row_texts(view)
    assert 0 < len(rows) < 130
    assert f"p{roots[0].replace('.', '')}" in rows[0]
    assert f"{130 - len(rows)} more conversations wait" in json.dumps(view)


def test_age_marks_follow_working_hours_wait(bot, slack, contact):
    with bot.session_scope() as session:
        put_setting(session, TEAM, "working_hours", ALL_WEEK, updated_by=None)
    waits = [timedelta(hours=2), timedelta(hours=13), timedelta(hours=25)]
    roots = [contact_writes(bot, slack) for _ in waits]
    for root, wait in zip(roots, waits, strict=True):
        set_waiting_since(bot, root, wait)

    open_home(bot, AGENT)

    rows = row_texts(home_of(slack, AGENT))
    assert rows[0].startswith(OLD_MARK)
    assert "waiting 1 d 1 h" in rows[0]
    assert rows[1].startswith(AGING_MARK)
    assert rows[2].startswith(FRESH_MARK)


def test_age_mark_counts_working_hours_not_clock(bot, slack, contact):
    # No working time on any day, so a day on the clock is no working wait at all.
    with bot.session_scope() as session:
        put_setting(
            session, TEAM, "working_hours", {"time_zone": "UTC", "weekly": {}}, updated_by=None
        )
    root = contact_writes(bot, slack)
    set_waiting_since(bot, root, timedelta(hours=30))

    open_home(bot, AGENT)

    [row] = row_texts(home_of(slack, AGENT))
    assert row.startswith(FRESH_MARK)
    assert "waiting 0 min" in row


def test_contact_message_rebuilds_open_homes(bot, slack, contact):
    open_home(bot, AGENT)
    open_home(bot, OTHER_AGENT)
    slack.reset()

    root = contact_writes(bot, slack)

    for user in (AGENT, OTHER_AGENT):
        assert len(publishes_to(slack, user)) == 1
        assert f"p{root.replace('.', '')}" in json.dumps(home_of(slack, user))


def test_burst_of_contact_messages_rebuilds_once(bot, slack, contact):
    open_home(bot, AGENT)
    slack.reset()

    for _ in range(10):
        root = new_ts()
        slack.add_message(CHANNEL, root, CANDIDATE, "Hello")
        bot.post(message_event("Hello", user=CANDIDATE, channel=CHANNEL, ts=root))
    bot.executor.wait_idle()

    assert len(publishes_to(slack, AGENT)) == 1
    assert "*Unclaimed* (10)" in json.dumps(home_of(slack, AGENT))


def test_home_not_rebuilt_for_users_who_never_opened_it(bot, slack, contact):
    open_home(bot, AGENT)
    slack.reset()

    contact_writes(bot, slack)

    assert len(publishes_to(slack, AGENT)) == 1
    assert publishes_to(slack, OTHER_AGENT) == []


def test_agent_reply_rebuilds_home(bot, slack, contact):
    root = contact_writes(bot, slack)
    open_home(bot, AGENT)
    slack.reset()

    reply(bot, root, "Thanks, we will call you tomorrow", user=AGENT)

    assert len(publishes_to(slack, AGENT)) == 1
    assert row_texts(home_of(slack, AGENT)) == []


def test_autoclaim_reply_rebuilds_everyone(bot, slack, contact):
    with bot.session_scope() as session:
        set_autoclaim(session, TEAM, AGENT, True, updated_by=AGENT)
    root = contact_writes(bot, slack)
    open_home(bot, AGENT)
    open_home(bot, OTHER_AGENT)
    slack.reset()

    reply(bot, root, "Hi Cara, I will look after you", user=AGENT)

    for user in (AGENT, OTHER_AGENT):
        assert len(publishes_to(slack, user)) == 1
        assert row_texts(home_of(slack, user)) == []


def test_claim_rebuilds_homes_of_everyone_who_saw_it(bot, slack, contact):
    root = contact_writes(bot, slack)
    open_home(bot, AGENT)
    open_home(bot, OTHER_AGENT)
    slack.reset()

    reply(bot, root, "^claim", user=AGENT)

    assert "*Claimed by you* (1)" in json.dumps(home_of(slack, AGENT))
    other = json.dumps(home_of(slack, OTHER_AGENT))
    assert "*Unclaimed*: none waiting." in other
    assert "1 conversation claimed by others also wait" in other


def test_take_over_rebuilds_both_holders(bot, slack, contact):
    root = contact_writes(bot, slack)
    reply(bot, root, "^claim", user=OTHER_AGENT)
    open_home(bot, AGENT)
    open_home(bot, OTHER_AGENT)
    reply(bot, root, "^claim", user=AGENT)
    [*_, offer] = slack.calls_to("chat.postEphemeral")
    button = offer.args["blocks"][-1]["elements"][0]
    slack.reset()

    bot.post_and_settle(
        block_actions(
            ids.CLAIM_TAKE_OVER,
            user=AGENT,
            value=button["value"],
            trigger_id=slack.issue_trigger_id(user_id=AGENT),
            channel=CHANNEL,
        )
    )

    assert "*Claimed by you* (1)" in json.dumps(home_of(slack, AGENT))
    assert "*Claimed by you*: none waiting." in json.dumps(home_of(slack, OTHER_AGENT))


def test_claim_of_answered_conversation_rebuilds_nothing(bot, slack, contact):
    root = contact_writes(bot, slack)
    reply(bot, root, "Hi Cara", user=AGENT)
    open_home(bot, AGENT)
    slack.reset()

    reply(bot, root, "^claim", user=AGENT)

    assert publishes_to(slack, AGENT) == []


def test_read_rebuilds_home(bot, slack, contact):
    root = contact_writes(bot, slack)
    open_home(bot, AGENT)
    slack.reset()

    reply(bot, root, "^read", user=OTHER_AGENT)

    assert len(publishes_to(slack, AGENT)) == 1
    assert row_texts(home_of(slack, AGENT)) == []


def deliver_to_recruiter(bot, slack, root):
    _contact_id, [application_id] = seed_contact(bot, root)
    step1 = step1_state(
        "qualified", application=f"app:{application_id}", notes="Strong SQL", rating=4
    )
    _step2, response = deliver_through(
        DeliverDriver(bot, slack), root, step1, step2_state(RECRUITER)
    )
    assert response == {"response_action": "clear"}


def test_recruiter_home_lists_handoffs(bot, slack, recruiter):
    first, second = new_ts(), new_ts()
    deliver_to_recruiter(bot, slack, first)
    deliver_to_recruiter(bot, slack, second)

    open_home(bot, RECRUITER)

    view = home_of(slack, RECRUITER)
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers[1] == "Hand-offs to you (2 to accept)"
    rows = row_texts(view)
    assert f"p{second.replace('.', '')}" in rows[0]
    assert f"p{first.replace('.', '')}" in rows[1]
    assert "Casey Candidate" in rows[0]
    assert "Qualified ★★★★☆" in rows[0]
    assert "Not accepted yet" in rows[0]


def test_delivery_rebuilds_recipient_home(bot, slack, recruiter):
    open_home(bot, RECRUITER)
    slack.reset()

    deliver_to_recruiter(bot, slack, new_ts())

    assert len(publishes_to(slack, RECRUITER)) == 1
    assert "Hand-offs to you (1 to accept)" in json.dumps(home_of(slack, RECRUITER))


def test_acceptance_rebuilds_home_and_moves_row_down(bot, slack, recruiter):
    first, second = new_ts(), new_ts()
    deliver_to_recruiter(bot, slack, first)
    deliver_to_recruiter(bot, slack, second)
    settle_outbox(bot)
    open_home(bot, RECRUITER)
    [dm, *_] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == RECRUITER]
    [button] = [
        element
        for block in dm.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ids.DELIVER_ACCEPT
    ]
    slack.reset()

    bot.post_and_settle(
        block_actions(
            ids.DELIVER_ACCEPT,
            user=RECRUITER,
            value=button["value"],
            trigger_id=slack.issue_trigger_id(user_id=RECRUITER),
            channel=dm.response["channel"],
            message_ts=dm.response["ts"],
        )
    )

    assert len(publishes_to(slack, RECRUITER)) == 1
    view = home_of(slack, RECRUITER)
    rows = row_texts(view)
    assert "Hand-offs to you (1 to accept)" in json.dumps(view)
    assert "Not accepted yet" in rows[0]
    assert f"Accepted by <@{RECRUITER}>" in rows[1]


def test_refresher_thread_rebuilds_without_flush(bot, slack, contact):
    root = contact_writes(bot, slack)
    with bot.session_scope() as session:
        record_home_opened(session, workspace_id=TEAM, user_id=AGENT)
    home = HomeRefresher(bot.session_scope, build_web_client(bot.settings), delay=0.05)
    slack.reset()

    try:
        home.thread_changed(ThreadRef(TEAM, CHANNEL, root), waiting_changed=True)
        home.thread_changed(ThreadRef(TEAM, CHANNEL, root), waiting_changed=True)
        [call] = slack.wait_for("views.publish")
    finally:
        home.stop()

    assert call.args["user_id"] == AGENT
    assert f"p{root.replace('.', '')}" in json.dumps(call.response["view"])
    assert len(slack.calls_to("views.publish")) == 1
