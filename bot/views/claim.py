"""Texts of ^claim, and its ephemeral reply with a Take over button."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from bot import ids
from bot.threads import ThreadRef

ALREADY_HELD_TEXT = "You already hold this conversation."


def claimed_text(user_id: str, *, previous_holder: str | None = None) -> str:
    """Build the thread message that names the conversation's new holder."""
    if previous_holder is None:
        return f"Claimed by <@{user_id}>"
    return f"Claimed by <@{user_id}> (taken over from <@{previous_holder}>)"


def slack_date(at: datetime) -> str:
    """Format a time with Slack's date token, shown in each reader's time zone.

    The text after "|" is the fallback that clients without date support show, in UTC.
    """
    fallback = f"{at:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def held_text(holder: str, since: datetime) -> str:
    return f"<@{holder}> has held this conversation since {slack_date(since)}."


def contested_claim_blocks(thread: ThreadRef, holder: str, since: datetime) -> list[Any]:
    """Build the ephemeral reply to ^claim on a conversation that another agent holds."""
    return [
        SectionBlock(text=MarkdownTextObject(text=held_text(holder, since))),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Take over",
                    action_id=ids.CLAIM_TAKE_OVER,
                    value=takeover_value(thread, holder),
                )
            ]
        ),
    ]


def takeover_notice_text(new_holder: str, channel: str) -> str:
    """Build the DM to the agent whose conversation was taken over; it links to no message."""
    return f"<@{new_holder}> took over a conversation you held in <#{channel}>."


def takeover_value(thread: ThreadRef, holder: str) -> str:
    """Encode the button value: the thread and the holder the clicking agent saw."""
    return json.dumps(
        {
            "team": thread.team,
            "channel": thread.channel,
            "thread_ts": thread.thread_ts,
            "holder": holder,
        }
    )


def read_takeover_value(value: str) -> tuple[ThreadRef, str] | None:
    """Return the thread and holder of a Take over button, or None for a malformed value."""
    thread = ThreadRef.from_metadata(value)
    if thread is None:
        return None
    holder = json.loads(value).get("holder")
    if not isinstance(holder, str) or not holder:
        return None
    return thread, holder
