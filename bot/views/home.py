"""The App Home tab: hand-offs to the viewer, the conversations waiting for the team, the help."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.outcomes import Status, stars
from bot.views.claim import slack_date
from bot.views.help import help_text
from bot.views.text import escape_mrkdwn, mrkdwn_link
from bot.working_hours import format_duration
from storage.queue import HandoffList, HandoffRow, WaitingQueue, WaitingRow

# block-kit: "100 blocks in modals or Home tabs".
HOME_MAX_BLOCKS = 100
# What a viewer outside the team reads when nobody has delivered a conversation to them.
NOTHING_DELIVERED = "Conversations delivered to you appear here."

# The maximum number of blocks besides the rows. They are the title and its context, the
# hand-off header, more-line and divider, the queue header, legend, two group headings, two
# more-lines and divider, and the help header and section.
FIXED_BLOCKS = 14
MAX_ROWS = HOME_MAX_BLOCKS - FIXED_BLOCKS

# The age marks of a wait, counted in working hours: under 12 h, 12 to 24 h, over 24 h.
FRESH_MARK = ":large_green_circle:"
AGING_MARK = ":large_yellow_circle:"
OLD_MARK = ":red_circle:"
AGING_FROM_SECONDS = 12 * 3600
OLD_AFTER_SECONDS = 24 * 3600

# A contact's name is the row's link label; a longer one is cut so a row stays one line.
NAME_MAX_LENGTH = 80
NO_CONTACT = "Contact not linked"


@dataclass(frozen=True)
class HomeContent:
    """The data of one user's home, read from the database and Slack before it is built."""

    # None for a viewer outside the team, a Slack guest or a contact, who sees neither the
    # queue nor the command help.
    queue: WaitingQueue | None
    handoffs: HandoffList
    # Working seconds each shown conversation has waited, by conversation id.
    waits: Mapping[int, float]
    schedule: str  # the working hours the waits count, in one line
    workspace_url: str | None  # auth.test's url, such as "https://acme.slack.com/"
    now: datetime
    available: set[str]  # the caret commands that work


def age_mark(seconds: float) -> str:
    """Return the mark of a wait: under 12 h, 12 to 24 h inclusive, or over 24 h."""
    if seconds < AGING_FROM_SECONDS:
        return FRESH_MARK
    if seconds <= OLD_AFTER_SECONDS:
        return AGING_MARK
    return OLD_MARK


def thread_link(workspace_url: str, channel_id: str, thread_ts: str) -> str:
    """Return the address that opens a thread in Slack, without a chat.getPermalink call.

    It has the form chat.getPermalink documents for a message in a thread,
    "https://DOMAIN.slack.com/archives/CHANNEL/pTS?thread_ts=THREAD_TS&cid=CHANNEL", built
    here for the thread's root message. The domain is auth.test's url, so a rebuild of the
    home makes no Web API call per row.
    """
    base = workspace_url.rstrip("/")
    digits = thread_ts.replace(".", "")
    return f"{base}/archives/{channel_id}/p{digits}?thread_ts={thread_ts}&cid={channel_id}"


def allocate_rows(budget: int, totals: Sequence[int]) -> list[int]:
    """Split a row budget among groups: one row to each group in turn while rows remain.

    A group gets at most its total, so a short group leaves its share to the others.
    """
    shown = [0] * len(totals)
    remaining = budget
    while remaining > 0:
        progressed = False
        for index, total in enumerate(totals):
            if remaining > 0 and shown[index] < total:
                shown[index] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            break
    return shown


def home_view(content: HomeContent) -> View:
    """Build the home tab; it has at most 100 blocks however long the lists are."""
    blocks: list[Block] = [
        HeaderBlock(text="caretbot"),
        ContextBlock(elements=[MarkdownTextObject(text=f"Updated {slack_date(content.now)}")]),
    ]
    queue, handoffs = content.queue, content.handoffs
    if queue is None:
        [handoff_count] = allocate_rows(MAX_ROWS, [len(handoffs.rows)])
        blocks += _handoff_blocks(content, handoffs.rows[:handoff_count])
        if not handoffs.total:
            blocks.append(_section(NOTHING_DELIVERED))
        return View(type="home", blocks=blocks)
    mine_count, unclaimed_count, handoff_count = allocate_rows(
        MAX_ROWS, [len(queue.mine), len(queue.unclaimed), len(handoffs.rows)]
    )
    handoff_part = _handoff_blocks(content, handoffs.rows[:handoff_count])
    queue_part = _queue_blocks(
        queue, content, queue.mine[:mine_count], queue.unclaimed[:unclaimed_count]
    )
    # A recipient with a hand-off to accept sees it first; otherwise the queue leads.
    if handoffs.unaccepted_total:
        blocks += handoff_part + queue_part
    else:
        blocks += queue_part + handoff_part
    blocks += _help_blocks(content.available)
    return View(type="home", blocks=blocks)


def _queue_blocks(
    queue: WaitingQueue, content: HomeContent, mine: list[WaitingRow], unclaimed: list[WaitingRow]
) -> list[Block]:
    legend = (
        f"Waits count working hours. {FRESH_MARK} under 12 h, {AGING_MARK} 12 to 24 h, "
        f"{OLD_MARK} over 24 h. {escape_mrkdwn(content.schedule)}."
    )
    if queue.claimed_by_others:
        legend += f" {_conversations(queue.claimed_by_others)} claimed by others also wait."
    blocks: list[Block] = [
        HeaderBlock(text="Waiting for the team"),
        ContextBlock(elements=[MarkdownTextObject(text=legend)]),
    ]
    groups = (
        ("Claimed by you", mine, queue.mine_total),
        ("Unclaimed", unclaimed, queue.unclaimed_total),
    )
    for title, rows, total in groups:
        heading = f"*{title}* ({total})" if total else f"*{title}*: none waiting."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=heading)))
        blocks += [_section(_waiting_text(content, row)) for row in rows]
        if total > len(rows):
            hidden = total - len(rows)
            noun = "conversation waits" if hidden == 1 else "conversations wait"
            more = f"{hidden} more {noun}, each for less time than those above."
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    blocks.append(DividerBlock())
    return blocks


def _waiting_text(content: HomeContent, row: WaitingRow) -> str:
    seconds = content.waits.get(row.conversation_id, 0.0)
    label = _link(content, row.channel_id, row.thread_ts, row.contact_name)
    return (
        f"{age_mark(seconds)} *{label}* in <#{row.channel_id}>, waiting "
        f"{format_duration(seconds)} since {slack_date(row.waiting_since)}"
    )


def _handoff_blocks(content: HomeContent, rows: list[HandoffRow]) -> list[Block]:
    handoffs = content.handoffs
    if not handoffs.total:
        return []
    title = "Hand-offs to you"
    if handoffs.unaccepted_total:
        title += f" ({handoffs.unaccepted_total} to accept)"
    blocks: list[Block] = [HeaderBlock(text=title)]
    blocks += [_section(_handoff_text(content, row)) for row in rows]
    if handoffs.total > len(rows):
        more = f"{handoffs.total - len(rows)} older hand-offs are not shown."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    blocks.append(DividerBlock())
    return blocks


def _handoff_text(content: HomeContent, row: HandoffRow) -> str:
    label = _link(content, row.channel_id, row.thread_ts, row.contact_name)
    outcome = _status_label(row.status)
    if row.rating is not None:
        outcome += f" {stars(row.rating)}"
    via = f" to {escape_mrkdwn(row.team_name)}" if row.team_name else ""
    first = f"*{label}*  {outcome}, from <@{row.delivered_by}>{via} {slack_date(row.delivered_at)}"
    if row.accepted_by is None or row.accepted_at is None:
        return f":inbox_tray: {first}\n*Not accepted yet.* Accept it on the hand-off card."
    accepted = f"Accepted by <@{row.accepted_by}> {slack_date(row.accepted_at)}"
    return f":white_check_mark: {first}\n{accepted}"


def _help_blocks(available: set[str]) -> list[Block]:
    intro = (
        "Type a caret command at the start of a message in a conversation's thread. "
        "caretbot answers in the same thread."
    )
    return [
        HeaderBlock(text="Commands"),
        _section(f"{intro}\n{help_text(available)}"),
    ]


def _link(content: HomeContent, channel_id: str, thread_ts: str, name: str | None) -> str:
    label = _short(name) if name else NO_CONTACT
    if content.workspace_url is None:
        return escape_mrkdwn(label)
    return mrkdwn_link(thread_link(content.workspace_url, channel_id, thread_ts), label)


def _short(name: str) -> str:
    name = " ".join(name.split())
    if len(name) <= NAME_MAX_LENGTH:
        return name
    return name[: NAME_MAX_LENGTH - 1].rstrip() + "…"


def _status_label(value: str) -> str:
    try:
        return Status(value).label
    except ValueError:
        return value


def _conversations(count: int) -> str:
    return f"{count} conversation" if count == 1 else f"{count} conversations"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))
