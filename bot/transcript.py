"""Render a conversation as a plain-text transcript: a header, then its entries in time order.

Rendering is pure: the caller loads messages, notes and deliveries and resolves user names.
Every datetime must be timezone-aware, and is shown in the requester's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bot.slack_text import to_plain

Side = Literal["contact", "team", "bot"]

MAX_STARS = 5
# The indent of each line of a multi-line text after its first.
CONTINUATION_INDENT = "    "
EARLIER_LABEL = "  earlier:"

_DATE_TIME = "%Y-%m-%d %H:%M"
_TIME = "%H:%M"


@dataclass(frozen=True)
class TranscriptMessage:
    """A message in the conversation's thread.

    `text` is Slack markup: the current text, or the last known one when `deleted` is set.
    `revisions` are the earlier texts, oldest first. `files` are the names of attached files.
    """

    ts: str
    at: datetime
    author_name: str
    side: Side
    text: str
    files: tuple[str, ...] = ()
    edited_at: datetime | None = None
    deleted: bool = False
    revisions: tuple[str, ...] = ()


@dataclass(frozen=True)
class TranscriptNote:
    """An internal note on the conversation. Its `text` is Slack markup, as in messages."""

    at: datetime
    author_name: str
    text: str


@dataclass(frozen=True)
class TranscriptDelivery:
    """A hand-off of the conversation.

    `reason` is plain text, not markup. `rating` is 1 to 5 stars, or None. `recipients` are
    display names, or user ids that the renderer looks up in `user_names`.
    """

    at: datetime
    delivered_by_name: str
    status_label: str
    rating: int | None
    reason: str | None
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class TranscriptHeader:
    """The subject of a transcript: its contact and application, and the claim on it."""

    contact: str | None
    application: str | None
    claimed_by: str | None
    claimed_at: datetime | None


_Entry = TranscriptMessage | TranscriptNote | TranscriptDelivery


def render_transcript(
    header: TranscriptHeader,
    messages: Sequence[TranscriptMessage],
    notes: Sequence[TranscriptNote],
    deliveries: Sequence[TranscriptDelivery],
    *,
    zone: ZoneInfo,
    user_names: Mapping[str, str],
) -> str:
    """Render the header and every message, note and delivery in time order.

    At equal times a message comes first, then a note, then a delivery, and entries of one
    kind keep their input order. Raises ValueError for a naive datetime.
    """
    entries: list[tuple[datetime, int, int, _Entry]] = []
    for order, items in enumerate((messages, notes, deliveries)):
        for index, item in enumerate(items):
            entries.append((_aware(item.at), order, index, item))
    entries.sort(key=lambda entry: entry[:3])

    by_time = sorted(deliveries, key=lambda delivery: delivery.at)
    lines = _header_lines(header, messages, by_time, zone, user_names)
    lines.append("")
    for _, _, _, item in entries:
        if isinstance(item, TranscriptMessage):
            lines.extend(_message_lines(item, zone, user_names))
        elif isinstance(item, TranscriptNote):
            lines.extend(_note_lines(item, zone, user_names))
        else:
            lines.append(_delivery_entry(item, zone, user_names))
    return "\n".join(lines) + "\n"


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: pass an aware datetime")
    return at


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime(_DATE_TIME)


def _header_lines(
    header: TranscriptHeader,
    messages: Sequence[TranscriptMessage],
    deliveries: Sequence[TranscriptDelivery],
    zone: ZoneInfo,
    user_names: Mapping[str, str],
) -> list[str]:
    lines = [
        f"Contact: {header.contact or '(unknown)'}",
        f"Application: {header.application or '(none)'}",
    ]
    if messages:
        times = [_aware(message.at) for message in messages]
        lines.append(f"First message: {_local(min(times), zone)}")
        lines.append(f"Last message: {_local(max(times), zone)}")
    else:
        lines.append("Messages: none")
    lines.append(f"Time zone: {zone.key}")

    if header.claimed_by is None:
        lines.append("Claimed by: (unclaimed)")
    elif header.claimed_at is None:
        lines.append(f"Claimed by: {header.claimed_by}")
    else:
        claimed_at = _local(_aware(header.claimed_at), zone)
        lines.append(f"Claimed by: {header.claimed_by} at {claimed_at}")

    if not deliveries:
        lines.append("Deliveries: none")
        return lines
    lines.append("Deliveries:")
    for delivery in deliveries:
        summary = f"  {_local(delivery.at, zone)} {_delivery_summary(delivery, user_names)}"
        if delivery.reason:
            summary += f" - reason: {_single_line(delivery.reason)}"
        lines.append(summary)
    return lines


def _message_lines(
    message: TranscriptMessage, zone: ZoneInfo, user_names: Mapping[str, str]
) -> list[str]:
    author = message.author_name + (" (bot)" if message.side == "bot" else "")
    markers = []
    if message.edited_at is not None:
        markers.append(f"(edited {_edit_time(message.at, _aware(message.edited_at), zone)})")
    if message.deleted:
        markers.append("(deleted)")
    if markers:
        author += " " + " ".join(markers)

    text = to_plain(message.text, user_names=user_names)
    file_markers = " ".join(f"[file: {name}]" for name in message.files)
    body = f"{text} {file_markers}" if text and file_markers else text or file_markers

    lines = _indented(f"{_local(message.at, zone)} {author}:", body)
    for revision in message.revisions:
        earlier = to_plain(revision, user_names=user_names)
        lines.extend(_indented(EARLIER_LABEL, earlier, CONTINUATION_INDENT * 2))
    return lines


def _edit_time(at: datetime, edited_at: datetime, zone: ZoneInfo) -> str:
    # The date is left out when the edit falls on the day the message was sent.
    local_at = at.astimezone(zone)
    local_edit = edited_at.astimezone(zone)
    pattern = _TIME if local_edit.date() == local_at.date() else _DATE_TIME
    return local_edit.strftime(pattern)


def _note_lines(note: TranscriptNote, zone: ZoneInfo, user_names: Mapping[str, str]) -> list[str]:
    label = f"{_local(note.at, zone)} [internal note by {note.author_name}]:"
    return _indented(label, to_plain(note.text, user_names=user_names))


def _delivery_entry(
    delivery: TranscriptDelivery, zone: ZoneInfo, user_names: Mapping[str, str]
) -> str:
    line = f"{_local(delivery.at, zone)} [delivery: {_delivery_summary(delivery, user_names)}]"
    if delivery.reason:
        line += f" reason: {_single_line(delivery.reason)}"
    return line


def _delivery_summary(delivery: TranscriptDelivery, user_names: Mapping[str, str]) -> str:
    parts = [delivery.status_label]
    if delivery.rating is not None:
        parts.append(_stars(delivery.rating))
    parts.append(f"by {delivery.delivered_by_name}")
    if delivery.recipients:
        parts.append(
            "to " + ", ".join(_recipient(name, user_names) for name in delivery.recipients)
        )
    return " ".join(parts)


def _recipient(recipient: str, user_names: Mapping[str, str]) -> str:
    name = user_names.get(recipient, recipient)
    return name if name.startswith(("@", "#")) else "@" + name


def _stars(rating: int) -> str:
    # A rating outside 0 to 5 is clamped, so one bad row cannot stop an export.
    filled = max(0, min(MAX_STARS, rating))
    return "★" * filled + "☆" * (MAX_STARS - filled)


def _single_line(text: str) -> str:
    return " ".join(text.split())


def _indented(first: str, body: str, indent: str = CONTINUATION_INDENT) -> list[str]:
    """Put the body's first line after `first` and indent the rest. Blank lines stay empty."""
    if not body:
        return [first]
    body_lines = _split_lines(body)
    lines = [f"{first} {body_lines[0]}" if body_lines[0] else first]
    lines.extend(indent + line if line.strip() else "" for line in body_lines[1:])
    return lines


def _split_lines(text: str) -> list[str]:
    # str.splitlines() would also split on form feeds and Unicode line separators.
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
