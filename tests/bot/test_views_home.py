"""The App Home builder: age marks, row budget, order of the parts, thread links."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.slackdouble.validation import HOME, view_problems
from bot.views.home import (
    AGING_MARK,
    FRESH_MARK,
    HOME_MAX_BLOCKS,
    OLD_MARK,
    HomeContent,
    age_mark,
    allocate_rows,
    home_view,
    thread_link,
)
from storage.queue import HandoffList, HandoffRow, WaitingQueue, WaitingRow

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
URL = "https://acme.slack.com/"
HOUR = 3600


def waiting(index, *, claimed_by=None, hours=1.0):
    return WaitingRow(
        conversation_id=index,
        channel_id="C0CANDIDATES",
        thread_ts=f"1764770000.{index:06d}",
        contact_name=f"Contact {index}",
        claimed_by=claimed_by,
        waiting_since=NOW - timedelta(hours=hours),
    )


def handoff(index, *, accepted=False):
    return HandoffRow(
        delivery_id=index,
        channel_id="C0CANDIDATES",
        thread_ts=f"1764760000.{index:06d}",
        contact_name=f"Hand-off {index}",
        status="qualified",
        rating=4,
        delivered_by="U0AGENT",
        delivered_at=NOW - timedelta(hours=index),
        accepted_by="U0RECRUIT" if accepted else None,
        accepted_at=NOW if accepted else None,
        team_name=None,
    )


def content(mine=(), unclaimed=(), handoffs=(), *, totals=None, others=0, waits=None):
    mine, unclaimed, handoffs = list(mine), list(unclaimed), list(handoffs)
    mine_total, unclaimed_total, handoff_total = totals or (
        len(mine),
        len(unclaimed),
        len(handoffs),
    )
    return HomeContent(
        queue=WaitingQueue(
            mine=mine,
            mine_total=mine_total,
            unclaimed=unclaimed,
            unclaimed_total=unclaimed_total,
            claimed_by_others=others,
        ),
        handoffs=HandoffList(
            rows=handoffs,
            total=handoff_total,
            unaccepted_total=sum(1 for row in handoffs if row.accepted_by is None),
        ),
        waits=waits
        if waits is not None
        else {row.conversation_id: HOUR for row in mine + unclaimed},
        schedule="Working hours: mon 09:00-17:00 (UTC)",
        workspace_url=URL,
        now=NOW,
        available={"claim", "read", "help"},
    )


def texts(view):
    return [json.dumps(block) for block in view.to_dict()["blocks"]]


@pytest.mark.parametrize(
    ("seconds", "mark"),
    [
        (0, FRESH_MARK),
        (12 * HOUR - 1, FRESH_MARK),
        (12 * HOUR, AGING_MARK),
        (24 * HOUR, AGING_MARK),
        (24 * HOUR + 1, OLD_MARK),
        (90 * HOUR, OLD_MARK),
    ],
)
def test_age_mark_boundaries(seconds, mark):
    assert age_mark(seconds) == mark


def test_row_shows_mark_of_working_hours_wait():
    # Waiting 30 hours on the clock but 5 working hours: the mark follows the working hours.
    row = waiting(1, hours=30)
    view = home_view(content(unclaimed=[row], waits={1: 5 * HOUR}))

    [text] = [t for t in texts(view) if "Contact 1" in t]
    assert FRESH_MARK in text
    assert "waiting 5 h" in text
    assert "Waits count working hours" in json.dumps(view.to_dict())


def test_rows_link_to_their_threads():
    row = waiting(7)
    view = home_view(content(unclaimed=[row]))

    link = thread_link(URL, row.channel_id, row.thread_ts)
    assert link == (
        "https://acme.slack.com/archives/C0CANDIDATES/p1764770000000007"
        "?thread_ts=1764770000.000007&cid=C0CANDIDATES"
    )
    [text] = [t for t in texts(view) if "Contact 7" in t]
    assert f"<{link.replace('&', '&amp;')}|Contact 7>" in json.loads(text)["text"]["text"]


def test_rows_without_workspace_url_are_plain():
    home = content(unclaimed=[waiting(1)])
    view = home_view(HomeContent(**{**home.__dict__, "workspace_url": None}))

    [text] = [t for t in texts(view) if "Contact 1" in t]
    assert "archives" not in text


def test_long_queue_stays_within_block_limit():
    mine = [waiting(i, claimed_by="U0AGENT", hours=300 - i) for i in range(200)]
    unclaimed = [waiting(1000 + i, hours=200 - i / 10) for i in range(500)]
    handoffs = [handoff(i) for i in range(150)]

    view = home_view(content(mine, unclaimed, handoffs, totals=(200, 900, 400)))

    payload = view.to_dict()
    assert len(payload["blocks"]) <= HOME_MAX_BLOCKS
    assert view_problems(payload, view_type=HOME) == []
    body = json.dumps(payload)
    assert "|Contact 0>" in body
    assert "|Contact 1000>" in body
    assert "|Hand-off 0>" in body
    assert "more conversations wait" in body
    assert "older hand-offs are not shown" in body


def test_long_queue_shows_oldest_rows_and_count_of_rest():
    unclaimed = [waiting(i, hours=100 - i) for i in range(100)]

    view = home_view(content(unclaimed=unclaimed, totals=(0, 250, 0)))

    shown = [t for t in texts(view) if "Contact " in t]
    assert "|Contact 0>" in shown[0]
    assert len(shown) == 86
    assert "|Contact 85>" in shown[-1]
    assert "164 more conversations wait, each for less time" in json.dumps(view.to_dict())


def test_claimed_by_others_counted_not_listed():
    view = home_view(content(unclaimed=[waiting(1)], others=3))

    body = json.dumps(view.to_dict())
    assert "3 conversations claimed by others also wait" in body
    assert "*Claimed by you*: none waiting." in body


def test_unaccepted_handoffs_come_first():
    view = home_view(content(unclaimed=[waiting(1)], handoffs=[handoff(1)]))

    headers = [b["text"]["text"] for b in view.to_dict()["blocks"] if b["type"] == "header"]
    assert headers == [
        "caretbot",
        "Hand-offs to you (1 to accept)",
        "Waiting for the team",
        "Commands",
    ]
    assert "Not accepted yet" in json.dumps(view.to_dict())


def test_accepted_handoffs_follow_the_queue():
    view = home_view(content(unclaimed=[waiting(1)], handoffs=[handoff(1, accepted=True)]))

    headers = [b["text"]["text"] for b in view.to_dict()["blocks"] if b["type"] == "header"]
    assert headers == ["caretbot", "Waiting for the team", "Hand-offs to you", "Commands"]
    assert "Accepted by <@U0RECRUIT>" in json.dumps(view.to_dict())


def test_no_handoffs_no_handoff_part():
    view = home_view(content())

    body = json.dumps(view.to_dict())
    assert "Hand-offs to you" not in body
    assert "`^claim` make this conversation yours" in body


def test_contact_name_is_escaped_and_cut():
    row = WaitingRow(
        conversation_id=1,
        channel_id="C0CANDIDATES",
        thread_ts="1764770000.000001",
        contact_name="<!channel> " + "x" * 200,
        claimed_by=None,
        waiting_since=NOW,
    )
    view = home_view(content(unclaimed=[row]))

    [text] = [t for t in texts(view) if "xxx" in t]
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert "x" * 100 not in text


@pytest.mark.parametrize(
    ("budget", "totals", "expected"),
    [
        (10, [2, 50, 50], [2, 4, 4]),
        (10, [0, 3, 0], [0, 3, 0]),
        (5, [10, 10, 10], [2, 2, 1]),
        (0, [4, 4, 4], [0, 0, 0]),
    ],
)
def test_allocate_rows(budget, totals, expected):
    assert allocate_rows(budget, totals) == expected


def outsider_content(handoffs=(), *, total=None):
    handoffs = list(handoffs)
    return HomeContent(
        **{
            **content(handoffs=handoffs).__dict__,
            "queue": None,
            "handoffs": HandoffList(
                rows=handoffs,
                total=len(handoffs) if total is None else total,
                unaccepted_total=len(handoffs),
            ),
        }
    )


def test_outsider_home_has_no_queue_and_no_help():
    view = home_view(outsider_content())

    payload = view.to_dict()
    assert view_problems(payload, view_type=HOME) == []
    body = json.dumps(payload)
    assert "Waiting for the team" not in body
    assert "Commands" not in body
    assert "Conversations delivered to you appear here." in body


def test_outsider_home_lists_handoffs_within_block_limit():
    handoffs = [handoff(i) for i in range(150)]

    view = home_view(outsider_content(handoffs, total=400))

    payload = view.to_dict()
    assert len(payload["blocks"]) <= HOME_MAX_BLOCKS
    assert view_problems(payload, view_type=HOME) == []
    body = json.dumps(payload)
    assert "|Hand-off 0>" in body
    assert "older hand-offs are not shown" in body
    assert "Conversations delivered to you appear here." not in body
