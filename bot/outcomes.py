"""The outcomes an agent records with ^deliver, and the rules that go with each one.

Pure data and functions: no Slack and no database. The stored form of a status is its string
value ("qualified", ...), so these values are a storage contract and never change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from enum import StrEnum

logger = logging.getLogger(__name__)


class Status(StrEnum):
    """The outcome of a delivery, stored as its value."""

    QUALIFIED = "qualified"
    NOT_QUALIFIED = "not_qualified"
    NOT_INTERESTED = "not_interested"
    REVIEW = "review"
    SPAM = "spam"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def notes_required(self) -> bool:
        return self in _NOTES_REQUIRED

    @property
    def rating_required(self) -> bool:
        return self in _RATED

    @property
    def has_reason(self) -> bool:
        """Whether the agent picks a reason from a list and explains it in words."""
        return self in DEFAULT_REASONS


_LABELS = {
    Status.QUALIFIED: "Qualified",
    Status.NOT_QUALIFIED: "Not Qualified",
    Status.NOT_INTERESTED: "Not Interested",
    Status.REVIEW: "Review",
    Status.SPAM: "Spam",
    Status.OTHER: "Other",
}

# A recipient of a qualified or review hand-off decides on the candidate, so they get a rating
# and notes. Spam and Other have no reason list, so the notes are the only explanation.
_RATED = frozenset({Status.QUALIFIED, Status.REVIEW})
_NOTES_REQUIRED = frozenset({Status.QUALIFIED, Status.REVIEW, Status.SPAM, Status.OTHER})

MIN_RATING = 1
MAX_RATING = 5

OTHER_REASON = "Other"

# A reason is shown as the text of a Slack select option, which accepts at most 75 characters,
# and a select accepts at most 100 options.
MAX_REASON_LENGTH = 75
MAX_REASONS = 100

DEFAULT_REASONS: dict[Status, tuple[str, ...]] = {
    Status.NOT_QUALIFIED: (
        "Missing required skills",
        "Not enough experience",
        "Location or relocation",
        "Work authorization or visa",
        "Salary expectations too high",
        "Language requirements",
        "Did not pass screening",
        OTHER_REASON,
    ),
    Status.NOT_INTERESTED: (
        "Accepted another offer",
        "Compensation too low",
        "Role is not a fit",
        "Location or commute",
        "Not looking right now",
        "Company or culture",
        "Stopped responding",
        OTHER_REASON,
    ),
}

DEFAULT_RECIPIENT_REQUIRED: dict[Status, bool] = {
    Status.QUALIFIED: True,
    Status.REVIEW: True,
    Status.NOT_QUALIFIED: False,
    Status.NOT_INTERESTED: False,
    Status.SPAM: False,
    Status.OTHER: False,
}


def parse_status(value: object) -> Status | None:
    """Return the Status stored as `value`, or None when it is not one."""
    try:
        return Status(value)
    except ValueError:
        return None


def stars(rating: int) -> str:
    """Return a rating as filled and empty stars, such as "★★★★☆" for 4."""
    filled = max(MIN_RATING - 1, min(rating, MAX_RATING))
    return "★" * filled + "☆" * (MAX_RATING - filled)


def reasons_for(
    status: Status, workspace_override: Mapping[str, Sequence[str]] | None = None
) -> tuple[str, ...]:
    """Return the reasons an agent can pick for `status`, always ending with "Other".

    `workspace_override` maps a status value to the workspace's own list, which replaces the
    default. Blank and repeated entries are dropped, long ones shortened, and "Other" is moved
    to the end. A status without a reason list returns an empty tuple.
    """
    if status not in DEFAULT_REASONS:
        return ()
    if workspace_override is None or status.value not in workspace_override:
        return DEFAULT_REASONS[status]

    entries = workspace_override[status.value]
    if isinstance(entries, str) or not isinstance(entries, Sequence):
        logger.warning(
            "ignored workspace reasons: status=%s expected a list of strings, got %s",
            status.value,
            type(entries).__name__,
        )
        return DEFAULT_REASONS[status]
    return _normalize_reasons(entries, status)


def _normalize_reasons(entries: Sequence[object], status: Status) -> tuple[str, ...]:
    reasons: list[str] = []
    seen = {OTHER_REASON.casefold()}
    for entry in entries:
        if not isinstance(entry, str):
            continue
        reason = " ".join(entry.split())
        if len(reason) > MAX_REASON_LENGTH:
            reason = reason[: MAX_REASON_LENGTH - 1].rstrip() + "…"
        if reason and reason.casefold() not in seen:
            seen.add(reason.casefold())
            reasons.append(reason)
    if len(reasons) > MAX_REASONS - 1:
        logger.warning(
            "dropped workspace reasons: status=%s count=%d max=%d",
            status.value,
            len(reasons),
            MAX_REASONS - 1,
        )
        reasons = reasons[: MAX_REASONS - 1]
    return (*reasons, OTHER_REASON)


def recipient_required(status: Status, override: Mapping[str, bool] | None = None) -> bool:
    """Return whether a delivery with `status` must name at least one recipient.

    `override` maps a status value to the workspace's rule. A value that is not a bool is
    ignored in favour of the default.
    """
    if override is not None:
        value = override.get(status.value)
        if isinstance(value, bool):
            return value
    return DEFAULT_RECIPIENT_REQUIRED[status]
