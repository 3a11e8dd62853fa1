"""Seeding and reading helpers for the /caret-report and /caret-export tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.slackdouble.payloads import slash_command
from storage.contacts import upsert_application, upsert_contact
from storage.conversations import ensure_workspace, get_or_create_conversation
from storage.deliveries import NewDelivery, NewRecipient, create_delivery
from storage.messages import NewMessage, store_message
from storage.models import Contact, JobApplication
from tests.support import CHANNEL, TEAM

BERLIN = ZoneInfo("Europe/Berlin")
ADMIN = "U0ADMIN"
RECIPIENT = "U0REC1"

_threads = itertools.count(1)


def berlin(*parts: int) -> datetime:
    """Return a wall-clock time in Berlin as an aware datetime."""
    return datetime(*parts, tzinfo=BERLIN)


def add_admin(slack, user=ADMIN):
    slack.add_user(user, "admin", real_name="Ada Admin", is_admin=True, tz="Europe/Berlin")


def run_command(bot, slack, command, text, *, user=ADMIN):
    """Type the slash command; return what reached the response_url, in order."""
    before = len(slack.calls_to("response_url"))
    url = slack.new_response_url(user=user, channel=CHANNEL)
    payload = slash_command(
        command,
        text,
        user=user,
        channel=CHANNEL,
        trigger_id=slack.issue_trigger_id(user_id=user),
        response_url=url,
    )
    status, _headers, body = bot.post(payload)
    bot.executor.wait_idle(timeout=30)
    assert status == 200
    assert body, "the command was not acknowledged with a message"
    calls = slack.calls_to("response_url")[before:]
    for call in calls:
        assert call.ok, call.error
    return [call.args for call in calls]


def answer_text(answer):
    """Return the text of every section of an answer, joined by line breaks."""
    return "\n".join(
        block["text"]["text"] for block in answer.get("blocks", []) if block["type"] == "section"
    )


def group_lines(answer):
    """Return {label: line} for the group lines of a report answer."""
    lines = {}
    for block in answer["blocks"][1:]:
        text = block.get("text", {}).get("text", "")
        if text.startswith(("*Funnel*", "*Response times*")):
            break
        for line in text.splitlines():
            if line.startswith("*"):
                label, _, rest = line[1:].partition("*: ")
                lines[label] = rest
    return lines


def add_contact(session, name, *, created_at, email=None):
    ensure_workspace(session, TEAM)
    contact = upsert_contact(session, workspace_id=TEAM, name=name, email=email).contact
    session.get(Contact, contact.id).created_at = created_at
    session.flush()
    return contact.id


def add_application(session, contact_id, title, *, applied_at=None, created_at=None, **fields):
    application = upsert_application(
        session, contact_id=contact_id, job_title=title, applied_at=applied_at, **fields
    ).application
    if created_at is not None:
        session.get(JobApplication, application.id).created_at = created_at
        session.flush()
    return application.id


def add_conversation(session, messages=(), *, contact_id=None):
    """Store a conversation with (time, side, text) messages; return it."""
    ensure_workspace(session, TEAM)
    # A channel of its own, because a message's ts is unique within a channel.
    number = next(_threads)
    conversation = get_or_create_conversation(
        session,
        workspace_id=TEAM,
        channel_id=f"C0REPORT{number}",
        thread_ts=f"{1_700_000_000 + number}.000100",
    )
    conversation.contact_id = contact_id
    for at, side, text in messages:
        ts = f"{at.timestamp():.6f}"
        store_message(
            session,
            conversation,
            NewMessage(ts=ts, side=side, text=text, user_id="U0SOMEONE"),
            now=at.astimezone(UTC),
        )
    return conversation


def add_delivery(
    session,
    conversation,
    status,
    at,
    *,
    agent,
    application_id=None,
    reason=None,
    recipients=(),
):
    """Store a delivery at `at`; recipients are NewRecipient values."""
    delivery, created = create_delivery(
        session,
        NewDelivery(
            submission_key=f"key-{conversation.id}-{at.timestamp()}",
            conversation=conversation,
            application_id=application_id,
            contact_id=conversation.contact_id,
            status=status,
            reason=reason,
            reason_text="because" if reason else None,
            notes="notes",
            rating=None,
            delivered_by=agent,
            recipients=list(recipients),
        ),
        now=at,
    )
    assert created
    return delivery.id


def user_recipient(user_id):
    return NewRecipient(kind="user", user_id=user_id)


def email_recipient(email):
    return NewRecipient(kind="email", email=email)


def team_recipient(team_id):
    return NewRecipient(kind="team", team_id=team_id)
