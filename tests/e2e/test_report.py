"""/caret-report end to end: every grouping, the funnel, response times, periods and chart.

The November data set, all times in Berlin (UTC+1 in November), where the admin lives and
the default working hours are Monday to Friday 09:00 to 17:00:

- D1 qualified, 11-01 00:00:00, by the agent, application A (linkedin, paid-social,
  spring, Data Engineer), to U0REC1 and hm@example.com; no messages.
- D2 not qualified ("No SQL"), 11-30 23:59:59, by the other agent, application B
  (referral, Backend Engineer), no recipients. The contact wrote on Sunday 11-29 10:00 and
  the team answered on Monday 11-30 09:30.
- D3 review, 11-15 12:00, by the agent, application A2 (linkedin, organic, Data
  Engineer), to the team Recruiters and U0REC1. Messages on Tuesday 11-03: team 10:00,
  contact 10:30, team ^note 10:45, team 11:00, contact 21:00, team Wednesday 09:05, and a
  contact message after the delivery on 11-16.
- D4 spam, 11-20, by the agent, no application, no recipients. Team 10-31 23:59:59,
  contact 11-01 00:00:00.
- D5 qualified 10-31 23:59:59 and D6 qualified 12-01 00:00:00, both outside November.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.reports import GROUPS
from storage.conversations import ensure_workspace, get_or_create_conversation
from storage.models import Delivery, utcnow
from storage.settings import put_setting
from storage.teams import add_team
from tests.e2e.report_support import (
    ADMIN,
    BERLIN,
    RECIPIENT,
    add_admin,
    add_application,
    add_contact,
    add_conversation,
    add_delivery,
    answer_text,
    berlin,
    email_recipient,
    group_lines,
    run_command,
    team_recipient,
    user_recipient,
)
from tests.support import AGENT, OTHER_AGENT, TEAM

NOVEMBER = "2026-11-01 2026-11-30"


@pytest.fixture
def november(bot, slack):
    """Store the November data set and make the admin; return the delivery ids by name."""
    add_admin(slack)
    with bot.session_scope() as session:
        first = add_contact(session, "Casey One", created_at=berlin(2026, 11, 1, 0, 0, 0))
        second = add_contact(session, "Dana Two", created_at=berlin(2026, 10, 31, 23, 59, 59))
        add_contact(session, "Eli Three", created_at=berlin(2026, 11, 10, 12, 0))
        app_a = add_application(
            session,
            first,
            "Data Engineer",
            applied_at=berlin(2026, 11, 2, 9, 0),
            source="linkedin",
            medium="paid-social",
            campaign="spring",
        )
        app_a2 = add_application(
            session,
            first,
            "Data Engineer",
            requisition_id="REQ-2",
            applied_at=berlin(2026, 10, 31, 23, 59, 59),
            source="linkedin",
            medium="organic",
        )
        app_b = add_application(
            session,
            second,
            "Backend Engineer",
            applied_at=berlin(2026, 11, 30, 23, 59, 59),
            source="referral",
        )
        add_application(
            session, second, "Analyst", applied_at=berlin(2026, 12, 1, 0, 0, 0), source="x"
        )
        team = add_team(session, workspace_id=TEAM, name="Recruiters", members=[OTHER_AGENT])

        ids = {}
        conversation = add_conversation(session, contact_id=first)
        ids["D1"] = add_delivery(
            session,
            conversation,
            "qualified",
            berlin(2026, 11, 1, 0, 0, 0),
            agent=AGENT,
            application_id=app_a,
            recipients=[user_recipient(RECIPIENT), email_recipient("hm@example.com")],
        )
        conversation = add_conversation(
            session,
            [
                (berlin(2026, 11, 29, 10, 0), "contact", "Hello?"),
                (berlin(2026, 11, 30, 9, 30), "team", "Hi Dana"),
            ],
            contact_id=second,
        )
        ids["D2"] = add_delivery(
            session,
            conversation,
            "not_qualified",
            berlin(2026, 11, 30, 23, 59, 59),
            agent=OTHER_AGENT,
            application_id=app_b,
            reason="No SQL",
        )
        conversation = add_conversation(
            session,
            [
                (berlin(2026, 11, 3, 10, 0), "team", "Hi Casey"),
                (berlin(2026, 11, 3, 10, 30), "contact", "Hi"),
                (berlin(2026, 11, 3, 10, 45), "team", "^note keen"),
                (berlin(2026, 11, 3, 11, 0), "team", "When can you talk?"),
                (berlin(2026, 11, 3, 21, 0), "contact", "Tomorrow"),
                (berlin(2026, 11, 4, 9, 5), "team", "Great"),
                (berlin(2026, 11, 16, 10, 0), "contact", "Any news?"),
            ],
            contact_id=first,
        )
        ids["D3"] = add_delivery(
            session,
            conversation,
            "review",
            berlin(2026, 11, 15, 12, 0),
            agent=AGENT,
            application_id=app_a2,
            recipients=[team_recipient(team.id), user_recipient(RECIPIENT)],
        )
        conversation = add_conversation(
            session,
            [
                (berlin(2026, 10, 31, 23, 59, 59), "team", "Hello"),
                (berlin(2026, 11, 1, 0, 0, 0), "contact", "Hi"),
            ],
        )
        ids["D4"] = add_delivery(
            session, conversation, "spam", berlin(2026, 11, 20, 8, 0), agent=AGENT
        )
        conversation = add_conversation(
            session,
            [
                (berlin(2026, 10, 20, 10, 0), "contact", "Hi"),
                (berlin(2026, 12, 1, 0, 0, 0), "team", "Sorry for the wait"),
            ],
        )
        ids["D5"] = add_delivery(
            session, conversation, "qualified", berlin(2026, 10, 31, 23, 59, 59), agent=AGENT
        )
        conversation = add_conversation(session)
        ids["D6"] = add_delivery(
            session, conversation, "qualified", berlin(2026, 12, 1, 0, 0, 0), agent=AGENT
        )
    slack.reset()
    return ids


def report(bot, slack, text):
    """Run /caret-report; return the answer, after checking it stays in Slack's limits."""
    [answer] = run_command(bot, slack, "/caret-report", text)
    assert len(answer["blocks"]) <= 50
    for block in answer["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    return answer


EXPECTED_GROUPS = {
    "status": {
        "Qualified": "1 (25.0%)",
        "Not Qualified": "1 (25.0%)",
        "Review": "1 (25.0%)",
        "Spam": "1 (25.0%)",
    },
    "source": {
        "linkedin": "2 (50.0%) — Qualified 1 · Review 1",
        "referral": "1 (25.0%) — Not Qualified 1",
        "(none)": "1 (25.0%) — Spam 1",
    },
    "medium": {
        "(none)": "2 (50.0%) — Not Qualified 1 · Spam 1",
        "organic": "1 (25.0%) — Review 1",
        "paid-social": "1 (25.0%) — Qualified 1",
    },
    "campaign": {
        "(none)": "3 (75.0%) — Not Qualified 1 · Review 1 · Spam 1",
        "spring": "1 (25.0%) — Qualified 1",
    },
    "agent": {
        f"<@{AGENT}>": "3 (75.0%) — Qualified 1 · Review 1 · Spam 1",
        f"<@{OTHER_AGENT}>": "1 (25.0%) — Not Qualified 1",
    },
    "recipient": {
        f"<@{RECIPIENT}>": "2 (50.0%) — Qualified 1 · Review 1",
        "(none)": "2 (50.0%) — Not Qualified 1 · Spam 1",
        "hm@example.com": "1 (25.0%) — Qualified 1",
        "team Recruiters": "1 (25.0%) — Review 1",
    },
    "reason": {
        "(none)": "3 (75.0%) — Qualified 1 · Review 1 · Spam 1",
        "No SQL": "1 (25.0%) — Not Qualified 1",
    },
    "job": {
        "Data Engineer": "2 (50.0%) — Qualified 1 · Review 1",
        "Backend Engineer": "1 (25.0%) — Not Qualified 1",
        "(none)": "1 (25.0%) — Spam 1",
    },
}


def test_every_grouping_counts_and_shares(bot, slack, november):
    assert set(EXPECTED_GROUPS) == set(GROUPS)
    for group, expected in EXPECTED_GROUPS.items():
        answer = report(bot, slack, f"{NOVEMBER} by {group}")

        lines = group_lines(answer)
        assert lines == expected, group
        assert list(lines) == list(expected), f"{group}: largest groups first"
        assert "4 in all" in answer_text(answer)


def test_recipient_grouping_says_deliveries_count_twice(bot, slack, november):
    answer = report(bot, slack, f"{NOVEMBER} by recipient")

    assert "counts once for each" in answer["blocks"][0]["text"]["text"]


def test_funnel_stages_and_boundaries(bot, slack, november):
    answer = report(bot, slack, NOVEMBER)

    text = answer_text(answer)
    assert "Applications: 2\n" in text
    assert "Contacts added: 2\n" in text
    assert "Conversations started (the team wrote): 2\n" in text
    assert "Engaged (both sides wrote): 3\n" in text
    assert "Delivered: 4" in text


def test_response_times_in_both_measures(bot, slack, november):
    answer = report(bot, slack, NOVEMBER)

    lines = answer_text(answer).split("*Response times*")[1].splitlines()
    assert lines[1] == (
        "Contact's first reply: 15 min / 15 min in working hours, "
        "15 min / 15 min on the clock (2 deliveries)"
    )
    assert lines[2] == (
        "Agent's first response: 30 min / 30 min in working hours, "
        "12 h / 12 h on the clock (2 deliveries)"
    )
    assert lines[3] == (
        "Contact's response time: 1 h 38 min / 1 h 38 min in working hours, "
        "2 h 38 min / 2 h 38 min on the clock (2 deliveries)"
    )
    assert lines[4] == (
        "Agent's response time: 24 min / 24 min in working hours, "
        "14 h 54 min / 14 h 54 min on the clock (2 deliveries)"
    )


def test_figures_stored_once_per_delivery(bot, slack, november):
    report(bot, slack, NOVEMBER)

    with bot.session_scope() as session:
        d3 = session.get(Delivery, november["D3"])
        d1 = session.get(Delivery, november["D1"])
        d6 = session.get(Delivery, november["D6"])
    # 11:00 to 21:00 is 6 working hours, and 21:00 to 09:05 the next day 5 minutes.
    assert d3.contact_response_work == (1800 + 6 * 3600) / 2
    assert d3.contact_response_clock == (1800 + 10 * 3600) / 2
    assert d3.team_response_work == (1800 + 300) / 2
    assert d3.team_response_clock == (1800 + 12 * 3600 + 300) / 2
    assert d3.figures_at is not None
    assert d1.figures_at is not None
    assert d1.team_first_response_clock is None
    assert d6.figures_at is None, "outside the period, so not computed"


def test_median_of_three_deliveries(bot, slack):
    add_admin(slack)
    with bot.session_scope() as session:
        for minutes in (10, 20, 90):
            conversation = add_conversation(
                session,
                [
                    (berlin(2026, 11, 3, 10, 0), "contact", "Hi"),
                    (
                        berlin(2026, 11, 3, 10, minutes % 60) + timedelta(hours=minutes // 60),
                        "team",
                        "Hello",
                    ),
                ],
            )
            add_delivery(session, conversation, "other", berlin(2026, 11, 4, 12, 0), agent=AGENT)

    answer = report(bot, slack, NOVEMBER)

    text = answer_text(answer)
    assert (
        "Agent's first response: 20 min / 40 min in working hours, "
        "20 min / 40 min on the clock (3 deliveries)"
    ) in text
    assert "Contact's first reply: none yet" in text


def test_period_boundaries_of_iso_dates(bot, slack, november):
    first_day = report(bot, slack, "2026-11-01 2026-11-01 by status")
    last_day = report(bot, slack, "2026-11-30 2026-11-30 by status")
    october_end = report(bot, slack, "2026-10-31 2026-10-31 by status")
    december_start = report(bot, slack, "2026-12-01 2026-12-01")

    assert group_lines(first_day) == {"Qualified": "1 (100.0%)"}  # D1 at 00:00:00
    assert group_lines(last_day) == {"Not Qualified": "1 (100.0%)"}  # D2 at 23:59:59
    assert group_lines(october_end) == {"Qualified": "1 (100.0%)"}  # D5 at 23:59:59
    assert group_lines(december_start) == {"Qualified": "1 (100.0%)"}  # D6 at 00:00:00


def test_relative_periods(bot, slack):
    """Deliveries just inside and just outside each relative period, in Berlin time."""
    add_admin(slack)
    now = utcnow()
    today = now.astimezone(BERLIN).date()
    first_this = today.replace(day=1)
    first_last = (first_this - timedelta(days=1)).replace(day=1)
    first_next = (first_this + timedelta(days=32)).replace(day=1)
    midnight = _midnight(today)
    second = timedelta(seconds=1)
    minute = timedelta(minutes=1)
    times = [
        midnight,
        midnight - second,
        now - timedelta(days=7) + minute,
        now - timedelta(days=7) - minute,
        now - timedelta(days=30) + minute,
        now - timedelta(days=30) - minute,
        _midnight(first_this),
        _midnight(first_this) - second,
        _midnight(first_last),
        _midnight(first_last) - second,
    ]
    with bot.session_scope() as session:
        for at in times:
            add_delivery(session, add_conversation(session), "qualified", at, agent=AGENT)
    # Each period as [start, end), stated without the code under test. The command runs a
    # moment after `now`, which moves no delivery across the end of 7d or 30d.
    bounds = {
        "today": (midnight, _midnight(today + timedelta(days=1))),
        "7d": (now - timedelta(days=7), now + minute),
        "30d": (now - timedelta(days=30), now + minute),
        "this month": (_midnight(first_this), _midnight(first_next)),
        "last month": (_midnight(first_last), _midnight(first_this)),
    }

    for period, (start, end) in bounds.items():
        answer = report(bot, slack, period)

        expected = sum(1 for at in times if start <= at < end)
        assert f": {expected} in all." in answer["blocks"][0]["text"]["text"], period


def _midnight(day):
    """Return the UTC instant of midnight in Berlin on that date."""
    return datetime.combine(day, time(), tzinfo=BERLIN).astimezone(UTC)


def test_default_is_last_30_days_by_status(bot, slack):
    add_admin(slack)

    answer = report(bot, slack, "")

    assert answer["blocks"][0]["text"]["text"].startswith(
        "*Deliveries by status*, the last 30 days ("
    )
    assert "No deliveries in this period." in answer_text(answer)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("yesterday", "`yesterday` is not a period"),
        ("by country", "`by country` is not a grouping"),
        ("30d by", "`by` needs a grouping after it"),
        ("1000-01-01 9999-12-31", "`1000-01-01` is outside the years 1970 to 2999"),
        ("2026-11-31 2026-12-01", "`2026-11-31` is not a date"),
        ("2026-12-01 2026-11-01", "ends before it starts"),
        ("2026-11-01", "`2026-11-01` is not a period"),
    ],
)
def test_bad_arguments_get_usage(bot, slack, text, named):
    add_admin(slack)

    [answer] = run_command(bot, slack, "/caret-report", text)

    assert named in answer["text"]
    assert "Example: `/caret-report last month by source`" in answer["text"]
    assert slack.calls_to("files.completeUploadExternal") == []


def test_refusal_for_non_admin(bot, slack, november):
    [answer] = run_command(bot, slack, "/caret-report", NOVEMBER, user=AGENT)

    assert answer["text"].startswith("Only the workspace's admins and owners can run /caret-report")
    assert "blocks" not in answer
    assert slack.calls_to("files.getUploadURLExternal") == []


def test_configured_admin_may_run_it(bot, slack, november):
    with bot.session_scope() as session:
        put_setting(session, TEAM, "admins", [AGENT], updated_by=None)

    [answer] = run_command(bot, slack, "/caret-report", NOVEMBER, user=AGENT)

    assert "4 in all" in answer["blocks"][0]["text"]["text"]


def test_chart_uploaded_to_admin_dm(bot, slack, november):
    answer = report(bot, slack, f"{NOVEMBER} by source")

    [completed] = slack.calls_to("files.completeUploadExternal")
    assert completed.ok, completed.error
    assert completed.args["channel_id"] == slack.dm_channel_id(ADMIN)
    [file] = completed.response["files"]
    image = slack.file_content(file["id"])
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", image[16:24])
    assert (width, height) == (1000, 1200)
    assert "in your DM" in answer["blocks"][-1]["elements"][0]["text"]
    [dm_message] = [
        message for message in slack.messages_in(slack.dm_channel_id(ADMIN)) if message.get("files")
    ]
    assert dm_message["text"].startswith("Deliveries by source, 2026-11-01 to 2026-11-30")


def test_chart_failure_is_told(bot, slack, november):
    slack.fail_next("files.getUploadURLExternal", error="internal_error", status=200)

    answers = run_command(bot, slack, "/caret-report", NOVEMBER)

    assert len(answers) == 2
    assert "4 in all" in answers[0]["blocks"][0]["text"]["text"]
    assert answers[1]["text"].startswith("The chart could not be sent to your DM")


def test_many_groups_are_capped(bot, slack):
    add_admin(slack)
    with bot.session_scope() as session:
        contact = add_contact(session, "Many", created_at=berlin(2026, 11, 1))
        for number in range(30):
            application = add_application(
                session, contact, f"Job {number}", source=f"source-{number:02d}"
            )
            conversation = add_conversation(session, contact_id=contact)
            add_delivery(
                session,
                conversation,
                "qualified",
                berlin(2026, 11, 2, 10, number),
                agent=AGENT,
                application_id=application,
            )

    answer = report(bot, slack, f"{NOVEMBER} by source")

    assert len(group_lines(answer)) == 25
    assert "…and 5 more groups with 5 deliveries in all." in answer_text(answer)


def test_other_workspace_not_counted(bot, slack, november):
    with bot.session_scope() as session:
        ensure_workspace(session, "T0OTHER")
        conversation = get_or_create_conversation(
            session, workspace_id="T0OTHER", channel_id="C0X", thread_ts="1.000100"
        )
        add_delivery(session, conversation, "spam", berlin(2026, 11, 5, 10, 0), agent=AGENT)

    answer = report(bot, slack, NOVEMBER)

    assert "4 in all" in answer["blocks"][0]["text"]["text"]
