"""The App Home refresher's schedule: coalescing, spacing per user, the cap per workspace."""

from bot.home_refresh import RefreshSchedule


def test_schedule_coalesces_burst():
    schedule = RefreshSchedule(delay=2, min_interval=10)

    for moment in (0.0, 0.5, 1.0, 1.9):
        schedule.add(("T1", "U1"), moment)

    assert schedule.take_due(1.9) == []
    assert schedule.next_due() == 2.0
    assert schedule.take_due(2.0) == [("T1", "U1")]
    assert schedule.next_due() is None


def test_schedule_spaces_rebuilds_of_one_user():
    schedule = RefreshSchedule(delay=2, min_interval=10)
    schedule.published(("T1", "U1"), 0.0)

    schedule.add(("T1", "U1"), 1.0)
    schedule.add(("T1", "U2"), 1.0)

    assert schedule.take_due(3.0) == [("T1", "U2")]
    assert schedule.take_due(9.9) == []
    assert schedule.take_due(10.0) == [("T1", "U1")]


def test_schedule_caps_rebuilds_per_workspace():
    schedule = RefreshSchedule(delay=0, min_interval=0, max_per_minute=2)
    for user in ("U1", "U2", "U3"):
        schedule.add(("T1", user), 0.0)
    schedule.add(("T2", "U9"), 0.0)

    taken = schedule.take_due(0.0)
    for key in taken:
        schedule.published(key, 0.0)

    assert taken == [("T1", "U1"), ("T1", "U2"), ("T2", "U9")]
    assert schedule.take_due(59.0) == []
    assert schedule.next_due() == 60.0
    assert schedule.take_due(60.0) == [("T1", "U3")]
