"""^read and ^claim end to end: the marker, the thread messages, Take over and autoclaim."""

from bot import ids
from bot.slackdouble.payloads import block_actions
from bot.threads import ThreadRef
from bot.views.claim import takeover_value
from storage.claims import set_autoclaim
from storage.conversations import list_events
from tests.e2e.test_recording import (
    CANDIDATE,
    add_contact,
    conversation_of,
    reactions_on,
    reply,
    start_thread,
)
from tests.support import AGENT, CHANNEL, OTHER_AGENT, TEAM


def events_of(bot, root):
    conversation = conversation_of(bot, root)
    with bot.session_scope() as session:
        return [(e.kind, e.actor, e.detail) for e in list_events(session, conversation.id)]


def thread_posts(slack, root):
    return [
        call.args["text"]
        for call in slack.calls_to("chat.postMessage")
        if call.args.get("thread_ts") == root
    ]


def click_take_over(bot, slack, value, *, user):
    return bot.post_and_settle(
        block_actions(
            ids.CLAIM_TAKE_OVER,
            user=user,
            value=value,
            trigger_id=slack.issue_trigger_id(user_id=user),
            channel=CHANNEL,
        )
    )


# ^read


def test_read_clears_marker_and_posts(bot, slack):
    add_contact(bot)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "Hi", user=CANDIDATE)
    assert reactions_on(slack, root) == {"red_circle": ["UBOTDOUBLE"]}

    reply(bot, root, "^read", user=OTHER_AGENT)

    conversation = conversation_of(bot, root)
    assert conversation.unread is False
    assert conversation.read_by == OTHER_AGENT
    assert conversation.read_at is not None
    [removed] = slack.calls_to("reactions.remove")
    assert removed.ok, removed.error
    assert removed.args["timestamp"] == root
    assert reactions_on(slack, root) == {}
    assert thread_posts(slack, root) == ["Marked read by <@U0AGENT2>"]
    assert events_of(bot, root) == [("read", OTHER_AGENT, {"was_unread": True})]


def test_read_without_marker_still_records(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)

    reply(bot, root, "^read", user=AGENT)

    [removed] = slack.calls_to("reactions.remove")
    assert removed.error == "no_reaction"
    assert thread_posts(slack, root) == ["Marked read by <@U0AGENT>"]
    assert events_of(bot, root) == [("read", AGENT, {"was_unread": False})]
    assert slack.calls_to("chat.postEphemeral") == []


def test_contact_cannot_mark_read(bot, slack):
    add_contact(bot)
    slack.add_channel(CHANNEL, "candidates", members=[AGENT, OTHER_AGENT, CANDIDATE])
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "Hi", user=CANDIDATE)

    reply(bot, root, "^read", user=CANDIDATE)

    assert conversation_of(bot, root).unread is True
    # Commands typed by a contact get no answer at all.
    assert slack.calls_to("chat.postEphemeral") == []
    assert thread_posts(slack, root) == []


# ^claim


def test_claim_free_conversation_posts_in_thread(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)

    reply(bot, root, "^claim", user=AGENT)

    assert conversation_of(bot, root).claimed_by == AGENT
    assert thread_posts(slack, root) == ["Claimed by <@U0AGENT>"]
    assert events_of(bot, root) == [("claimed", AGENT, {"source": "command"})]


def test_holder_repeat_claim_is_ephemeral(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "^claim", user=AGENT)
    slack.reset()

    reply(bot, root, "^claim", user=AGENT)

    [told] = slack.calls_to("chat.postEphemeral")
    assert told.ok, told.error
    assert told.args["text"] == "You already hold this conversation."
    assert slack.calls_to("chat.postMessage") == []
    assert len(events_of(bot, root)) == 1


def test_contested_claim_offers_take_over(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "^claim", user=AGENT)
    claimed_at = conversation_of(bot, root).claimed_at
    slack.reset()

    reply(bot, root, "^claim", user=OTHER_AGENT)

    assert conversation_of(bot, root).claimed_by == AGENT
    assert slack.calls_to("chat.postMessage") == []
    [offer] = slack.calls_to("chat.postEphemeral")
    assert offer.ok, offer.error
    assert offer.args["user"] == OTHER_AGENT
    assert offer.args["thread_ts"] == root
    section, actions = offer.args["blocks"]
    assert "<@U0AGENT> has held this conversation since" in section["text"]["text"]
    assert f"<!date^{int(claimed_at.timestamp())}^" in section["text"]["text"]
    [button] = actions["elements"]
    assert button["action_id"] == ids.CLAIM_TAKE_OVER
    assert button["text"]["text"] == "Take over"


def test_take_over_notifies_previous_holder(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "^claim", user=AGENT)
    reply(bot, root, "^claim", user=OTHER_AGENT)
    [offer] = slack.calls_to("chat.postEphemeral")
    value = offer.args["blocks"][1]["elements"][0]["value"]
    slack.reset()

    status = click_take_over(bot, slack, value, user=OTHER_AGENT)

    assert status == 200
    assert conversation_of(bot, root).claimed_by == OTHER_AGENT
    assert thread_posts(slack, root) == ["Claimed by <@U0AGENT2> (taken over from <@U0AGENT>)"]
    [notice] = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == AGENT]
    assert notice.ok, notice.error
    assert "<@U0AGENT2>" in notice.args["text"]
    assert f"<#{CHANNEL}>" in notice.args["text"]
    assert "http" not in notice.args["text"]
    assert events_of(bot, root)[-1] == (
        "claim_taken_over",
        OTHER_AGENT,
        {"previous_holder": AGENT},
    )


def test_stale_take_over_names_new_holder(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "^claim", user=AGENT)
    # A button shown while U0FORMER held the conversation.
    value = takeover_value(ThreadRef(TEAM, CHANNEL, root), "U0FORMER")
    slack.reset()

    click_take_over(bot, slack, value, user=OTHER_AGENT)

    assert conversation_of(bot, root).claimed_by == AGENT
    assert slack.calls_to("chat.postMessage") == []
    [offer] = slack.calls_to("chat.postEphemeral")
    assert offer.ok, offer.error
    assert offer.args["user"] == OTHER_AGENT
    assert "<@U0AGENT> has held" in offer.args["text"]
    assert offer.args["blocks"][1]["elements"][0]["action_id"] == ids.CLAIM_TAKE_OVER


def test_malformed_take_over_value_is_explained(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "^claim", user=AGENT)
    slack.reset()

    click_take_over(bot, slack, "not json", user=OTHER_AGENT)

    assert conversation_of(bot, root).claimed_by == AGENT
    [told] = slack.calls_to("chat.postEphemeral")
    assert "unknown conversation" in told.args["text"]


def test_contact_cannot_claim(bot, slack):
    add_contact(bot)
    slack.add_channel(CHANNEL, "candidates", members=[AGENT, OTHER_AGENT, CANDIDATE])
    root = start_thread(bot, slack, "Hello", user=AGENT)

    reply(bot, root, "^claim", user=CANDIDATE)

    assert conversation_of(bot, root).claimed_by is None
    assert slack.calls_to("chat.postEphemeral") == []
    assert thread_posts(slack, root) == []


# Autoclaim


def test_autoclaim_first_reply_claims(bot, slack):
    add_contact(bot)
    with bot.session_scope() as session:
        set_autoclaim(session, TEAM, OTHER_AGENT, True, updated_by=OTHER_AGENT)
    root = start_thread(bot, slack, "Is the job still open?", user=CANDIDATE)

    reply(bot, root, "Yes it is!", user=OTHER_AGENT)

    conversation = conversation_of(bot, root)
    assert conversation.claimed_by == OTHER_AGENT
    assert conversation.unread is False
    assert thread_posts(slack, root) == ["Claimed by <@U0AGENT2>"]
    assert events_of(bot, root) == [("claimed", OTHER_AGENT, {"source": "autoclaim"})]


def test_autoclaim_leaves_held_conversation(bot, slack):
    with bot.session_scope() as session:
        set_autoclaim(session, TEAM, OTHER_AGENT, True, updated_by=OTHER_AGENT)
    root = start_thread(bot, slack, "Hello", user=AGENT)
    reply(bot, root, "^claim", user=AGENT)
    slack.reset()

    reply(bot, root, "I can help too", user=OTHER_AGENT)

    assert conversation_of(bot, root).claimed_by == AGENT
    assert slack.calls_to("chat.postMessage") == []


def test_reply_without_autoclaim_claims_nothing(bot, slack):
    root = start_thread(bot, slack, "Hello", user=AGENT)

    reply(bot, root, "Hi", user=OTHER_AGENT)

    assert conversation_of(bot, root).claimed_by is None
    assert slack.calls_to("chat.postMessage") == []


def test_autoclaim_skips_top_level_message(bot, slack):
    with bot.session_scope() as session:
        set_autoclaim(session, TEAM, AGENT, True, updated_by=AGENT)

    root = start_thread(bot, slack, "New opening: data engineer", user=AGENT)

    assert conversation_of(bot, root).claimed_by is None
    assert slack.calls_to("chat.postMessage") == []
