from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.metrics import (
    CONTACT,
    TEAM,
    ConversationMetrics,
    ResponseStats,
    TimedMessage,
    compute_metrics,
)
from bot.working_hours import WorkingHours, clock_seconds

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = WorkingHours.default("Europe/Berlin")
CLOCK = clock_seconds
WORKING = OFFICE.working_seconds

MINUTE = 60
HOUR = 3600
NO_RESPONSES = ResponseStats(count=0, median=None, mean=None)


def at(day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    """Return a Berlin time in June 2026, when 1 June is a Monday."""
    return datetime(2026, 6, day, hour, minute, tzinfo=BERLIN, fold=fold)


def team(moment: datetime) -> TimedMessage:
    return TimedMessage(at=moment, side=TEAM)


def contact(moment: datetime) -> TimedMessage:
    return TimedMessage(at=moment, side=CONTACT)


# The team opens on Monday, and the contact writes twice in a row at the end. Office
# hours are Monday to Friday, 09:00 to 17:00.
CONVERSATION = [
    team(at(1, 9, 10)),
    contact(at(1, 9, 40)),  # contact replies after 30 min
    contact(at(1, 9, 45)),  # not a reply
    team(at(1, 10, 45)),  # team replies after 1 h, from 09:45
    contact(at(1, 20, 0)),  # 9 h 15 min on the clock, 6 h 15 min working
    team(at(2, 9, 30)),  # 13 h 30 min on the clock, 30 min working
    team(at(2, 9, 35)),  # not a reply
    contact(at(2, 16, 0)),  # 6 h 25 min from 09:35, on the clock and working
    contact(at(2, 16, 30)),  # not a reply; the contact has waited since 16:00
]
CREATED = at(1, 8, 0)
CLAIMED = at(1, 9, 30)
DELIVERED = at(2, 10, 0)
NOW = at(2, 18, 0)

CONVERSATION_ON_THE_CLOCK = ConversationMetrics(
    contact_first_reply=30 * MINUTE,
    team_first_response=65 * MINUTE,
    contact_responses=ResponseStats(
        count=3, median=385 * MINUTE, mean=(30 + 555 + 385) * MINUTE / 3
    ),
    team_responses=ResponseStats(count=2, median=435 * MINUTE, mean=435 * MINUTE),
    contact_messages=5,
    team_messages=4,
    waiting=2 * HOUR,
    time_to_claim=90 * MINUTE,
    time_to_delivery=26 * HOUR,
)
CONVERSATION_IN_WORKING_HOURS = ConversationMetrics(
    contact_first_reply=30 * MINUTE,
    team_first_response=65 * MINUTE,
    contact_responses=ResponseStats(
        count=3, median=375 * MINUTE, mean=(30 + 375 + 385) * MINUTE / 3
    ),
    team_responses=ResponseStats(count=2, median=45 * MINUTE, mean=45 * MINUTE),
    contact_messages=5,
    team_messages=4,
    waiting=1 * HOUR,
    time_to_claim=30 * MINUTE,
    # Monday 09:00-17:00 and Tuesday 09:00-10:00.
    time_to_delivery=9 * HOUR,
)

# The contact opens, and the team answers last.
CONTACT_STARTED = [
    contact(at(1, 10, 0)),
    team(at(1, 10, 20)),
    contact(at(1, 10, 50)),
    team(at(1, 11, 0)),
]
CONTACT_STARTED_METRICS = ConversationMetrics(
    contact_first_reply=30 * MINUTE,
    team_first_response=20 * MINUTE,
    contact_responses=ResponseStats(count=1, median=30 * MINUTE, mean=30 * MINUTE),
    team_responses=ResponseStats(count=2, median=15 * MINUTE, mean=15 * MINUTE),
    contact_messages=2,
    team_messages=2,
    waiting=None,
    time_to_claim=None,
    time_to_delivery=None,
)

NEVER_ANSWERED = [team(at(1, 10, 0)), team(at(1, 12, 0))]
NEVER_ANSWERED_METRICS = ConversationMetrics(
    contact_first_reply=None,
    team_first_response=None,
    contact_responses=NO_RESPONSES,
    team_responses=NO_RESPONSES,
    contact_messages=0,
    team_messages=2,
    waiting=None,
    time_to_claim=None,
    time_to_delivery=None,
)

# The contact writes twice on Monday afternoon, and nobody from the team has written yet.
UNANSWERED_CONTACT = [contact(at(1, 16, 0)), contact(at(1, 16, 10))]


def unanswered_contact_metrics(waiting: float) -> ConversationMetrics:
    return ConversationMetrics(
        contact_first_reply=None,
        team_first_response=None,
        contact_responses=NO_RESPONSES,
        team_responses=NO_RESPONSES,
        contact_messages=2,
        team_messages=0,
        waiting=waiting,
        time_to_claim=None,
        time_to_delivery=None,
    )


EMPTY_METRICS = ConversationMetrics(
    contact_first_reply=None,
    team_first_response=None,
    contact_responses=NO_RESPONSES,
    team_responses=NO_RESPONSES,
    contact_messages=0,
    team_messages=0,
    waiting=None,
    time_to_claim=0,
    time_to_delivery=None,
)

METRICS_CASES = [
    pytest.param(
        CONVERSATION,
        CLOCK,
        CLAIMED,
        DELIVERED,
        NOW,
        CONVERSATION_ON_THE_CLOCK,
        id="conversation-on-clock",
    ),
    pytest.param(
        CONVERSATION,
        WORKING,
        CLAIMED,
        DELIVERED,
        NOW,
        CONVERSATION_IN_WORKING_HOURS,
        id="conversation-in-working-hours",
    ),
    pytest.param(
        CONTACT_STARTED, CLOCK, None, None, NOW, CONTACT_STARTED_METRICS, id="contact-started"
    ),
    pytest.param(
        NEVER_ANSWERED, CLOCK, None, None, NOW, NEVER_ANSWERED_METRICS, id="contact-never-answered"
    ),
    pytest.param(
        UNANSWERED_CONTACT,
        CLOCK,
        None,
        None,
        at(1, 18, 0),
        unanswered_contact_metrics(2 * HOUR),
        id="waiting-on-clock",
    ),
    pytest.param(
        UNANSWERED_CONTACT,
        WORKING,
        None,
        None,
        at(1, 18, 0),
        unanswered_contact_metrics(1 * HOUR),
        id="waiting-in-working-hours",
    ),
    pytest.param(
        UNANSWERED_CONTACT,
        WORKING,
        None,
        None,
        at(2, 9, 30),
        unanswered_contact_metrics(90 * MINUTE),
        id="waiting-overnight-in-working-hours",
    ),
    pytest.param([], CLOCK, CREATED, None, NOW, EMPTY_METRICS, id="no-messages-claimed-at-once"),
]


@pytest.mark.parametrize(
    ("messages", "measure", "claimed_at", "delivered_at", "now", "expected"), METRICS_CASES
)
def test_compute_metrics(messages, measure, claimed_at, delivered_at, now, expected):
    metrics = compute_metrics(
        messages,
        measure=measure,
        created_at=CREATED,
        claimed_at=claimed_at,
        delivered_at=delivered_at,
        now=now,
    )

    assert metrics == expected


def test_waiting_starts_after_team_last_message():
    messages = [
        contact(at(1, 9, 0)),
        team(at(1, 9, 30)),
        contact(at(1, 10, 0)),
        contact(at(1, 11, 0)),
    ]

    metrics = compute_metrics(
        messages, measure=CLOCK, created_at=CREATED, claimed_at=None, delivered_at=None, now=NOW
    )

    # From Monday 10:00 to Tuesday 18:00.
    assert metrics.waiting == 32 * HOUR


def test_messages_in_repeated_hour_are_in_order():
    # 02:50 summer time comes before 02:10 winter time on 2026-10-25.
    first = TimedMessage(at=datetime(2026, 10, 25, 2, 50, tzinfo=BERLIN), side=CONTACT)
    second = TimedMessage(at=datetime(2026, 10, 25, 2, 10, tzinfo=BERLIN, fold=1), side=TEAM)

    metrics = compute_metrics(
        [first, second],
        measure=CLOCK,
        created_at=first.at,
        claimed_at=None,
        delivered_at=None,
        now=second.at,
    )

    assert metrics.team_first_response == 20 * MINUTE


def test_compute_metrics_rejects_unordered_messages():
    messages = [contact(at(1, 10, 0)), team(at(1, 9, 0))]

    with pytest.raises(ValueError, match="messages must be in time order, but message 1 at"):
        compute_metrics(
            messages, measure=CLOCK, created_at=CREATED, claimed_at=None, delivered_at=None, now=NOW
        )


def test_timed_message_rejects_unknown_side():
    with pytest.raises(ValueError, match="invalid side 'bot': expected 'contact' or 'team'"):
        TimedMessage(at=at(1, 9), side="bot")


def test_timed_message_rejects_naive_time():
    with pytest.raises(ValueError, match="the message time must be timezone-aware"):
        TimedMessage(at=datetime(2026, 6, 1, 9), side=CONTACT)


def test_compute_metrics_long_alternating_conversation():
    # One message every 10 minutes for 10,000 messages, about 69 days, contact first.
    start = at(1, 9, 0)
    messages = [
        TimedMessage(at=start + timedelta(minutes=10 * index), side=TEAM if index % 2 else CONTACT)
        for index in range(10_000)
    ]

    on_the_clock = compute_metrics(
        messages, measure=CLOCK, created_at=start, claimed_at=None, delivered_at=None, now=start
    )
    working = compute_metrics(
        messages, measure=WORKING, created_at=start, claimed_at=None, delivered_at=None, now=start
    )

    assert on_the_clock.contact_responses == ResponseStats(
        count=4999, median=10 * MINUTE, mean=10 * MINUTE
    )
    assert on_the_clock.team_responses == ResponseStats(
        count=5000, median=10 * MINUTE, mean=10 * MINUTE
    )
    assert working.contact_responses.count == 4999
    assert working.team_responses.count == 5000
    # Replies sent outside office hours count 0 working seconds, so the median is 0.
    assert working.team_responses.median == 0
