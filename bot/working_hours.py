"""A workspace's working hours, the working time between two instants, and duration text.

A schedule is a set of wall-clock periods on each weekday in one IANA time zone, minus
holidays, which are dates in that zone. The default is Monday to Friday, 09:00 to 17:00.

Daylight-saving rule: a period covers exactly the instants at which a clock in the zone
shows a time inside the period on that date. So a period counts the real time that passes
while the clock is inside it. On a day that skips 02:00-03:00, the period 01:00-04:00 counts
2 hours, and a period inside the skipped hour counts nothing. On a day that repeats
02:00-03:00, the period 01:00-04:00 counts 4 hours, because the repeated hour is worked twice.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# As the end of a period, 00:00 means 24:00, the end of the day.
END_OF_DAY = time(0)
DEFAULT_PERIODS = ((time(9), time(17)),)
SETTINGS_KEYS = ("time_zone", "weekly", "holidays")

_SECONDS_PER_DAY = 86400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# datetime requires every UTC offset to be strictly between -24 h and +24 h.
_MAX_OFFSET_SECONDS = _SECONDS_PER_DAY
# Working intervals are cached in fixed blocks of UTC time. A long span then adds one
# cached total per block, and the first call for a short span computes about a month of days.
_BLOCK_SECONDS = 30 * _SECONDS_PER_DAY
_TIME_PATTERN = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class WorkingHours:
    """A weekly schedule of working periods in one time zone, with holidays.

    `weekly` maps a weekday (0 is Monday) to its periods of local wall-clock time, each a
    (start, end) pair of whole minutes. An end of 00:00 means 24:00, so a period never
    crosses midnight, and a night shift is two periods on two days. Construction sorts the
    periods and drops days without periods. It raises ValueError for invalid periods and
    TypeError for values of the wrong type.
    Treat `weekly` as read-only, because the working-time caches are built from it once.
    """

    zone: ZoneInfo
    weekly: dict[int, tuple[tuple[time, time], ...]] = field(hash=False)
    holidays: frozenset[date] = frozenset()
    # Periods in seconds since local midnight, indexed by weekday.
    _period_seconds: tuple[tuple[tuple[int, int], ...], ...] = field(
        init=False, repr=False, compare=False, hash=False
    )
    # Cached working intervals by block index (UTC timestamp // _BLOCK_SECONDS).
    _blocks: dict[int, _Block] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.zone, ZoneInfo):
            raise TypeError(f"zone must be a zoneinfo.ZoneInfo, got {type(self.zone).__name__}")
        weekly: dict[int, tuple[tuple[time, time], ...]] = {}
        period_seconds: list[tuple[tuple[int, int], ...]] = [()] * 7
        for day in sorted(self.weekly):
            periods, seconds = _check_periods(day, self.weekly[day])
            if periods:
                weekly[day] = periods
                period_seconds[day] = seconds
        holidays = frozenset(self.holidays)
        for holiday in holidays:
            if isinstance(holiday, datetime) or not isinstance(holiday, date):
                raise TypeError(f"holidays must be dates, got {holiday!r}")
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "_period_seconds", tuple(period_seconds))
        object.__setattr__(self, "_blocks", {})

    @classmethod
    def default(cls, zone_name: str) -> WorkingHours:
        """Return Monday to Friday, 09:00 to 17:00, in the named IANA time zone."""
        return cls(zone=_load_zone(zone_name), weekly=dict.fromkeys(range(5), DEFAULT_PERIODS))

    @classmethod
    def from_settings(cls, data: Mapping[str, Any]) -> WorkingHours:
        """Build working hours from the JSON settings form that `to_settings` returns.

        `time_zone` is required. A missing `weekly` means Monday to Friday, 09:00 to 17:00,
        and a day missing from `weekly` has no working time. Raises ValueError naming the
        invalid value.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"invalid working-hours settings {data!r}: expected a JSON object")
        unknown = sorted(str(key) for key in data if key not in SETTINGS_KEYS)
        if unknown:
            raise ValueError(
                f"unknown working-hours setting {unknown[0]!r}: "
                f"expected only {', '.join(SETTINGS_KEYS)}"
            )
        if "time_zone" not in data:
            raise ValueError("missing working-hours setting 'time_zone', such as 'Europe/Berlin'")
        zone = _load_zone(data["time_zone"])
        if "weekly" in data:
            weekly = _parse_weekly(data["weekly"])
        else:
            weekly = dict.fromkeys(range(5), DEFAULT_PERIODS)
        holidays = _parse_holidays(data.get("holidays", []))
        return cls(zone=zone, weekly=weekly, holidays=holidays)

    def to_settings(self) -> dict[str, Any]:
        """Return the JSON-ready settings form, with days in week order and holidays sorted.

        Raises ValueError when the zone was loaded from a file and has no IANA name.
        """
        if self.zone.key is None:
            raise ValueError("this time zone has no IANA name: load it with ZoneInfo(name)")
        weekly = {
            DAY_NAMES[day]: [[_format_time(start), _format_end(end)] for start, end in periods]
            for day, periods in self.weekly.items()
        }
        return {
            "time_zone": self.zone.key,
            "weekly": weekly,
            "holidays": [holiday.isoformat() for holiday in sorted(self.holidays)],
        }

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Return the working time from `start` to `end` in seconds, or 0 when end <= start.

        Both must be timezone-aware. The module docstring gives the daylight-saving rule.
        """
        start_instant = _timestamp(start, "start")
        end_instant = _timestamp(end, "end")
        if end_instant <= start_instant:
            return 0.0
        first = int(start_instant // _BLOCK_SECONDS)
        last = int(end_instant // _BLOCK_SECONDS)
        block = self._block(first)
        if first == last:
            return block.working_before(end_instant) - block.working_before(start_instant)
        total = block.total - block.working_before(start_instant)
        for index in range(first + 1, last):
            total += self._block(index).total
        return total + self._block(last).working_before(end_instant)

    def _block(self, index: int) -> _Block:
        block = self._blocks.get(index)
        if block is None:
            block = self._build_block(index)
            self._blocks[index] = block
        return block

    def _build_block(self, index: int) -> _Block:
        block_start = index * _BLOCK_SECONDS
        block_end = block_start + _BLOCK_SECONDS
        # Because a UTC offset is under 24 h, an instant's local date is at most one day
        # away from its UTC date.
        first_day = block_start // _SECONDS_PER_DAY + _EPOCH_ORDINAL - 1
        last_day = (block_end - 1) // _SECONDS_PER_DAY + _EPOCH_ORDINAL + 1
        intervals = []
        for ordinal in range(first_day, last_day + 1):
            for interval_start, interval_end in self._day_intervals(ordinal):
                clipped_start = max(interval_start, block_start)
                clipped_end = min(interval_end, block_end)
                if clipped_start < clipped_end:
                    intervals.append((clipped_start, clipped_end))
        intervals.sort()
        return _Block(intervals)

    def _day_intervals(self, ordinal: int) -> list[tuple[int, int]]:
        """Return the working intervals of one local date, as UTC timestamps.

        Each instant has one local date and one wall time, so the intervals of all days are
        disjoint and can share one sorted timeline.
        """
        day = date.fromordinal(ordinal)
        periods = self._period_seconds[day.weekday()]
        if not periods or day in self.holidays:
            return []
        # Local midnight read as if it were UTC: wall time w at UTC offset o is the instant
        # midnight + w - o.
        midnight = (ordinal - _EPOCH_ORDINAL) * _SECONDS_PER_DAY
        segments = _offset_segments(
            self.zone,
            midnight + periods[0][0] - _MAX_OFFSET_SECONDS,
            midnight + periods[-1][1] + _MAX_OFFSET_SECONDS,
        )
        intervals = []
        for period_start, period_end in periods:
            for segment_start, segment_end, offset in segments:
                interval_start = max(midnight + period_start - offset, segment_start)
                interval_end = min(midnight + period_end - offset, segment_end)
                if interval_start < interval_end:
                    intervals.append((interval_start, interval_end))
        return intervals


class _Block:
    """The working intervals inside one block of UTC time, with running totals."""

    __slots__ = ("starts", "ends", "before", "total")

    def __init__(self, intervals: Sequence[tuple[float, float]]) -> None:
        self.starts = [start for start, _ in intervals]
        self.ends = [end for _, end in intervals]
        # before[i] is the working time of the intervals that precede interval i.
        self.before = []
        total = 0.0
        for start, end in intervals:
            self.before.append(total)
            total += end - start
        self.total = total

    def working_before(self, instant: float) -> float:
        """Return the working time in this block before `instant`."""
        index = bisect_right(self.starts, instant) - 1
        if index < 0:
            return 0.0
        return self.before[index] + min(instant, self.ends[index]) - self.starts[index]


def _offset_segments(zone: ZoneInfo, low: int, high: int) -> list[tuple[float, float, int]]:
    """Split the timeline into (start, end, UTC offset) segments, exact from `low` to `high`.

    The first segment starts at -inf and the last one ends at +inf.
    """
    # NOTE: Offsets are probed 4 times across the window, at most 24 h apart, so two changes
    # between neighbouring probes that restore the first offset would be missed. In tzdata
    # 2025b, offset changes in every zone from 1900 to 2100 are at least 95 hours apart.
    step = (high - low) // 3
    probes = [low, low + step, low + 2 * step, high]
    offsets = [_utc_offset(zone, probe) for probe in probes]
    segments: list[tuple[float, float, int]] = []
    segment_start = -math.inf
    for index in range(3):
        if offsets[index] != offsets[index + 1]:
            change = _find_offset_change(zone, probes[index], probes[index + 1], offsets[index])
            segments.append((segment_start, change, offsets[index]))
            segment_start = change
    segments.append((segment_start, math.inf, offsets[-1]))
    return segments


def _find_offset_change(zone: ZoneInfo, low: int, high: int, low_offset: int) -> int:
    """Return the first whole second after `low` at which the offset differs from low_offset.

    The offset must differ at `high`. tzdata changes offsets only at whole seconds.
    """
    while high - low > 1:
        middle = (low + high) // 2
        if _utc_offset(zone, middle) == low_offset:
            low = middle
        else:
            high = middle
    return high


def _utc_offset(zone: ZoneInfo, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def clock_seconds(start: datetime, end: datetime) -> float:
    """Return the real time from `start` to `end` in seconds, or 0 when end <= start.

    Both must be timezone-aware. Unlike `end - start`, which subtracts wall-clock times when
    both share one tzinfo, this counts the hour that a daylight-saving change adds or skips.
    """
    return max(0.0, _timestamp(end, "end") - _timestamp(start, "start"))


def format_duration(seconds: float) -> str:
    """Format a duration for people, as "0 min", "5 min", "12 h 5 min" or "3 d 2 h".

    A duration is first rounded to the nearest minute, halves up. Under 24 hours the text
    shows hours and minutes. From 24 hours on, it shows days and hours, rounded to the
    nearest hour (halves up), so 1 d 5 h 40 min reads "1 d 6 h". A day is 24 hours of the
    measured time, so 24 working hours read "1 d". Zero parts are left out, except in "0 min".
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"invalid duration {seconds!r}: expected a finite number of seconds >= 0")
    minutes = math.floor(seconds / 60 + 0.5)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h" if minutes == 0 else f"{hours} h {minutes} min"
    days, hours = divmod(math.floor(seconds / 3600 + 0.5), 24)
    return f"{days} d" if hours == 0 else f"{days} d {hours} h"


def _timestamp(moment: datetime, name: str) -> float:
    # NOTE: A tzinfo whose utcoffset() returns None passes, and timestamp() then reads the
    # time as local time. Calling utcoffset() here would nearly double the cost for UTC times.
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    return moment.timestamp()


def _load_zone(name: object) -> ZoneInfo:
    if not isinstance(name, str):
        raise ValueError(
            f"invalid time zone {name!r}: expected an IANA name as a string, such as "
            "'Europe/Berlin'"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"unknown time zone {name!r}: expected an IANA name such as 'Europe/Berlin'. "
            "If every name is unknown, install the tzdata package."
        ) from error


def _check_periods(
    day: object, periods: object
) -> tuple[tuple[tuple[time, time], ...], tuple[tuple[int, int], ...]]:
    """Validate one day's periods and return them sorted, as times and as seconds."""
    if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
        raise ValueError(f"invalid weekday {day!r}: expected 0 (Monday) to 6 (Sunday)")
    day_name = DAY_NAMES[day]
    if not isinstance(periods, Sequence):
        raise TypeError(f"the periods of {day_name} must be a sequence, got {periods!r}")
    checked = []
    for period in periods:
        if not (isinstance(period, Sequence) and len(period) == 2):
            raise TypeError(f"a period on {day_name} must be a (start, end) pair, got {period!r}")
        start, end = period
        for moment in (start, end):
            if not isinstance(moment, time) or moment.tzinfo is not None:
                raise TypeError(f"a period on {day_name} must contain naive times, got {period!r}")
            if moment.second or moment.microsecond:
                raise ValueError(
                    f"invalid time {moment.isoformat()} on {day_name}: "
                    "periods start and end on whole minutes"
                )
        start_seconds = _seconds_since_midnight(start)
        end_seconds = _SECONDS_PER_DAY if end == END_OF_DAY else _seconds_since_midnight(end)
        if end_seconds <= start_seconds:
            raise ValueError(
                f"invalid period {_format_period(start, end)} on {day_name}: the end must be "
                "after the start. Split a period that crosses midnight into two, such as "
                "mon 22:00-24:00 and tue 00:00-06:00."
            )
        checked.append(((start, end), (start_seconds, end_seconds)))
    checked.sort(key=lambda item: item[1])
    for (previous, previous_seconds), (current, current_seconds) in pairwise(checked):
        if current_seconds[0] < previous_seconds[1]:
            raise ValueError(
                f"periods {_format_period(*previous)} and {_format_period(*current)} on "
                f"{day_name} overlap: merge them into one period, or end the first one before "
                "the second one starts"
            )
    return tuple(item[0] for item in checked), tuple(item[1] for item in checked)


def _parse_weekly(value: object) -> dict[int, tuple[tuple[time, time], ...]]:
    if not isinstance(value, Mapping):
        raise ValueError(
            f"invalid weekly schedule {value!r}: expected an object from day names to lists "
            'of periods, such as {"mon": [["09:00", "17:00"]]}'
        )
    weekly = {}
    for day_name, periods in value.items():
        if day_name not in DAY_NAMES:
            raise ValueError(
                f"invalid day name {day_name!r} in the weekly schedule: expected one of "
                f"{', '.join(DAY_NAMES)}"
            )
        if isinstance(periods, str) or not isinstance(periods, Sequence):
            raise ValueError(
                f"invalid periods {periods!r} for {day_name}: expected a list of "
                '[start, end] pairs, such as [["09:00", "12:00"], ["13:00", "17:00"]]'
            )
        weekly[DAY_NAMES.index(day_name)] = tuple(
            _parse_period(day_name, period) for period in periods
        )
    return weekly


def _parse_period(day_name: str, period: object) -> tuple[time, time]:
    if (
        isinstance(period, str)
        or not isinstance(period, Sequence)
        or len(period) != 2
        or not all(isinstance(text, str) for text in period)
    ):
        raise ValueError(
            f"invalid period {period!r} on {day_name}: expected a [start, end] pair of "
            'times, such as ["09:00", "17:00"]'
        )
    start_text, end_text = period
    if start_text == "24:00":
        raise ValueError(
            f"invalid start '24:00' on {day_name}: a period cannot start at the end of the day. "
            "Start it at 00:00 on the next day."
        )
    end = END_OF_DAY if end_text == "24:00" else _parse_time(day_name, end_text)
    return _parse_time(day_name, start_text), end


def _parse_time(day_name: str, text: str) -> time:
    match = _TIME_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(
            f"invalid time {text!r} on {day_name}: expected HH:MM on a 24-hour clock, such as "
            "'09:00' or '17:30', or '24:00' for the end of the day"
        )
    return time(int(match[1]), int(match[2]))


def _parse_holidays(value: object) -> frozenset[date]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(
            f"invalid holidays {value!r}: expected a list of dates, such as ['2026-12-25']"
        )
    return frozenset(_parse_holiday(text) for text in value)


def _parse_holiday(text: object) -> date:
    if isinstance(text, str) and _DATE_PATTERN.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(
        f"invalid holiday {text!r}: expected a date as YYYY-MM-DD, such as '2026-12-25'"
    )


def _seconds_since_midnight(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60


def _format_time(moment: time) -> str:
    return moment.strftime("%H:%M")


def _format_end(moment: time) -> str:
    return "24:00" if moment == END_OF_DAY else _format_time(moment)


def _format_period(start: time, end: time) -> str:
    return f"{_format_time(start)}-{_format_end(end)}"
