"""^stat end to end: figures in working hours and on the clock, switched in place."""

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import ids
from bot.slackdouble.payloads import block_actions, message_event
from storage.contacts import link_conversation, upsert_contact
from storage.conversations import ensure_workspace
from storage.settings import put_setting
from tests.support import AGENT, CHANNEL, TEAM

CANDIDATE = "U0CASEY"
BERLIN = ZoneInfo("Europe/Berlin")


def ts_at(year, month, day, hour, minute):
    return f"{datetime(year, month, day, hour, minute, tzinfo=BERLIN).timestamp():.6f}"


def seed(bot, slack, root):
    slack.add_user(CANDIDATE, "casey", real_name="Casey Candidate")
    with bot.session_scope() as session:
        ensure_workspace(session, TEAM)
        contact = upsert_contact(
            session, workspace_id=TEAM, name="Casey", slack_user_id=CANDIDATE
        ).contact
        link_conversation(
            session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=root, contact_id=contact.id
        )
        put_setting(
            session,
            TEAM,
            "working_hours",
            {
                "time_zone": "Europe/Berlin",
                "weekly": {
                    day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
                },
            },
            updated_by=None,
        )


def open_stats(bot, slack, root):
    bot.post_and_settle(message_event("^stat", user=AGENT, channel=CHANNEL, thread_ts=root))
    [offer] = slack.calls_to("chat.postEphemeral")
    button = offer.args["blocks"][1]["elements"][0]
    assert button["action_id"] == ids.OPEN_STAT_MODAL
    bot.post_and_settle(
        block_actions(
            ids.OPEN_STAT_MODAL,
            user=AGENT,
            value=button["value"],
            trigger_id=slack.issue_trigger_id(user_id=AGENT),
            channel=CHANNEL,
        )
    )
    [opened] = slack.calls_to("views.open")
    assert opened.ok, opened.error
    [filled] = slack.calls_to("views.update")
    assert filled.ok, filled.error
    return slack.view(opened.response["view"]["id"])


def figures(view):
    return view["blocks"][1]["text"]["text"]


def test_stat_overnight_reply_in_both_measures(bot, slack):
    root = ts_at(2026, 11, 30, 20, 0)  # Monday evening
    seed(bot, slack, root)
    contact_message = ts_at(2026, 11, 30, 21, 0)
    team_reply = ts_at(2026, 12, 1, 9, 5)
    bot.post_and_settle(
        message_event("Hello, is the job open?", user=AGENT, channel=CHANNEL, ts=root)
    )
    bot.post_and_settle(
        message_event(
            "I applied last week",
            user=CANDIDATE,
            channel=CHANNEL,
            ts=contact_message,
            thread_ts=root,
        )
    )
    bot.post_and_settle(
        message_event("Yes, it is!", user=AGENT, channel=CHANNEL, ts=team_reply, thread_ts=root)
    )
    slack.reset()

    view = open_stats(bot, slack, root)
    working = figures(view)
    button = view["blocks"][3]["elements"][0]
    bot.post_and_settle(
        block_actions(
            ids.STAT_SWITCH_MEASURE,
            user=AGENT,
            value=button["value"],
            trigger_id=slack.issue_trigger_id(user_id=AGENT),
            view=view,
            block_id=ids.STAT_ACTIONS_BLOCK,
        )
    )
    clock = figures(slack.view(view["id"]))

    assert "Measured in *working hours*" in view["blocks"][0]["text"]["text"]
    assert "*Agent's first response:* 5 min" in working
    assert "*Agent's first response:* 12 h 5 min" in clock
    assert "*Contact's first reply:* 0 min" in working
    assert "*Contact's first reply:* 1 h" in clock
    assert "*Messages:* 1 from the contact, 2 from the team" in working
    assert "*Waiting now:* not waiting" in working
    assert "*Time to claim:* not claimed" in clock
    assert len(slack.calls_to("views.update")) == 2
