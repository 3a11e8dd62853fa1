"""^transcript end to end: the file's content, where it goes, failures, and a long thread."""

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.commands.transcript import PREPARING_TEXT, SENT_TEXT
from bot.slackdouble.payloads import DEFAULT_BOT_ID, DEFAULT_BOT_USER_ID, message_event
from storage.conversations import get_or_create_conversation
from storage.deliveries import NewDelivery, NewRecipient, create_delivery
from storage.messages import NewMessage, store_message
from storage.notes import list_notes
from tests.e2e.test_recording import (
    CANDIDATE,
    add_contact,
    conversation_of,
    delete_event,
    edit_event,
)
from tests.support import AGENT, CHANNEL, OTHER_AGENT, TEAM

BERLIN = ZoneInfo("Europe/Berlin")
# 2024-03-09 16:00:00 UTC, 17:00 in Berlin.
ROOT_SECONDS = 1_710_000_000


def ts_at(minutes):
    """Return the ts `minutes` after the thread's root message, with Slack's six decimals."""
    return f"{ROOT_SECONDS + 60 * minutes}.000100"


# Arrange and act helpers, shared with test_backfill.


def send_transcript_command(bot, slack, root, *, user=AGENT, ts=None, seed=True, timeout=10.0):
    """Type ^transcript in the thread and wait for the bot; return the command's ts.

    With `seed`, the command is also in the double's history, as it would be in Slack's.
    """
    payload = message_event("^transcript", user=user, channel=CHANNEL, ts=ts, thread_ts=root)
    if seed:
        slack.add_message(CHANNEL, payload["event"]["ts"], user, "^transcript", thread_ts=root)
    bot.post(payload)
    bot.executor.wait_idle(timeout=timeout)
    return payload["event"]["ts"]


def uploaded_transcript(slack):
    """Return the call that shared the last transcript and the file's text."""
    [*_, completed] = slack.calls_to("files.completeUploadExternal")
    assert completed.ok, completed.error
    [file] = completed.response["files"]
    return completed, slack.file_content(file["id"]).decode("utf-8")


def ephemeral_texts(slack, user=AGENT):
    return [
        call.args["text"]
        for call in slack.calls_to("chat.postEphemeral")
        if call.args["user"] == user
    ]


def local(at, zone=BERLIN):
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def post(bot, text, *, ts, root, user, **options):
    bot.post_and_settle(
        message_event(text, user=user, channel=CHANNEL, ts=ts, thread_ts=root, **options)
    )


def seed_small_conversation(bot, slack):
    """Post a thread with an edit, a deletion, a file, a mention, a note and caretbot's reply.

    Return the root ts.
    """
    slack.add_user(AGENT, "agent.ann", real_name="Ann Agent", tz="Europe/Berlin")
    slack.add_user(CANDIDATE, "cara", real_name="Cara Candidate")
    add_contact(bot)
    root = ts_at(0)
    slack.add_message(CHANNEL, root, AGENT, "We have a role for you")
    post(bot, "We have a role for you", ts=root, root=None, user=AGENT)
    bot.post_and_settle(
        edit_event(
            root,
            "We have a role for you in Berlin",
            user=AGENT,
            previous_text="We have a role for you",
            edited_ts=ts_at(5),
        )
    )
    post(bot, "Sounds good &amp; thanks", ts=ts_at(1), root=root, user=CANDIDATE)
    post(bot, "Salary is 50k", ts=ts_at(2), root=root, user=AGENT)
    bot.post_and_settle(
        delete_event(ts_at(2), user=AGENT, previous_text="Salary is 50k", thread_ts=root)
    )
    post(
        bot,
        "Here is my CV",
        ts=ts_at(3),
        root=root,
        user=CANDIDATE,
        files=[{"id": "F0CV", "name": "cv.pdf"}],
    )
    post(bot, "<@U0AGENT2> will call you", ts=ts_at(4), root=root, user=AGENT)
    post(
        bot,
        "Reminder: reply by Monday",
        ts=ts_at(6),
        root=root,
        user=DEFAULT_BOT_USER_ID,
        bot_id=DEFAULT_BOT_ID,
    )
    post(bot, "^note Prefers calls after 4pm", ts=ts_at(7), root=root, user=AGENT)
    return root


def add_delivery(bot, root, *, at):
    conversation = conversation_of(bot, root)
    with bot.session_scope() as session:
        delivery, _ = create_delivery(
            session,
            NewDelivery(
                submission_key=f"transcript-test-{root}",
                conversation=conversation,
                application_id=None,
                contact_id=conversation.contact_id,
                status="qualified",
                reason=None,
                reason_text=None,
                notes="Strong Python",
                rating=4,
                delivered_by=AGENT,
                recipients=[NewRecipient(kind="user", user_id=OTHER_AGENT)],
            ),
            now=at,
        )
        return delivery


# Content


def test_transcript_content_key_lines(bot, slack):
    root = seed_small_conversation(bot, slack)
    delivered_at = datetime(2024, 3, 9, 16, 30, tzinfo=UTC)
    add_delivery(bot, root, at=delivered_at)
    with bot.session_scope() as session:
        [note] = list_notes(session, conversation_of(bot, root).id)
    slack.reset()

    send_transcript_command(bot, slack, root)

    _, text = uploaded_transcript(slack)
    lines = text.splitlines()
    assert lines[0] == "Contact: Cara Candidate"
    assert "Time zone: Europe/Berlin" in lines
    assert "First message: 2024-03-09 17:00" in lines
    assert "  2024-03-09 17:30 Qualified ★★★★☆ by Ann Agent to @Bo Agent" in lines
    assert "2024-03-09 17:00 Ann Agent (edited 17:05): We have a role for you in Berlin" in lines
    assert "  earlier: We have a role for you" in lines
    assert "2024-03-09 17:01 Cara Candidate: Sounds good & thanks" in lines
    assert "2024-03-09 17:02 Ann Agent (deleted): Salary is 50k" in lines
    assert "2024-03-09 17:03 Cara Candidate: Here is my CV [file: cv.pdf]" in lines
    assert "2024-03-09 17:04 Ann Agent: @Bo Agent will call you" in lines
    assert "2024-03-09 17:06 caretbot (bot): Reminder: reply by Monday" in lines
    assert f"{local(note.at)} [internal note by Ann Agent]: Prefers calls after 4pm" in lines
    assert "2024-03-09 17:30 [delivery: Qualified ★★★★☆ by Ann Agent to @Bo Agent]" in lines


def test_transcript_entries_in_time_order(bot, slack):
    root = seed_small_conversation(bot, slack)
    add_delivery(bot, root, at=datetime(2024, 3, 9, 16, 30, tzinfo=UTC))
    slack.reset()

    send_transcript_command(bot, slack, root)

    _, text = uploaded_transcript(slack)
    lines = text.splitlines()
    body = lines[lines.index("") + 1 :]
    times = [line[:16] for line in body if line[:1].isdigit()]
    assert times == sorted(times)
    # Seven messages, the ^transcript command, the note and the delivery.
    assert len(times) == 10
    assert body[-1].startswith(times[-1])


def test_transcript_in_utc_without_time_zone(bot, slack):
    root = ts_at(0)
    slack.add_user(AGENT, "agent.ann", real_name="Ann Agent", tz="Not/AZone")
    slack.add_message(CHANNEL, root, AGENT, "Hello")
    post(bot, "Hello", ts=root, root=None, user=AGENT)

    send_transcript_command(bot, slack, root)

    _, text = uploaded_transcript(slack)
    assert "Time zone: UTC" in text.splitlines()
    assert "2024-03-09 16:00 Ann Agent: Hello" in text.splitlines()


# Where the file goes


def test_transcript_goes_to_dm_not_thread(bot, slack):
    root = seed_small_conversation(bot, slack)
    slack.reset()

    send_transcript_command(bot, slack, root)

    completed, _ = uploaded_transcript(slack)
    [opened] = slack.calls_to("conversations.open")
    [requested] = slack.calls_to("files.getUploadURLExternal")
    assert opened.args["users"] == AGENT
    assert completed.args["channel_id"] == slack.dm_channel_id(AGENT)
    assert completed.args["channel_id"] != CHANNEL
    assert requested.args["filename"] == f"transcript-{CHANNEL}-{root}.txt"
    assert "Cara Candidate" in completed.args["files"]
    assert not any(message.get("files") for message in slack.messages_in(CHANNEL))
    assert [m for m in slack.messages_in(slack.dm_channel_id(AGENT)) if m.get("files")]
    assert ephemeral_texts(slack) == [PREPARING_TEXT, SENT_TEXT]


def test_transcript_in_dm_is_rejected(bot, slack):
    dm = "D0AGENTDM"
    slack.add_channel(dm, "dm", members=[AGENT])

    bot.post_and_settle(message_event("^transcript", user=AGENT, channel=dm))

    assert slack.calls_to("files.completeUploadExternal") == []
    [call] = slack.calls_to("chat.postEphemeral")
    assert "A DM with caretbot has no transcript" in call.args["text"]


# Failures


def test_upload_failure_shows_error_id(bot, slack):
    root = seed_small_conversation(bot, slack)
    slack.reset()
    slack.fail_next("files.completeUploadExternal", status=200, error="invalid_channel")

    send_transcript_command(bot, slack, root)

    texts = ephemeral_texts(slack)
    assert texts[0] == PREPARING_TEXT
    assert len(texts) == 2
    assert "could not be uploaded to your DM" in texts[1]
    assert "error id: `" in texts[1]
    assert SENT_TEXT not in texts


def test_transcript_works_after_upload_failure(bot, slack):
    root = seed_small_conversation(bot, slack)
    slack.fail_next("files.completeUploadExternal", status=200, error="invalid_channel")
    send_transcript_command(bot, slack, root)
    slack.reset()

    send_transcript_command(bot, slack, root)

    _, text = uploaded_transcript(slack)
    assert text.startswith("Contact: Cara Candidate\n")
    assert ephemeral_texts(slack) == [PREPARING_TEXT, SENT_TEXT]


def test_unknown_users_shown_by_id(bot, slack):
    root = ts_at(0)
    slack.add_message(CHANNEL, root, "U0GONE", "Hi")
    post(bot, "Hi <@U0NOBODY>", ts=root, root=None, user="U0GONE")

    send_transcript_command(bot, slack, root)

    _, text = uploaded_transcript(slack)
    assert "2024-03-09 11:00 U0GONE: Hi @U0NOBODY" in text.splitlines()


# A long conversation


def test_transcript_of_10000_messages(bot, slack):
    count = 10_000
    root = ts_at(0)
    slack.add_message(CHANNEL, root, AGENT, "message 0")
    with bot.session_scope() as session:
        conversation = get_or_create_conversation(
            session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=root
        )
        for index in range(count):
            author = (AGENT, OTHER_AGENT)[index % 2]
            store_message(
                session,
                conversation,
                NewMessage(
                    ts=f"{ROOT_SECONDS + index}.000100",
                    side="team",
                    text=f"message {index}",
                    user_id=author,
                ),
            )

    started = time.monotonic()
    send_transcript_command(bot, slack, root, timeout=300)
    elapsed = time.monotonic() - started

    _, text = uploaded_transcript(slack)
    lines = text.splitlines()
    header_lines = lines.index("")
    # Every stored message, plus the ^transcript command itself, is one line.
    assert len(lines) - header_lines - 1 == count + 1
    assert lines[header_lines + 1].endswith("Ann Agent: message 0")
    assert lines[-2].endswith(f"Bo Agent: message {count - 1}")
    assert ephemeral_texts(slack)[-1] == SENT_TEXT
    print(f"transcript of {count} messages took {elapsed:.2f}s")
