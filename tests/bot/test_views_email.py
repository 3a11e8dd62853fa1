"""bot.views.email: the hand-off and sign-in email, both parts, escaping and headers."""

from datetime import UTC, datetime

from bot.outcomes import Status
from bot.views.deliver import ApplicationChoice, ContactFacts
from bot.views.deliver_cards import DeliveryFacts
from bot.views.email import Envelope, handoff_email, signin_email

ENVELOPE = Envelope(mail_from="caretbot <caretbot@caret.example>", to="manager@client.example")
LINK = "https://caret.example/portal/signin/abc?next=%2Fportal%2Fdeliveries%2F3"
HOSTILE = "<script>alert(1)</script> & <img src=x onerror=alert(2)>"


def facts(**overrides):
    values = dict(
        status=Status.QUALIFIED,
        delivered_by="U0AGENT",
        delivered_at=datetime(2026, 12, 3, 14, 5, tzinfo=UTC),
        rating=4,
        notes="Strong SQL",
        contact=ContactFacts(name="Casey Candidate", email="casey@example.com", phone="+4420"),
        application=ApplicationChoice(id=3, job_title="Data Engineer", job_location="London"),
    )
    values.update(overrides)
    return DeliveryFacts(**values)


def build(**overrides):
    return handoff_email(
        facts(**overrides),
        ENVELOPE,
        delivered_by_name="Ann Agent",
        link=LINK,
        link_days=14,
        portal_url="https://caret.example/portal",
    )


def parts(message):
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def test_handoff_headers():
    message = build()

    assert message["Subject"] == "Hand-off: Casey Candidate (Qualified)"
    assert message["From"] == "caretbot <caretbot@caret.example>"
    assert message["To"] == "manager@client.example"
    assert message["Message-ID"].endswith("@caret.example>")
    assert message["Date"].endswith(" +0000")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"


def test_handoff_facts_in_both_parts():
    text, html = parts(build(reason="Too junior", reason_text="Needs two more years"))

    for part in (text, html):
        assert "Qualified" in part
        assert "★★★★☆ (4 of 5)" in part
        assert "Too junior" in part
        assert "Needs two more years" in part
        assert "Strong SQL" in part
        assert "casey@example.com" in part
        assert "+4420" in part
        assert "Data Engineer" in part
        assert "London" in part
        assert "Delivered by Ann Agent on 3 Dec 2026 at 14:05 UTC." in part
        assert "14 days" in part
        assert "manager@client.example" in part
    assert LINK in text
    assert 'href="https://caret.example/portal/signin/abc?next=%2Fportal' in html


def test_handoff_html_escapes_user_text():
    _text, html = parts(
        build(
            notes=HOSTILE,
            reason_text=HOSTILE,
            contact=ContactFacts(name=HOSTILE, email="a&b@example.com"),
        )
    )

    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;" in html
    assert "a&amp;b@example.com" in html


def test_handoff_text_keeps_user_text():
    text, _html = parts(build(notes=HOSTILE))

    assert HOSTILE in text


def test_subject_single_line_and_short():
    message = build(contact=ContactFacts(name="Casey\r\nBcc: victim@example.com " + "x" * 300))

    subject = message["Subject"]
    assert "\n" not in subject
    assert "\r" not in subject
    assert subject.startswith("Hand-off: Casey Bcc: victim@example.com")
    assert subject.endswith("… (Qualified)")
    assert message["Bcc"] is None


def test_subject_without_contact():
    message = build(contact=None, status=Status.REVIEW)

    assert message["Subject"] == "Hand-off: a candidate (Review)"


def test_multiline_notes_kept():
    text, html = parts(build(notes="line one\nline two"))

    assert "line one\nline two" in text
    assert "line one\nline two" in html


def test_signin_email_parts():
    message = signin_email(ENVELOPE, link=LINK, link_days=7)
    text, html = parts(message)

    assert message["Subject"] == "Your caretbot sign-in link"
    assert message["To"] == "manager@client.example"
    assert LINK in text
    assert "7 days" in text
    assert 'href="https://caret.example/portal/signin/abc?next=%2Fportal' in html
    assert "7 days" in html
