"""The ^stat modal: a conversation's response times and counts, in one of two measures."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.metrics import ConversationMetrics, ResponseStats
from bot.working_hours import format_duration

WORKING_HOURS = "working"
CLOCK = "clock"
_MEASURE_LABELS = {WORKING_HOURS: "working hours", CLOCK: "the 24-hour clock"}
TITLE = "Conversation stats"


def stat_button_blocks(value: str) -> list:
    """Build the ephemeral answer to ^stat: a button that opens the modal."""
    return [
        SectionBlock(text=MarkdownTextObject(text="Response times and counts of this thread.")),
        ActionsBlock(
            elements=[ButtonElement(text="Show stats", action_id=ids.OPEN_STAT_MODAL, value=value)]
        ),
    ]


def stat_loading_view(metadata: str) -> View:
    return View(
        type="modal",
        callback_id=ids.STAT_MODAL,
        title=TITLE,
        close="Close",
        private_metadata=metadata,
        blocks=[SectionBlock(text=MarkdownTextObject(text="Reading the conversation…"))],
    )


def stat_view(metrics: ConversationMetrics, *, measure: str, schedule: str, metadata: str) -> View:
    """Build the stats in one measure, with a button that switches to the other."""
    other = CLOCK if measure == WORKING_HOURS else WORKING_HOURS
    lines = [
        _line("Contact's first reply", metrics.contact_first_reply),
        _line("Agent's first response", metrics.team_first_response),
        _stats_line("Contact's response time", metrics.contact_responses),
        _stats_line("Agent's response time", metrics.team_responses),
        f"*Messages:* {metrics.contact_messages} from the contact, "
        f"{metrics.team_messages} from the team",
        _line("Waiting now", metrics.waiting, missing="not waiting"),
        _line("Time to claim", metrics.time_to_claim, missing="not claimed"),
        _line("Time to delivery", metrics.time_to_delivery, missing="not delivered"),
    ]
    return View(
        type="modal",
        callback_id=ids.STAT_MODAL,
        title=TITLE,
        close="Close",
        private_metadata=metadata,
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(text=f"Measured in *{_MEASURE_LABELS[measure]}*.")
            ),
            SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
            ContextBlock(elements=[MarkdownTextObject(text=schedule)]),
            ActionsBlock(
                block_id=ids.STAT_ACTIONS_BLOCK,
                elements=[
                    ButtonElement(
                        text=f"Show in {_MEASURE_LABELS[other]}",
                        action_id=ids.STAT_SWITCH_MEASURE,
                        value=other,
                    )
                ],
            ),
        ],
    )


def _line(label: str, seconds: float | None, *, missing: str = "not yet") -> str:
    shown = missing if seconds is None else format_duration(seconds)
    return f"*{label}:* {shown}"


def _stats_line(label: str, stats: ResponseStats) -> str:
    if stats.count == 0 or stats.median is None or stats.mean is None:
        return f"*{label}:* no replies yet"
    return (
        f"*{label}:* median {format_duration(stats.median)}, mean "
        f"{format_duration(stats.mean)} over {stats.count} replies"
    )
