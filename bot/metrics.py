"""Response-time figures of one conversation, in a measure of time that the caller chooses.

A measure is a function (start, end) -> seconds that returns 0 when end <= start, such as
`bot.working_hours.clock_seconds` or the bound method `WorkingHours.working_seconds`. The
same code therefore computes every figure in clock time and in working hours.

The input is the messages of the contact and of the team, in time order. caretbot's own
messages are not part of it. A reply is a message whose side differs from the side of the
message before it, and it is measured from that message, which is the other side's latest.
So of several messages in a row from one side, only the first one is a reply.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Literal

Side = Literal["contact", "team"]
Measure = Callable[[datetime, datetime], float]

CONTACT: Side = "contact"
TEAM: Side = "team"
SIDES = (CONTACT, TEAM)


@dataclass(frozen=True)
class TimedMessage:
    """A message's timezone-aware posting time and the side that posted it."""

    at: datetime
    side: Side

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"invalid side {self.side!r}: expected 'contact' or 'team'")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"the message time must be timezone-aware, got {self.at!r}")


@dataclass(frozen=True)
class ResponseStats:
    """The count, median and mean of one side's response times, in seconds of the measure.

    The median and the mean are None when the side never replied.
    """

    count: int
    median: float | None
    mean: float | None


@dataclass(frozen=True)
class ConversationMetrics:
    """The figures of one conversation, in seconds of the measure that computed them."""

    # From the team's first message to the contact's first message after it.
    contact_first_reply: float | None
    # The agent's first response time, from the contact's first message to the team's
    # first message after it.
    team_first_response: float | None
    contact_responses: ResponseStats
    team_responses: ResponseStats
    contact_messages: int
    team_messages: int
    # When the contact spoke last: from the first contact message after the team's last
    # message (or from the first message, if the team never wrote) to now.
    waiting: float | None
    # From the conversation's start to its claim and to its first delivery.
    time_to_claim: float | None
    time_to_delivery: float | None


def compute_metrics(
    messages: Sequence[TimedMessage],
    *,
    measure: Measure,
    created_at: datetime,
    claimed_at: datetime | None,
    delivered_at: datetime | None,
    now: datetime,
) -> ConversationMetrics:
    """Compute a conversation's figures with `measure`, from messages in time order.

    A figure is None when the events it spans have not happened. Raises ValueError when the
    messages are not in time order.
    """
    _check_time_order(messages)

    response_times: dict[Side, list[float]] = {CONTACT: [], TEAM: []}
    message_counts: dict[Side, int] = {CONTACT: 0, TEAM: 0}
    first_message_at: dict[Side, datetime | None] = {CONTACT: None, TEAM: None}
    first_reply: dict[Side, float | None] = {CONTACT: None, TEAM: None}
    previous: TimedMessage | None = None
    for message in messages:
        side = message.side
        other_side = TEAM if side == CONTACT else CONTACT
        message_counts[side] += 1
        if first_message_at[side] is None:
            first_message_at[side] = message.at
        other_first_at = first_message_at[other_side]
        if first_reply[side] is None and other_first_at is not None:
            first_reply[side] = measure(other_first_at, message.at)
        if previous is not None and previous.side != side:
            response_times[side].append(measure(previous.at, message.at))
        previous = message

    return ConversationMetrics(
        contact_first_reply=first_reply[CONTACT],
        team_first_response=first_reply[TEAM],
        contact_responses=_summarize(response_times[CONTACT]),
        team_responses=_summarize(response_times[TEAM]),
        contact_messages=message_counts[CONTACT],
        team_messages=message_counts[TEAM],
        waiting=_waiting(messages, measure, now),
        time_to_claim=None if claimed_at is None else measure(created_at, claimed_at),
        time_to_delivery=None if delivered_at is None else measure(created_at, delivered_at),
    )


def _check_time_order(messages: Sequence[TimedMessage]) -> None:
    # Timestamps, because comparing two datetimes that share a tzinfo ignores `fold`, which
    # orders the repeated hour of a daylight-saving change wrongly.
    timestamps = [message.at.timestamp() for message in messages]
    for index, (earlier, later) in enumerate(pairwise(timestamps), start=1):
        if later < earlier:
            raise ValueError(
                f"messages must be in time order, but message {index} at "
                f"{messages[index].at.isoformat()} is before message {index - 1} at "
                f"{messages[index - 1].at.isoformat()}: sort them by time first"
            )


def _summarize(seconds: list[float]) -> ResponseStats:
    if not seconds:
        return ResponseStats(count=0, median=None, mean=None)
    return ResponseStats(
        count=len(seconds), median=statistics.median(seconds), mean=statistics.fmean(seconds)
    )


def _waiting(messages: Sequence[TimedMessage], measure: Measure, now: datetime) -> float | None:
    if not messages or messages[-1].side != CONTACT:
        return None
    first_unanswered = len(messages) - 1
    while first_unanswered > 0 and messages[first_unanswered - 1].side == CONTACT:
        first_unanswered -= 1
    return measure(messages[first_unanswered].at, now)
