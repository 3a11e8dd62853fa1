"""^deliver end to end: each kind of recipient, Accept on hand-off cards, and the export."""

import io
import json
import threading

import pytest

from bot import ids as v
from bot.records import export_deliveries
from bot.slackdouble.payloads import block_actions, new_ts
from storage.outbox import list_messages
from storage.teams import add_team
from tests.support import (
    AGENT,
    CHANNEL,
    TEAM,
    DeliverDriver,
    deliver_through,
    seed_contact,
    settle_outbox,
    step1_state,
    step2_state,
    stored_deliveries,
)

RECRUITER = "U0RECRUIT"
MEMBER_A = "U0MEMBERA"
MEMBER_B = "U0MEMBERB"
TEAM_CHANNEL = "C0HIRING"


@pytest.fixture
def people(slack):
    slack.add_user(RECRUITER, "rita", real_name="Rita Recruiter", email="rita@example.com")
    slack.add_user(MEMBER_A, "alex", real_name="Alex Member", email="alex@example.com")
    slack.add_user(MEMBER_B, "blake", real_name="Blake Member", email="blake@example.com")


def deliver_qualified(bot, slack, root, step2):
    _contact_id, [application_id] = seed_contact(bot, root)
    step1 = step1_state(
        "qualified", application=f"app:{application_id}", notes="Strong SQL", rating=4
    )
    _step2, response = deliver_through(DeliverDriver(bot, slack), root, step1, step2)
    assert response == {"response_action": "clear"}


def posts_to(slack, channel, count=1):
    calls = slack.wait_for(
        "chat.postMessage", count, where=lambda c: c.args.get("channel") == channel
    )
    for call in calls:
        assert call.ok, call.error
    return calls


def blocks_of(call):
    return call.args["blocks"]


def accept_button(call):
    buttons = [
        element
        for block in blocks_of(call)
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    [button] = [b for b in buttons if b["action_id"] == v.DELIVER_ACCEPT]
    return button


def click_accept(bot, slack, user, card):
    button = accept_button(card)
    return bot.post_and_settle(
        block_actions(
            v.DELIVER_ACCEPT,
            user=user,
            value=button["value"],
            trigger_id=slack.issue_trigger_id(user_id=user),
            channel=card.response["channel"],
            message_ts=card.response["ts"],
        )
    )


def ephemerals_to(slack, user):
    return [call for call in slack.calls_to("chat.postEphemeral") if call.args.get("user") == user]


def is_agent_notice(call):
    """Return whether a call is an outbox notice to the agent, not the offer ^deliver posts."""
    return call.args.get("user") == AGENT and "blocks" not in call.args


def agent_notices(slack, count=1):
    return slack.wait_for("chat.postEphemeral", count, where=is_agent_notice)


def create_team(bot, name, members, channel_id=None):
    with bot.session_scope() as session:
        return add_team(
            session, workspace_id=TEAM, name=name, members=members, channel_id=channel_id
        ).id


def test_slack_user_gets_dm_with_link_and_accept(bot, slack, people):
    root = new_ts()

    deliver_qualified(bot, slack, root, step2_state(RECRUITER))
    [dm] = posts_to(slack, RECRUITER)
    settle_outbox(bot)

    [(delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    [permalink_call] = slack.calls_to("chat.getPermalink")
    assert permalink_call.args["channel"] == CHANNEL
    assert permalink_call.args["message_ts"] == root
    permalink = permalink_call.response["permalink"]
    assert f"<{permalink}|View the thread>" in json.dumps(blocks_of(dm))
    assert accept_button(dm)["value"] == str(recipient.id)
    assert dm.response["channel"] == slack.dm_channel_id(RECRUITER)
    assert (recipient.kind, recipient.user_id, recipient.state) == ("user", RECRUITER, "notified")


def test_recruiter_accept_updates_card(bot, slack, people):
    root = new_ts()
    deliver_qualified(bot, slack, root, step2_state(RECRUITER))
    [dm] = posts_to(slack, RECRUITER)

    status = click_accept(bot, slack, RECRUITER, dm)
    [update] = slack.wait_for("chat.update")
    settle_outbox(bot)

    assert status == 200
    assert update.ok, update.error
    assert (update.args["channel"], update.args["ts"]) == (
        dm.response["channel"],
        dm.response["ts"],
    )
    assert f"Accepted by <@{RECRUITER}>" in json.dumps(update.args["blocks"])
    assert v.DELIVER_ACCEPT not in json.dumps(update.args["blocks"])
    [(_delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    assert recipient.accepted_by == RECRUITER
    assert recipient.accepted_at is not None
    assert ephemerals_to(slack, RECRUITER) == []


def test_team_with_channel_gets_card_there(bot, slack, people):
    slack.add_channel(TEAM_CHANNEL, "hiring", members=[MEMBER_A, MEMBER_B])
    team_id = create_team(bot, "Data Hiring", [MEMBER_A, MEMBER_B], channel_id=TEAM_CHANNEL)
    root = new_ts()

    deliver_qualified(bot, slack, root, step2_state(team_ids=[team_id]))
    [card] = posts_to(slack, TEAM_CHANNEL)
    [thread_card] = posts_to(slack, CHANNEL)
    settle_outbox(bot)

    [(_delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    assert (recipient.kind, recipient.team_id, recipient.state) == ("team", team_id, "notified")
    assert "to the Data Hiring team" in json.dumps(blocks_of(card))
    assert accept_button(card)["value"] == str(recipient.id)
    assert "the Data Hiring team" in json.dumps(blocks_of(thread_card))
    dms = [
        c for c in slack.calls_to("chat.postMessage") if c.args["channel"] in (MEMBER_A, MEMBER_B)
    ]
    assert dms == []


def test_team_without_channel_first_accept_wins(bot, slack, people):
    team_id = create_team(bot, "Night Shift", [MEMBER_A, MEMBER_B])
    root = new_ts()
    deliver_qualified(bot, slack, root, step2_state(team_ids=[team_id]))
    [dm_a] = posts_to(slack, MEMBER_A)
    [dm_b] = posts_to(slack, MEMBER_B)
    settle_outbox(bot)
    assert accept_button(dm_a)["value"] == accept_button(dm_b)["value"]

    first = click_accept(bot, slack, MEMBER_B, dm_b)
    updates = slack.wait_for("chat.update", 2)
    settle_outbox(bot)
    second = click_accept(bot, slack, MEMBER_A, dm_a)

    assert (first, second) == (200, 200)
    [(_delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    assert recipient.accepted_by == MEMBER_B
    assert recipient.state == "notified"
    updated = {(u.args["channel"], u.args["ts"]) for u in updates}
    assert updated == {
        (dm_a.response["channel"], dm_a.response["ts"]),
        (dm_b.response["channel"], dm_b.response["ts"]),
    }
    for update in updates:
        assert update.ok, update.error
        blocks = json.dumps(update.args["blocks"])
        assert f"Accepted by <@{MEMBER_B}> for the Night Shift team" in blocks
        assert v.DELIVER_ACCEPT not in blocks
    [told] = ephemerals_to(slack, MEMBER_A)
    assert told.ok, told.error
    assert told.args["channel"] == dm_a.response["channel"]
    assert told.args["text"].startswith(f"<@{MEMBER_B}> accepted this hand-off already")
    assert ephemerals_to(slack, MEMBER_B) == []
    assert len(slack.calls_to("chat.update")) == 2


def test_team_member_deactivated_others_notified(bot, slack, people):
    slack.add_user(MEMBER_B, "blake", real_name="Blake Member", deleted=True)
    team_id = create_team(bot, "Night Shift", [MEMBER_A, MEMBER_B])
    root = new_ts()

    deliver_qualified(bot, slack, root, step2_state(team_ids=[team_id]))
    posts_to(slack, MEMBER_A)
    [notice] = agent_notices(slack)
    settle_outbox(bot)

    [(_delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    assert recipient.state == "notified"
    assert f"<@{MEMBER_B}>" in notice.args["text"]
    assert "account_inactive" in notice.args["text"]
    assert [c.args["channel"] for c in slack.calls_to("chat.postMessage")].count(MEMBER_B) == 0


def test_team_all_members_deactivated_unreachable(bot, slack, people):
    slack.add_user(MEMBER_A, "alex", real_name="Alex Member", deleted=True)
    slack.add_user(MEMBER_B, "blake", real_name="Blake Member", deleted=True)
    team_id = create_team(bot, "Night Shift", [MEMBER_A, MEMBER_B])
    root = new_ts()

    deliver_qualified(bot, slack, root, step2_state(team_ids=[team_id]))
    notices = agent_notices(slack, 2)
    settle_outbox(bot)

    [(_delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    assert recipient.state == "unreachable"
    assert recipient.error == "account_inactive"
    texts = sorted(notice.args["text"] for notice in notices)
    assert f"<@{MEMBER_A}>" in texts[0]
    assert f"<@{MEMBER_B}>" in texts[1]


def test_team_channel_without_bot_unreachable(bot, slack, people):
    slack.add_channel(TEAM_CHANNEL, "hiring", members=[MEMBER_A], bot_is_member=False)
    team_id = create_team(bot, "Data Hiring", [MEMBER_A], channel_id=TEAM_CHANNEL)
    root = new_ts()

    deliver_qualified(bot, slack, root, step2_state(team_ids=[team_id]))
    [notice] = agent_notices(slack)
    settle_outbox(bot)

    [attempt] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == TEAM_CHANNEL]
    assert attempt.error == "not_in_channel"
    [(_delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    assert (recipient.state, recipient.error) == ("unreachable", "not_in_channel")
    assert (
        f"could not send the hand-off to <#{TEAM_CHANNEL}> (not_in_channel)" in notice.args["text"]
    )


def test_team_members_accept_at_once_one_wins(bot, slack, people):
    team_id = create_team(bot, "Night Shift", [MEMBER_A, MEMBER_B])
    root = new_ts()
    deliver_qualified(bot, slack, root, step2_state(team_ids=[team_id]))
    cards = {MEMBER_A: posts_to(slack, MEMBER_A)[0], MEMBER_B: posts_to(slack, MEMBER_B)[0]}
    settle_outbox(bot)
    start = threading.Barrier(2)

    def click(user):
        start.wait(timeout=5)
        click_accept(bot, slack, user, cards[user])

    threads = [threading.Thread(target=click, args=(user,)) for user in cards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    bot.executor.wait_idle()
    slack.wait_for("chat.update", 2)
    settle_outbox(bot)

    [(_delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    owner = recipient.accepted_by
    [loser] = [user for user in cards if user != owner]
    [told] = ephemerals_to(slack, loser)
    assert told.args["text"].startswith(f"<@{owner}> accepted this hand-off already")
    assert ephemerals_to(slack, owner) == []
    updates = slack.calls_to("chat.update")
    assert len(updates) == 2
    for update in updates:
        assert f"Accepted by <@{owner}>" in json.dumps(update.args["blocks"])


def test_email_of_slack_user_gets_dm(bot, slack, people):
    root = new_ts()

    deliver_qualified(bot, slack, root, step2_state(emails="Rita@Example.com"))
    [dm] = posts_to(slack, RECRUITER)
    settle_outbox(bot)

    [lookup] = slack.calls_to("users.lookupByEmail")
    assert lookup.args["email"] == "rita@example.com"
    assert lookup.ok, lookup.error
    [(_delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    assert recipient.kind == "email"
    assert recipient.email == "rita@example.com"
    assert recipient.user_id == RECRUITER
    assert recipient.state == "notified"
    assert accept_button(dm)["value"] == str(recipient.id)
    assert [call for call in slack.calls_to("chat.postEphemeral") if is_agent_notice(call)] == []


def test_email_of_nobody_kept_pending(bot, slack, people):
    root = new_ts()

    deliver_qualified(bot, slack, root, step2_state(emails="outside@agency.example"))
    [notice] = agent_notices(slack)
    settle_outbox(bot)

    [(_delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    assert (recipient.kind, recipient.email) == ("email", "outside@agency.example")
    assert recipient.user_id is None
    assert recipient.state == "pending_email"
    assert notice.ok, notice.error
    assert (notice.args["channel"], notice.args["thread_ts"]) == (CHANNEL, root)
    assert "outside@agency.example is not in this Slack workspace" in notice.args["text"]
    hand_offs = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] != CHANNEL]
    assert hand_offs == []


def test_deactivated_user_unreachable_agent_told(bot, slack, people):
    slack.add_user("U0GONE", "gone", real_name="Gone User", deleted=True)
    root = new_ts()

    deliver_qualified(bot, slack, root, step2_state("U0GONE"))
    [notice] = agent_notices(slack)
    settle_outbox(bot)

    [(delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    assert recipient.state == "unreachable"
    assert recipient.error == "account_inactive"
    assert notice.ok, notice.error
    assert "could not send the hand-off to <@U0GONE> (account_inactive)" in notice.args["text"]
    assert [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0GONE"] == []
    with bot.session_scope() as session:
        states = {(m.kind, m.state) for m in list_messages(session, delivery.id)}
    assert ("handoff_dm", "failed") in states
    assert ("agent_notice", "sent") in states


def test_export_lists_each_recipient(bot, slack, people):
    team_id = create_team(bot, "Night Shift", [MEMBER_A])
    root = new_ts()
    deliver_qualified(bot, slack, root, step2_state(RECRUITER, team_ids=[team_id]))
    posts_to(slack, RECRUITER)
    posts_to(slack, MEMBER_A)
    settle_outbox(bot)
    out = io.StringIO()

    count = export_deliveries(bot.session_scope, out, since=None, until=None, file_format="json")

    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == 2
    assert len(rows) == 2
    [(delivery, recipients)], conversation = stored_deliveries(bot, root)
    for row, recipient in zip(rows, recipients, strict=True):
        assert row["delivery_id"] == delivery.id
        assert row["recipient_id"] == recipient.id
        assert row["status"] == "qualified"
        assert row["rating"] == 4
        assert row["notes"] == "Strong SQL"
        assert row["delivered_by"] == AGENT
        assert row["channel_id"] == CHANNEL
        assert row["thread_ts"] == root
        assert row["conversation_id"] == conversation.id
        assert row["contact_name"] == "Casey Candidate"
        assert row["contact_email"] == "casey@example.com"
        assert row["job_title"] == "Data Engineer"
        assert row["job_location"] == "London"
        assert row["source"] == "linkedin"
        assert row["recipient_state"] == "notified"
        assert row["previous_delivery_id"] is None
    assert [(r["recipient_kind"], r["recipient_user_id"], r["recipient_team"]) for r in rows] == [
        ("user", RECRUITER, None),
        ("team", None, "Night Shift"),
    ]


def test_export_csv_row_per_recipient(bot, slack, people):
    root = new_ts()
    deliver_qualified(bot, slack, root, step2_state(RECRUITER, emails="outside@agency.example"))
    posts_to(slack, RECRUITER)
    agent_notices(slack)
    settle_outbox(bot)
    out = io.StringIO()

    count = export_deliveries(bot.session_scope, out, since=None, until=None, file_format="csv")

    header, *lines = out.getvalue().splitlines()
    assert count == 2
    assert len(lines) == 2
    assert header.startswith("delivery_id,workspace_id,channel_id,thread_ts")
    assert ",user,U0RECRUIT,,,notified," in lines[0]
    assert ",email,,,outside@agency.example,pending_email," in lines[1]


def test_stranger_cannot_accept_handoff(bot, slack, people):
    root = new_ts()
    deliver_qualified(bot, slack, root, step2_state(RECRUITER))
    [dm] = posts_to(slack, RECRUITER)

    click_accept(bot, slack, AGENT, dm)
    settle_outbox(bot)

    [(_delivery, [recipient])], _conversation = stored_deliveries(bot, root)
    assert recipient.accepted_by is None
    assert slack.calls_to("chat.update") == []
    [refusal] = [c for c in slack.calls_to("chat.postEphemeral") if c.args["user"] == AGENT][-1:]
    assert "only they can accept it" in refusal.args["text"]
    assert f"<@{RECRUITER}>" in refusal.args["text"]
