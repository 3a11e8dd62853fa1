import random
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.working_hours import END_OF_DAY, WorkingHours, clock_seconds, format_duration

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ST_JOHNS = ZoneInfo("America/St_Johns")

MINUTE = 60
HOUR = 3600
DAY = 86400

SUNDAY = 6


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)


def new_york(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK, fold=fold)


def periods(*pairs: tuple[str, str]) -> tuple[tuple[time, time], ...]:
    """Build periods from "HH:MM" pairs, with "24:00" as the end of the day."""
    return tuple(
        (time.fromisoformat(start), END_OF_DAY if end == "24:00" else time.fromisoformat(end))
        for start, end in pairs
    )


OFFICE = WorkingHours.default("Europe/Berlin")
OFFICE_WITH_CHRISTMAS = WorkingHours(
    zone=BERLIN, weekly=OFFICE.weekly, holidays=frozenset({date(2026, 12, 25)})
)
LUNCH_BREAK = WorkingHours(
    zone=BERLIN, weekly=dict.fromkeys(range(5), periods(("09:00", "12:00"), ("13:00", "17:00")))
)
# A period that spans the 02:00 daylight-saving change and one that does not.
BERLIN_SUNDAYS = WorkingHours(
    zone=BERLIN, weekly={SUNDAY: periods(("01:00", "04:00"), ("09:00", "17:00"))}
)
NEW_YORK_SUNDAYS = WorkingHours(
    zone=NEW_YORK, weekly={SUNDAY: periods(("00:00", "04:00"), ("09:00", "17:00"))}
)
# Berlin skips 02:00-03:00 on 2026-03-29 and repeats it on 2026-10-25.
BERLIN_SUNDAY_LATE_NIGHT = WorkingHours(
    zone=BERLIN, weekly={SUNDAY: periods(("02:00", "03:00"), ("03:30", "04:00"))}
)
BERLIN_SUNDAY_HALF_PAST_TWO = WorkingHours(
    zone=BERLIN, weekly={SUNDAY: periods(("02:30", "04:00"))}
)
# A night shift from Monday 22:00 to Tuesday 06:00, as two periods.
NIGHT_SHIFT = WorkingHours(
    zone=BERLIN, weekly={0: periods(("22:00", "24:00")), 1: periods(("00:00", "06:00"))}
)
# A night shift from Saturday 22:00 to Sunday 06:00 in New York.
NEW_YORK_WEEKEND_NIGHT = WorkingHours(
    zone=NEW_YORK, weekly={5: periods(("22:00", "24:00")), SUNDAY: periods(("00:00", "06:00"))}
)
# St. John's clocks went back at 00:01 on 1990-10-28 to 23:01 on the 27th, a Saturday, so
# the local date went backwards, and Saturday 23:01-24:00 happened twice.
ST_JOHNS_MIDNIGHT = WorkingHours(
    zone=ST_JOHNS, weekly={5: periods(("23:00", "24:00")), SUNDAY: periods(("00:00", "01:00"))}
)
ST_JOHNS_SATURDAY = WorkingHours(zone=ST_JOHNS, weekly={5: periods(("23:00", "24:00"))})


# Dates in 2026: 2026-06-01 is a Monday, 2026-12-25 a Friday, 2026-01-01 a Thursday.
WORKING_TIME_CASES = [
    pytest.param(
        OFFICE,
        berlin(2026, 6, 2, 21, 0),
        berlin(2026, 6, 3, 9, 5),
        5 * MINUTE,
        12 * HOUR + 5 * MINUTE,
        id="evening-message-answered-next-morning",
    ),
    pytest.param(
        OFFICE,
        berlin(2026, 6, 5, 16, 0),
        berlin(2026, 6, 8, 10, 0),
        2 * HOUR,
        66 * HOUR,
        id="friday-to-monday-over-weekend",
    ),
    pytest.param(
        OFFICE_WITH_CHRISTMAS,
        berlin(2026, 12, 24, 16, 0),
        berlin(2026, 12, 28, 10, 0),
        2 * HOUR,
        90 * HOUR,
        id="thursday-to-monday-over-holiday-friday",
    ),
    pytest.param(
        OFFICE,
        berlin(2026, 12, 24, 16, 0),
        berlin(2026, 12, 28, 10, 0),
        10 * HOUR,
        90 * HOUR,
        id="same-span-without-holiday",
    ),
    pytest.param(
        LUNCH_BREAK,
        berlin(2026, 6, 1, 11, 30),
        berlin(2026, 6, 1, 13, 30),
        1 * HOUR,
        2 * HOUR,
        id="lunch-break-not-counted",
    ),
    pytest.param(
        OFFICE,
        berlin(2026, 6, 6, 10, 0),
        berlin(2026, 6, 7, 18, 0),
        0,
        32 * HOUR,
        id="weekend-only",
    ),
    pytest.param(
        OFFICE,
        berlin(2026, 6, 5, 18, 0),
        berlin(2026, 6, 8, 8, 0),
        0,
        62 * HOUR,
        id="start-and-end-outside-hours",
    ),
    pytest.param(
        OFFICE,
        berlin(2026, 6, 1, 7, 0),
        berlin(2026, 6, 1, 19, 0),
        8 * HOUR,
        12 * HOUR,
        id="whole-day-from-before-to-after",
    ),
    pytest.param(
        OFFICE,
        berlin(2026, 6, 1, 10, 0),
        berlin(2026, 6, 1, 10, 0),
        0,
        0,
        id="start-equals-end",
    ),
    pytest.param(
        OFFICE,
        berlin(2026, 6, 1, 12, 0),
        berlin(2026, 6, 1, 10, 0),
        0,
        0,
        id="end-before-start",
    ),
    pytest.param(
        OFFICE,
        datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
        new_york(2026, 6, 1, 5, 0),
        1 * HOUR,
        1 * HOUR,
        id="start-and-end-in-other-zones",
    ),
    pytest.param(
        OFFICE,
        berlin(2026, 1, 1, 0, 0),
        berlin(2027, 1, 1, 0, 0),
        261 * 8 * HOUR,
        365 * DAY,
        id="calendar-year-2026",
    ),
    pytest.param(
        OFFICE_WITH_CHRISTMAS,
        berlin(2026, 1, 1, 12, 0),
        berlin(2027, 1, 1, 12, 0),
        # Thursday 1 January 12:00-17:00, 259 other weekdays of 2026 without Christmas,
        # and Friday 1 January 2027 09:00-12:00.
        5 * HOUR + 259 * 8 * HOUR + 3 * HOUR,
        365 * DAY,
        id="year-from-noon-with-holiday",
    ),
    pytest.param(
        BERLIN_SUNDAYS,
        berlin(2026, 1, 1, 0, 0),
        berlin(2027, 1, 1, 0, 0),
        # 52 Sundays of 3 + 8 hours, with one hour less in March and one more in October.
        52 * 11 * HOUR,
        365 * DAY,
        id="year-of-sundays-over-both-changes",
    ),
    pytest.param(
        BERLIN_SUNDAYS,
        berlin(2026, 3, 29, 0, 0),
        berlin(2026, 3, 29, 5, 0),
        2 * HOUR,
        4 * HOUR,
        id="berlin-spring-period-spanning-change",
    ),
    pytest.param(
        BERLIN_SUNDAYS,
        berlin(2026, 3, 29, 8, 0),
        berlin(2026, 3, 29, 18, 0),
        8 * HOUR,
        10 * HOUR,
        id="berlin-spring-period-after-change",
    ),
    pytest.param(
        BERLIN_SUNDAYS,
        berlin(2026, 3, 29, 0, 0),
        berlin(2026, 3, 30, 0, 0),
        10 * HOUR,
        23 * HOUR,
        id="berlin-spring-whole-day",
    ),
    pytest.param(
        BERLIN_SUNDAYS,
        berlin(2026, 10, 25, 0, 0),
        berlin(2026, 10, 25, 5, 0),
        4 * HOUR,
        6 * HOUR,
        id="berlin-autumn-period-spanning-change",
    ),
    pytest.param(
        BERLIN_SUNDAYS,
        berlin(2026, 10, 25, 8, 0),
        berlin(2026, 10, 25, 18, 0),
        8 * HOUR,
        10 * HOUR,
        id="berlin-autumn-period-after-change",
    ),
    pytest.param(
        BERLIN_SUNDAYS,
        berlin(2026, 10, 25, 0, 0),
        berlin(2026, 10, 26, 0, 0),
        12 * HOUR,
        25 * HOUR,
        id="berlin-autumn-whole-day",
    ),
    pytest.param(
        BERLIN_SUNDAYS,
        berlin(2026, 10, 25, 2, 30, fold=1),
        berlin(2026, 10, 25, 5, 0),
        # From the second 02:30 (CET) to 04:00.
        90 * MINUTE,
        150 * MINUTE,
        id="berlin-autumn-start-in-repeated-hour",
    ),
    pytest.param(
        BERLIN_SUNDAY_LATE_NIGHT,
        berlin(2026, 3, 29, 0, 0),
        berlin(2026, 3, 29, 5, 0),
        # 02:00-03:00 does not exist, and 03:30-04:00 does.
        30 * MINUTE,
        4 * HOUR,
        id="berlin-spring-skipped-period-counts-nothing",
    ),
    pytest.param(
        BERLIN_SUNDAY_LATE_NIGHT,
        berlin(2026, 10, 25, 0, 0),
        berlin(2026, 10, 25, 5, 0),
        # 02:00-03:00 is worked twice.
        2 * HOUR + 30 * MINUTE,
        6 * HOUR,
        id="berlin-autumn-repeated-period-counts-twice",
    ),
    pytest.param(
        BERLIN_SUNDAY_HALF_PAST_TWO,
        berlin(2026, 3, 29, 0, 0),
        berlin(2026, 3, 29, 5, 0),
        # The clock jumps from 02:00 to 03:00, so only 03:00-04:00 is inside the period.
        1 * HOUR,
        4 * HOUR,
        id="berlin-spring-period-starting-in-gap",
    ),
    pytest.param(
        BERLIN_SUNDAY_HALF_PAST_TWO,
        berlin(2026, 10, 25, 0, 0),
        berlin(2026, 10, 25, 5, 0),
        # 02:30-03:00 CEST and 02:30-04:00 CET. 02:00-02:30 CET is outside the period.
        2 * HOUR,
        6 * HOUR,
        id="berlin-autumn-period-starting-in-fold",
    ),
    pytest.param(
        NEW_YORK_SUNDAYS,
        new_york(2026, 3, 8, 0, 0),
        new_york(2026, 3, 8, 5, 0),
        3 * HOUR,
        4 * HOUR,
        id="new-york-spring-period-spanning-change",
    ),
    pytest.param(
        NEW_YORK_SUNDAYS,
        new_york(2026, 3, 8, 8, 0),
        new_york(2026, 3, 8, 18, 0),
        8 * HOUR,
        10 * HOUR,
        id="new-york-spring-period-after-change",
    ),
    pytest.param(
        NEW_YORK_SUNDAYS,
        new_york(2026, 11, 1, 0, 0),
        new_york(2026, 11, 1, 5, 0),
        5 * HOUR,
        6 * HOUR,
        id="new-york-autumn-period-spanning-change",
    ),
    pytest.param(
        NEW_YORK_SUNDAYS,
        new_york(2026, 11, 1, 8, 0),
        new_york(2026, 11, 1, 18, 0),
        8 * HOUR,
        10 * HOUR,
        id="new-york-autumn-period-after-change",
    ),
    pytest.param(
        NIGHT_SHIFT,
        berlin(2026, 6, 1, 21, 0),
        berlin(2026, 6, 2, 7, 0),
        8 * HOUR,
        10 * HOUR,
        id="night-shift-whole",
    ),
    pytest.param(
        NIGHT_SHIFT,
        berlin(2026, 6, 1, 23, 0),
        berlin(2026, 6, 2, 1, 0),
        2 * HOUR,
        2 * HOUR,
        id="night-shift-across-midnight",
    ),
    pytest.param(
        NIGHT_SHIFT,
        berlin(2026, 6, 2, 5, 0),
        berlin(2026, 6, 8, 23, 0),
        # Tuesday 05:00-06:00, then Monday 22:00-23:00 of the next week.
        2 * HOUR,
        6 * DAY + 18 * HOUR,
        id="night-shift-between-weeks",
    ),
    pytest.param(
        NEW_YORK_WEEKEND_NIGHT,
        new_york(2026, 3, 7, 21, 0),
        new_york(2026, 3, 8, 7, 0),
        # Saturday 22:00-24:00, then Sunday 00:00-06:00 without the skipped 02:00-03:00.
        7 * HOUR,
        9 * HOUR,
        id="night-shift-over-spring-change",
    ),
    pytest.param(
        ST_JOHNS_SATURDAY,
        datetime(1990, 10, 27, 12, 0, tzinfo=ST_JOHNS),
        datetime(1990, 10, 28, 12, 0, tzinfo=ST_JOHNS),
        # Saturday 23:00-24:00 in daylight time, then 23:01-24:00 again in standard time.
        119 * MINUTE,
        25 * HOUR,
        id="local-date-going-backwards",
    ),
    pytest.param(
        ST_JOHNS_MIDNIGHT,
        datetime(1990, 10, 27, 12, 0, tzinfo=ST_JOHNS),
        datetime(1990, 10, 28, 12, 0, tzinfo=ST_JOHNS),
        # Also Sunday 00:00-00:01 in daylight time and 00:00-01:00 in standard time.
        180 * MINUTE,
        25 * HOUR,
        id="local-date-going-backwards-both-days",
    ),
]


@pytest.mark.parametrize(("hours", "start", "end", "working", "clock"), WORKING_TIME_CASES)
def test_working_and_clock_seconds(hours, start, end, working, clock):
    assert hours.working_seconds(start, end) == working
    assert clock_seconds(start, end) == clock


def test_evening_message_humanized():
    start = berlin(2026, 6, 2, 21, 0)
    end = berlin(2026, 6, 3, 9, 5)

    assert format_duration(OFFICE.working_seconds(start, end)) == "5 min"
    assert format_duration(clock_seconds(start, end)) == "12 h 5 min"


def _minute_of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _minute_count(hours: WorkingHours, start: datetime, end: datetime) -> float:
    """Count working minutes by reading the local clock once a minute."""
    weekly = {
        day: [(_minute_of_day(first), _minute_of_day(last) or 24 * 60) for first, last in pairs]
        for day, pairs in hours.weekly.items()
    }
    count = 0
    instant = start.timestamp()
    while instant < end.timestamp():
        local = datetime.fromtimestamp(instant, hours.zone)
        minute = local.hour * 60 + local.minute
        if local.date() not in hours.holidays and any(
            period_start <= minute < period_end
            for period_start, period_end in weekly.get(local.weekday(), ())
        ):
            count += 1
        instant += 60
    return count * 60.0


@pytest.mark.parametrize(
    "hours",
    [LUNCH_BREAK, BERLIN_SUNDAYS, BERLIN_SUNDAY_HALF_PAST_TWO, NEW_YORK_WEEKEND_NIGHT],
    ids=["lunch-break", "berlin-sundays", "berlin-half-past-two", "new-york-night"],
)
def test_working_seconds_matches_minute_count(hours):
    # Random minute-aligned spans that start up to 8 days after each anchor and last up to
    # 5 days. The anchors lie a week before each 2026 daylight-saving change in Berlin and
    # New York, and before 2026-04-07 00:00 UTC, where one 30-day cache block ends.
    anchors = [
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 22, tzinfo=UTC),
        datetime(2026, 4, 2, tzinfo=UTC),
        datetime(2026, 10, 18, tzinfo=UTC),
        datetime(2026, 10, 25, tzinfo=UTC),
    ]
    randomness = random.Random(20260329)
    for anchor in anchors:
        for _ in range(4):
            start = anchor + timedelta(minutes=randomness.randrange(8 * 24 * 60))
            end = start + timedelta(minutes=randomness.randrange(5 * 24 * 60))

            expected = _minute_count(hours, start, end)

            assert hours.working_seconds(start, end) == expected, (start, end)


def test_working_seconds_adds_up_over_split_points():
    start = berlin(2026, 1, 5, 10, 0)
    end = berlin(2026, 12, 30, 15, 0)
    total = OFFICE_WITH_CHRISTMAS.working_seconds(start, end)
    randomness = random.Random(7)
    split_points = sorted(
        start + timedelta(minutes=randomness.randrange(360 * 24 * 60)) for _ in range(50)
    )

    edges = [start, *split_points, end]
    parts = [OFFICE_WITH_CHRISTMAS.working_seconds(a, b) for a, b in pairwise(edges)]

    assert sum(parts) == total


def test_working_seconds_rejects_naive_datetime():
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        OFFICE.working_seconds(datetime(2026, 6, 1, 9), berlin(2026, 6, 1, 10))
    with pytest.raises(ValueError, match="end must be timezone-aware"):
        clock_seconds(berlin(2026, 6, 1, 9), datetime(2026, 6, 1, 10))


def test_default_is_weekdays_nine_to_five():
    hours = WorkingHours.default("America/New_York")

    assert hours.zone is NEW_YORK
    assert hours.weekly == {day: ((time(9), time(17)),) for day in range(5)}
    assert hours.holidays == frozenset()


def test_constructor_sorts_periods_and_drops_empty_days():
    hours = WorkingHours(
        zone=BERLIN,
        weekly={2: periods(("13:00", "17:00"), ("09:00", "12:00")), 5: ()},
        holidays={date(2026, 12, 25)},
    )

    assert hours.weekly == {2: periods(("09:00", "12:00"), ("13:00", "17:00"))}
    assert hours.holidays == frozenset({date(2026, 12, 25)})


SETTINGS = {
    "time_zone": "Europe/Berlin",
    "weekly": {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
        "tue": [["09:00", "17:00"]],
        "fri": [["22:00", "24:00"]],
        "sat": [["00:00", "06:00"]],
    },
    "holidays": ["2026-05-01", "2026-12-25"],
}


def test_settings_round_trip():
    hours = WorkingHours.from_settings(SETTINGS)

    assert hours.zone is BERLIN
    assert hours.weekly == {
        0: periods(("09:00", "12:00"), ("13:00", "17:00")),
        1: periods(("09:00", "17:00")),
        4: periods(("22:00", "24:00")),
        5: periods(("00:00", "06:00")),
    }
    assert hours.holidays == frozenset({date(2026, 5, 1), date(2026, 12, 25)})
    assert hours.to_settings() == SETTINGS
    assert WorkingHours.from_settings(hours.to_settings()) == hours


def test_settings_defaults():
    hours = WorkingHours.from_settings({"time_zone": "America/New_York"})

    assert hours == WorkingHours.default("America/New_York")
    assert hours.to_settings() == {
        "time_zone": "America/New_York",
        "weekly": {name: [["09:00", "17:00"]] for name in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": [],
    }


def test_settings_with_empty_days():
    hours = WorkingHours.from_settings({"time_zone": "UTC", "weekly": {"mon": []}})

    assert hours.weekly == {}
    assert hours.working_seconds(berlin(2026, 6, 1), berlin(2026, 6, 8)) == 0


def _settings(**changes: object) -> dict[str, object]:
    return {**SETTINGS, **changes}


SETTINGS_ERROR_CASES = [
    pytest.param("not an object", "expected a JSON object", id="not-a-mapping"),
    pytest.param(
        _settings(timezone="UTC"), "unknown working-hours setting 'timezone'", id="unknown-key"
    ),
    pytest.param({"weekly": {}}, "missing working-hours setting 'time_zone'", id="missing-zone"),
    pytest.param(
        _settings(time_zone="Europe/Berln"),
        "unknown time zone 'Europe/Berln': expected an IANA name",
        id="unknown-zone",
    ),
    pytest.param(
        _settings(time_zone="../etc/passwd"), "unknown time zone '../etc/passwd'", id="zone-path"
    ),
    pytest.param(_settings(time_zone=""), "unknown time zone ''", id="empty-zone"),
    pytest.param(_settings(time_zone=1), "invalid time zone 1", id="zone-not-a-string"),
    pytest.param(
        _settings(weekly=[["09:00", "17:00"]]), "invalid weekly schedule", id="weekly-not-object"
    ),
    pytest.param(
        _settings(weekly={"monday": [["09:00", "17:00"]]}),
        "invalid day name 'monday' in the weekly schedule: expected one of mon, tue",
        id="bad-day-name",
    ),
    pytest.param(
        _settings(weekly={"mon": "09:00-17:00"}),
        "invalid periods '09:00-17:00' for mon",
        id="periods-not-a-list",
    ),
    pytest.param(
        _settings(weekly={"mon": [["09:00"]]}),
        r"invalid period \['09:00'\] on mon: expected a \[start, end\] pair",
        id="period-not-a-pair",
    ),
    pytest.param(
        _settings(weekly={"mon": [[9, 17]]}),
        r"invalid period \[9, 17\] on mon",
        id="period-of-numbers",
    ),
    pytest.param(
        _settings(weekly={"mon": [["9:00", "17:00"]]}),
        "invalid time '9:00' on mon: expected HH:MM on a 24-hour clock",
        id="time-without-leading-zero",
    ),
    pytest.param(
        _settings(weekly={"tue": [["09:00", "5pm"]]}),
        "invalid time '5pm' on tue",
        id="time-with-am-pm",
    ),
    pytest.param(
        _settings(weekly={"wed": [["09:00", "24:30"]]}),
        "invalid time '24:30' on wed",
        id="time-after-end-of-day",
    ),
    pytest.param(
        _settings(weekly={"wed": [["09:60", "17:00"]]}),
        "invalid time '09:60' on wed",
        id="minute-out-of-range",
    ),
    pytest.param(
        _settings(weekly={"thu": [["24:00", "24:00"]]}),
        "invalid start '24:00' on thu: a period cannot start at the end of the day",
        id="start-at-end-of-day",
    ),
    pytest.param(
        _settings(weekly={"fri": [["17:00", "09:00"]]}),
        "invalid period 17:00-09:00 on fri: the end must be after the start. Split a period",
        id="end-before-start",
    ),
    pytest.param(
        _settings(weekly={"fri": [["09:00", "09:00"]]}),
        "invalid period 09:00-09:00 on fri: the end must be after the start",
        id="empty-period",
    ),
    pytest.param(
        _settings(weekly={"sat": [["22:00", "06:00"]]}),
        "invalid period 22:00-06:00 on sat",
        id="overnight-period",
    ),
    pytest.param(
        _settings(weekly={"sun": [["13:00", "17:00"], ["09:00", "13:30"]]}),
        "periods 09:00-13:30 and 13:00-17:00 on sun overlap: merge them",
        id="overlapping-periods",
    ),
    pytest.param(
        _settings(weekly={"sun": [["09:00", "17:00"], ["09:00", "10:00"]]}),
        "on sun overlap",
        id="periods-with-same-start",
    ),
    pytest.param(
        _settings(holidays="2026-12-25"), "invalid holidays '2026-12-25'", id="holidays-string"
    ),
    pytest.param(
        _settings(holidays=["25.12.2026"]),
        "invalid holiday '25.12.2026': expected a date as YYYY-MM-DD",
        id="holiday-format",
    ),
    pytest.param(
        _settings(holidays=["2026-02-30"]), "invalid holiday '2026-02-30'", id="holiday-no-such-day"
    ),
    pytest.param(
        _settings(holidays=["20261225"]), "invalid holiday '20261225'", id="holiday-basic"
    ),
    pytest.param(_settings(holidays=[20261225]), "invalid holiday 20261225", id="holiday-number"),
]


@pytest.mark.parametrize(("data", "message"), SETTINGS_ERROR_CASES)
def test_from_settings_rejects(data, message):
    with pytest.raises(ValueError, match=message):
        WorkingHours.from_settings(data)


def test_default_rejects_unknown_zone():
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        WorkingHours.default("Mars/Olympus")


CONSTRUCTOR_ERROR_CASES = [
    pytest.param({7: periods(("09:00", "17:00"))}, ValueError, "invalid weekday 7", id="weekday-7"),
    pytest.param(
        {"mon": periods(("09:00", "17:00"))}, ValueError, "invalid weekday 'mon'", id="name"
    ),
    pytest.param(
        {0: ((time(9, 0, 30), time(17)),)},
        ValueError,
        "invalid time 09:00:30 on mon: periods start and end on whole minutes",
        id="seconds",
    ),
    pytest.param(
        {0: ((time(17), time(9)),)}, ValueError, "invalid period 17:00-09:00 on mon", id="reversed"
    ),
    pytest.param({0: (("09:00", "17:00"),)}, TypeError, "must contain naive times", id="strings"),
    pytest.param(
        {0: ((time(9, tzinfo=UTC), time(17)),)}, TypeError, "must contain naive times", id="aware"
    ),
    pytest.param({0: ((time(9),),)}, TypeError, "must be a .start, end. pair", id="single-time"),
]


@pytest.mark.parametrize(("weekly", "error", "message"), CONSTRUCTOR_ERROR_CASES)
def test_constructor_rejects(weekly, error, message):
    with pytest.raises(error, match=message):
        WorkingHours(zone=BERLIN, weekly=weekly)


def test_constructor_rejects_zone_name():
    with pytest.raises(TypeError, match="zone must be a zoneinfo.ZoneInfo"):
        WorkingHours(zone="Europe/Berlin", weekly={})


def test_constructor_rejects_datetime_holiday():
    with pytest.raises(TypeError, match="holidays must be dates"):
        WorkingHours(zone=BERLIN, weekly={}, holidays={datetime(2026, 12, 25)})


def test_to_settings_rejects_zone_without_key():
    paths = [Path(root, "Europe", "Berlin") for root in zoneinfo.TZPATH]
    path = next((path for path in paths if path.is_file()), None)
    if path is None:
        pytest.skip("no Europe/Berlin file on zoneinfo.TZPATH")
    with path.open("rb") as source:
        zone = ZoneInfo.from_file(source)
    hours = WorkingHours(zone=zone, weekly={})

    with pytest.raises(ValueError, match="this time zone has no IANA name"):
        hours.to_settings()


def test_working_hours_are_hashable():
    assert hash(OFFICE) == hash(WorkingHours.default("Europe/Berlin"))


DURATION_CASES = [
    pytest.param(0, "0 min", id="zero"),
    pytest.param(29.9, "0 min", id="under-half-minute"),
    pytest.param(30, "1 min", id="half-minute-rounds-up"),
    pytest.param(5 * MINUTE, "5 min", id="minutes"),
    pytest.param(59 * MINUTE + 29, "59 min", id="just-under-hour"),
    pytest.param(59 * MINUTE + 30, "1 h", id="rounds-to-hour"),
    pytest.param(3 * HOUR, "3 h", id="whole-hours"),
    pytest.param(12 * HOUR + 5 * MINUTE, "12 h 5 min", id="hours-and-minutes"),
    pytest.param(23 * HOUR + 59 * MINUTE + 29, "23 h 59 min", id="just-under-day"),
    pytest.param(23 * HOUR + 59 * MINUTE + 30, "1 d", id="rounds-to-day"),
    pytest.param(DAY + 5 * HOUR + 40 * MINUTE, "1 d 6 h", id="days-round-to-hours"),
    pytest.param(DAY + 5 * HOUR + 29 * MINUTE, "1 d 5 h", id="days-round-down"),
    pytest.param(3 * DAY + 2 * HOUR, "3 d 2 h", id="days-and-hours"),
    pytest.param(2 * DAY, "2 d", id="whole-days"),
    pytest.param(400 * DAY, "400 d", id="no-larger-unit"),
]


@pytest.mark.parametrize(("seconds", "text"), DURATION_CASES)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    "seconds", [-1, float("nan"), float("inf")], ids=["negative", "nan", "inf"]
)
def test_format_duration_rejects(seconds):
    with pytest.raises(ValueError, match="invalid duration"):
        format_duration(seconds)
