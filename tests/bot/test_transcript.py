from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.transcript import (
    TranscriptDelivery,
    TranscriptHeader,
    TranscriptMessage,
    TranscriptNote,
    render_transcript,
)

NEW_YORK = ZoneInfo("America/New_York")
USER_NAMES = {"U0ANN": "Ann Agent", "U0RITA": "Rita Recruiter"}
HEADER = TranscriptHeader(
    contact="Zoë Müller",
    application="Backend Engineer (REQ-42)",
    claimed_by="Ann Agent",
    claimed_at=datetime(2024, 3, 9, 14, 5, tzinfo=UTC),
)


def utc(day, hour, minute=0):
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


def message(at, author, text, *, side="contact", ts=None, **fields):
    ts = ts or f"{int(at.timestamp())}.000100"
    return TranscriptMessage(ts=ts, at=at, author_name=author, side=side, text=text, **fields)


def render(messages=(), notes=(), deliveries=(), *, header=HEADER, zone=NEW_YORK):
    return render_transcript(
        header, list(messages), list(notes), list(deliveries), zone=zone, user_names=USER_NAMES
    )


def body_lines(transcript):
    """Return the lines after the header's blank separator line."""
    lines = transcript.splitlines()
    return lines[lines.index("") + 1 :]


def test_transcript_full_conversation():
    # New York moves from EST (UTC-5) to EDT (UTC-4) at 07:00 UTC on 2024-03-10.
    messages = [
        message(
            utc(9, 14),
            "Zoë Müller",
            "Hi <@U0ANN>, I'd like to apply.\nMy CV is attached &amp; my site is "
            "<https://zoe.example|here>.",
            files=("resume.pdf", "cover letter.docx"),
        ),
        message(
            utc(9, 14, 10),
            "Ann Agent",
            "Thanks! Could you start in April?",
            side="team",
            edited_at=utc(9, 14, 12),
            revisions=("Thanks!", "Thanks! Can you start in April?"),
        ),
        message(utc(10, 6, 30), "Zoë Müller", "Oops, wrong chat", deleted=True),
        message(utc(10, 7, 30), "caretbot", "Reminder: <!here> reply by Monday", side="bot"),
        message(utc(11, 14), "Zoë Müller", "", files=("portfolio.zip",)),
    ]
    notes = [TranscriptNote(utc(9, 14, 20), "Ann Agent", "Strong fit for <#C0HIRE|hiring>")]
    deliveries = [
        TranscriptDelivery(
            at=utc(11, 15),
            delivered_by_name="Ann Agent",
            status_label="Qualified",
            rating=4,
            reason="Strong Python",
            recipients=("U0RITA", "Sam"),
        )
    ]

    transcript = render(messages, notes, deliveries)

    expected = [
        "Contact: Zoë Müller",
        "Application: Backend Engineer (REQ-42)",
        "First message: 2024-03-09 09:00",
        "Last message: 2024-03-11 10:00",
        "Time zone: America/New_York",
        "Claimed by: Ann Agent at 2024-03-09 09:05",
        "Deliveries:",
        "  2024-03-11 11:00 Qualified ★★★★☆ by Ann Agent to @Rita Recruiter, @Sam"
        " - reason: Strong Python",
        "",
        "2024-03-09 09:00 Zoë Müller: Hi @Ann Agent, I'd like to apply.",
        "    My CV is attached & my site is here (https://zoe.example)."
        " [file: resume.pdf] [file: cover letter.docx]",
        "2024-03-09 09:10 Ann Agent (edited 09:12): Thanks! Could you start in April?",
        "  earlier: Thanks!",
        "  earlier: Thanks! Can you start in April?",
        "2024-03-09 09:20 [internal note by Ann Agent]: Strong fit for #hiring",
        "2024-03-10 01:30 Zoë Müller (deleted): Oops, wrong chat",
        "2024-03-10 03:30 caretbot (bot): Reminder: @here reply by Monday",
        "2024-03-11 10:00 Zoë Müller: [file: portfolio.zip]",
        "2024-03-11 11:00 [delivery: Qualified ★★★★☆ by Ann Agent to @Rita Recruiter, @Sam]"
        " reason: Strong Python",
    ]
    actual = transcript.splitlines()
    for number, (actual_line, expected_line) in enumerate(zip(actual, expected, strict=False)):
        assert actual_line == expected_line, f"line {number + 1}"
    assert len(actual) == len(expected)
    assert transcript.endswith("\n")


def test_transcript_dst_in_other_zone():
    # Berlin moves from CET (UTC+1) to CEST (UTC+2) at 01:00 UTC on 2024-03-31.
    messages = [
        message(datetime(2024, 3, 31, 0, 30, tzinfo=UTC), "Zoë Müller", "before"),
        message(datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "Zoë Müller", "after"),
    ]

    lines = body_lines(render(messages, zone=ZoneInfo("Europe/Berlin")))

    assert lines == [
        "2024-03-31 01:30 Zoë Müller: before",
        "2024-03-31 03:30 Zoë Müller: after",
    ]


def test_transcript_fall_back_hour_repeats():
    # New York repeats 01:00 to 02:00 local on 2024-11-03: both messages read 01:30.
    first = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
    messages = [
        message(first, "Zoë Müller", "EDT"),
        message(first + timedelta(hours=1), "Zoë Müller", "EST"),
    ]

    lines = body_lines(render(messages))

    assert lines == ["2024-11-03 01:30 Zoë Müller: EDT", "2024-11-03 01:30 Zoë Müller: EST"]


def test_transcript_input_offsets_converted():
    tokyo = timezone(timedelta(hours=9))
    messages = [message(datetime(2024, 3, 12, 9, 0, tzinfo=tokyo), "Zoë Müller", "hi")]

    lines = body_lines(render(messages))

    assert lines == ["2024-03-11 20:00 Zoë Müller: hi"]


def test_transcript_sorts_by_time():
    messages = [
        message(utc(9, 15), "Ann Agent", "second", side="team"),
        message(utc(9, 14), "Zoë Müller", "first"),
    ]

    lines = body_lines(render(messages))

    assert lines == [
        "2024-03-09 09:00 Zoë Müller: first",
        "2024-03-09 10:00 Ann Agent: second",
    ]


def test_transcript_equal_times_order():
    at = utc(9, 14)
    messages = [
        message(at, "Zoë Müller", "one", ts="1.1"),
        message(at, "Ann Agent", "two", side="team", ts="1.2"),
    ]
    notes = [TranscriptNote(at, "Ann Agent", "note")]
    deliveries = [TranscriptDelivery(at, "Ann Agent", "Rejected", None, None, ())]

    lines = body_lines(render(messages, notes, deliveries))

    assert lines == [
        "2024-03-09 09:00 Zoë Müller: one",
        "2024-03-09 09:00 Ann Agent: two",
        "2024-03-09 09:00 [internal note by Ann Agent]: note",
        "2024-03-09 09:00 [delivery: Rejected by Ann Agent]",
    ]


def test_transcript_multiline_indent():
    text = "line one\r\nline two\n\n  indented three  \nline four"

    lines = body_lines(render([message(utc(9, 14), "Zoë Müller", text)]))

    assert lines == [
        "2024-03-09 09:00 Zoë Müller: line one",
        "    line two",
        "",
        "      indented three",
        "    line four",
    ]


def test_transcript_text_starting_with_newline():
    lines = body_lines(render([message(utc(9, 14), "Zoë Müller", "\nsecond")]))

    assert lines == ["2024-03-09 09:00 Zoë Müller:", "    second"]


def test_transcript_multiline_revision():
    edited = message(
        utc(9, 14),
        "Ann Agent",
        "new",
        side="team",
        edited_at=utc(9, 14, 1),
        revisions=("old first\nold second",),
    )

    lines = body_lines(render([edited]))

    assert lines == [
        "2024-03-09 09:00 Ann Agent (edited 09:01): new",
        "  earlier: old first",
        "        old second",
    ]


def test_transcript_edit_on_later_day():
    edited = message(utc(9, 14), "Ann Agent", "new", side="team", edited_at=utc(12, 16, 45))

    lines = body_lines(render([edited]))

    assert lines == ["2024-03-09 09:00 Ann Agent (edited 2024-03-12 12:45): new"]


def test_transcript_edit_date_in_local_zone():
    # 03:30 UTC on the 10th is still the 9th in New York, the day the message was sent.
    edited = message(utc(9, 14), "Ann Agent", "new", side="team", edited_at=utc(10, 3, 30))

    lines = body_lines(render([edited]))

    assert lines == ["2024-03-09 09:00 Ann Agent (edited 22:30): new"]


def test_transcript_edited_then_deleted():
    deleted_message = message(
        utc(9, 14),
        "Zoë Müller",
        "last <@U0RITA>",
        edited_at=utc(9, 14, 2),
        deleted=True,
        revisions=("first",),
        files=("a.txt",),
    )

    lines = body_lines(render([deleted_message]))

    assert lines == [
        "2024-03-09 09:00 Zoë Müller (edited 09:02) (deleted): last @Rita Recruiter [file: a.txt]",
        "  earlier: first",
    ]


def test_transcript_deleted_without_text():
    lines = body_lines(render([message(utc(9, 14), "Zoë Müller", "", deleted=True)]))

    assert lines == ["2024-03-09 09:00 Zoë Müller (deleted):"]


def test_transcript_files_after_multiline_text():
    attached = message(utc(9, 14), "Zoë Müller", "one\ntwo", files=("cv.pdf",))

    lines = body_lines(render([attached]))

    assert lines == ["2024-03-09 09:00 Zoë Müller: one", "    two [file: cv.pdf]"]


def test_transcript_multiline_note():
    note = TranscriptNote(
        utc(9, 14), "Ann Agent", "call back\nafter <!date^1710000000^{date}|Monday>"
    )

    lines = body_lines(render(notes=[note]))

    assert lines == [
        "2024-03-09 09:00 [internal note by Ann Agent]: call back",
        "    after Monday",
    ]


@pytest.mark.parametrize(
    ("rating", "stars"),
    [(0, "☆☆☆☆☆"), (1, "★☆☆☆☆"), (5, "★★★★★"), (7, "★★★★★"), (-1, "☆☆☆☆☆")],
)
def test_transcript_delivery_stars(rating, stars):
    delivery = TranscriptDelivery(utc(9, 14), "Ann Agent", "Hired", rating, None, ("#hiring",))

    lines = body_lines(render(deliveries=[delivery]))

    assert lines == [f"2024-03-09 09:00 [delivery: Hired {stars} by Ann Agent to #hiring]"]


def test_transcript_delivery_reason_one_line():
    delivery = TranscriptDelivery(
        utc(9, 14), "Ann Agent", "Rejected", None, "Salary\n  too high", ("@Rita",)
    )

    transcript = render(deliveries=[delivery])

    assert "  2024-03-09 09:00 Rejected by Ann Agent to @Rita - reason: Salary too high" in (
        transcript.splitlines()
    )
    assert body_lines(transcript) == [
        "2024-03-09 09:00 [delivery: Rejected by Ann Agent to @Rita] reason: Salary too high"
    ]


def test_transcript_header_lists_deliveries_in_order():
    deliveries = [
        TranscriptDelivery(utc(12, 14), "Ann Agent", "Hired", 5, None, ("U0RITA",)),
        TranscriptDelivery(utc(10, 14), "Ann Agent", "Qualified", 3, "Good", ("U0RITA",)),
    ]

    lines = render(deliveries=deliveries).splitlines()

    start = lines.index("Deliveries:")
    assert lines[start + 1 : start + 3] == [
        "  2024-03-10 10:00 Qualified ★★★☆☆ by Ann Agent to @Rita Recruiter - reason: Good",
        "  2024-03-12 10:00 Hired ★★★★★ by Ann Agent to @Rita Recruiter",
    ]


def test_transcript_empty_header():
    header = TranscriptHeader(contact=None, application=None, claimed_by=None, claimed_at=None)

    transcript = render(header=header, zone=ZoneInfo("UTC"))

    assert transcript == (
        "Contact: (unknown)\n"
        "Application: (none)\n"
        "Messages: none\n"
        "Time zone: UTC\n"
        "Claimed by: (unclaimed)\n"
        "Deliveries: none\n"
        "\n"
    )


def test_transcript_claim_without_time():
    header = TranscriptHeader(contact="Zoë", application=None, claimed_by="Ann", claimed_at=None)

    assert "Claimed by: Ann" in render(header=header).splitlines()


def test_transcript_first_last_from_times():
    messages = [
        message(utc(11, 14), "Zoë Müller", "late"),
        message(utc(9, 14), "Zoë Müller", "early"),
        message(utc(10, 14), "Zoë Müller", "middle"),
    ]

    lines = render(messages).splitlines()

    assert "First message: 2024-03-09 09:00" in lines
    assert "Last message: 2024-03-11 10:00" in lines


@pytest.mark.parametrize("field", ["message", "edit", "note", "delivery", "claim"])
def test_transcript_naive_datetime_rejected(field):
    naive = datetime(2024, 3, 9, 14, 0)
    messages, notes, deliveries, header = [], [], [], HEADER
    if field == "message":
        messages = [message(naive, "Zoë Müller", "hi", ts="1.1")]
    elif field == "edit":
        messages = [message(utc(9, 14), "Zoë Müller", "hi", edited_at=naive)]
    elif field == "note":
        notes = [TranscriptNote(naive, "Ann Agent", "x")]
    elif field == "delivery":
        deliveries = [TranscriptDelivery(naive, "Ann Agent", "Hired", None, None, ())]
    else:
        header = TranscriptHeader("Zoë", None, "Ann", naive)

    with pytest.raises(ValueError, match="naive datetime"):
        render(messages, notes, deliveries, header=header)
