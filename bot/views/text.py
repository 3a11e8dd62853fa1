"""Helpers that put user-typed text into Slack mrkdwn safely and within Slack's limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# block-kit/blocks/section-block: a section's text holds at most 3000 characters.
SECTION_TEXT_LIMIT = 3000

# The longest entity escape_mrkdwn writes is "&amp;", so a cut point never needs to move back
# further than this to stay outside one.
_MAX_ENTITY_LENGTH = len("&amp;")

_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn.

    After escaping, "<!channel>" or "<@U123>" in the text pings nobody and reads as typed.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_for_sections(text: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Split escaped text into chunks of at most `limit` characters, one per section block.

    A chunk ends at the last line break in the second half of the window, else at the last
    whitespace there, else at `limit` moved back so that no entity such as "&amp;" is cut.
    Whitespace at the cut is dropped, and so are empty chunks. Only escaped user text may be
    passed: Slack's own tokens such as "<!date^...>" contain spaces and could be cut.
    """
    if limit <= _MAX_ENTITY_LENGTH:
        raise ValueError(f"limit {limit} is too small: pass more than {_MAX_ENTITY_LENGTH}")
    chunks = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _cut_point(text: str, limit: int) -> int:
    # The window includes index `limit`, so a break found there still leaves a full chunk.
    window = text[: limit + 1]
    half = limit // 2
    newline = window.rfind("\n")
    if newline >= half:
        return newline
    space = max(window.rfind(" "), window.rfind("\t"))
    if space >= half:
        return space
    entity_start = text.rfind("&", limit - _MAX_ENTITY_LENGTH + 1, limit)
    if entity_start > 0 and ";" not in text[entity_start:limit]:
        return entity_start
    return limit


def shorten(text: str, limit: int) -> str:
    """Return `text` cut to at most `limit` characters, ending in "…" when it was cut.

    The cut falls on a word boundary when one is in the last third of the allowed length.
    Shorten before escaping, because the cut could otherwise split an entity.
    """
    if limit < 1:
        raise ValueError(f"limit {limit} is too small: pass 1 or more")
    if len(text) <= limit:
        return text
    kept = text[: limit - 1]
    # When the next character is whitespace, the kept text already ends with a whole word.
    if not text[limit - 1].isspace():
        space = kept.rfind(" ")
        if space >= (limit * 2) // 3:
            kept = kept[:space]
    return kept.rstrip() + "…"


def single_line(text: str) -> str:
    """Return `text` with every run of whitespace, line breaks included, as one space."""
    return " ".join(text.split())


def user_mention(user_id: str) -> str:
    """Return a mention of a Slack user id, or the escaped text when it is not a user id."""
    if _SLACK_USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return escape_mrkdwn(user_id)


DATE_AT_TIME = "{date_short_pretty} at {time}"
TIME_ON_DATE = "{time} on {date_short_pretty}"


def slack_date(moment: datetime, token_string: str = DATE_AT_TIME) -> str:
    """Return mrkdwn that Slack shows in each reader's time zone, such as "Mar 4 at 9:30 AM".

    `token_string` uses Slack's date tokens. The fallback after "|" is UTC, for clients that
    cannot format dates. A naive datetime is taken as UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    fallback = utc.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(utc.timestamp())}^{token_string}|{fallback}>"


def mrkdwn_link(url: str, label: str) -> str:
    """Return a mrkdwn link. The label is escaped, and so is the URL, as Slack requires."""
    safe_url = escape_mrkdwn(url).replace("|", "%7C")
    return f"<{safe_url}|{escape_mrkdwn(label)}>"
