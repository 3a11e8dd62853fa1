"""The email caretbot sends outside Slack: the hand-off and the sign-in link.

Each message has a plain-text part and an HTML part. The HTML comes from Jinja2 templates with
autoescaping on, so every user-typed value (names, notes, reasons) reaches the reader as text,
never as markup. Pure functions: no SMTP, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from jinja2 import DictLoader, Environment, StrictUndefined

from bot.outcomes import MAX_RATING, stars
from bot.views.deliver_cards import DeliveryFacts
from bot.views.text import shorten, single_line

# A subject line stays readable in a mail client's list and far under RFC 5322's 998.
_SUBJECT_NAME_LENGTH = 80

_HANDOFF_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: sans-serif; line-height: 1.4; max-width: 40em;">
<h1 style="font-size: 1.3em;">Hand-off: {{ name }}</h1>
<table cellpadding="4" style="border-collapse: collapse;">
{% for label, value in facts %}<tr><th align="left">{{ label }}</th><td>{{ value }}</td></tr>
{% endfor %}</table>
{% for label, text in long_texts %}<h2 style="font-size: 1.1em;">{{ label }}</h2>
<p style="white-space: pre-wrap;">{{ text }}</p>
{% endfor %}<p>{{ delivered }}</p>
<p><a href="{{ link }}">Open the conversation</a></p>
<p style="color: #555; font-size: 0.9em;">The link signs you in to caretbot and works for
{{ link_days }} days. Only the conversations delivered to {{ to }} are open to you.
If the link has expired, ask for a new one at {{ portal_url }}.</p>
</body>
</html>
"""

_SIGNIN_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: sans-serif; line-height: 1.4; max-width: 40em;">
<p>Someone asked for a link to sign in to caretbot as {{ to }}.</p>
<p><a href="{{ link }}">Sign in to caretbot</a></p>
<p style="color: #555; font-size: 0.9em;">The link works for {{ link_days }} days. If you
did not ask for it, you can ignore this email.</p>
</body>
</html>
"""

_TEMPLATES = Environment(
    loader=DictLoader({"handoff.html": _HANDOFF_HTML, "signin.html": _SIGNIN_HTML}),
    autoescape=True,
    undefined=StrictUndefined,
)


@dataclass(frozen=True)
class Envelope:
    """The sender and the recipient of an email."""

    mail_from: str  # "caretbot <caretbot@example.com>"
    to: str


def handoff_email(
    facts: DeliveryFacts,
    envelope: Envelope,
    *,
    delivered_by_name: str,
    link: str,
    link_days: int,
    portal_url: str,
) -> EmailMessage:
    """Build the hand-off email to a recipient outside Slack, with a sign-in link."""
    name = single_line(facts.contact.name) if facts.contact and facts.contact.name else ""
    subject = f"Hand-off: {shorten(name, _SUBJECT_NAME_LENGTH) or 'a candidate'}"
    subject += f" ({facts.status.label})"
    rows = _fact_rows(facts)
    long_texts = [
        (label, text)
        for label, text in (
            ("Reason in the agent's words", facts.reason_text),
            ("Notes", facts.notes),
        )
        if text.strip()
    ]
    delivered = f"Delivered by {single_line(delivered_by_name)} on {_when(facts.delivered_at)}."

    lines = [f"Hand-off: {name or 'a candidate'}", ""]
    lines += [f"{label}: {value}" for label, value in rows]
    for label, text in long_texts:
        lines += ["", f"{label}:", text]
    lines += [
        "",
        delivered,
        "",
        "Open the conversation:",
        link,
        "",
        f"The link signs you in to caretbot and works for {link_days} days. Only the "
        f"conversations delivered to {envelope.to} are open to you. If the link has expired, "
        f"ask for a new one at {portal_url}.",
    ]
    html = _TEMPLATES.get_template("handoff.html").render(
        subject=subject,
        name=name or "a candidate",
        facts=rows,
        long_texts=long_texts,
        delivered=delivered,
        link=link,
        link_days=link_days,
        to=envelope.to,
        portal_url=portal_url,
    )
    return _message(envelope, subject, "\n".join(lines) + "\n", html)


def signin_email(envelope: Envelope, *, link: str, link_days: int) -> EmailMessage:
    """Build the email that carries a sign-in link someone asked for on the portal."""
    subject = "Your caretbot sign-in link"
    text = (
        f"Someone asked for a link to sign in to caretbot as {envelope.to}.\n\n"
        f"Sign in:\n{link}\n\n"
        f"The link works for {link_days} days. If you did not ask for it, you can ignore "
        f"this email.\n"
    )
    html = _TEMPLATES.get_template("signin.html").render(
        subject=subject, to=envelope.to, link=link, link_days=link_days
    )
    return _message(envelope, subject, text, html)


def _fact_rows(facts: DeliveryFacts) -> list[tuple[str, str]]:
    rows: list[tuple[str, str | None]] = [("Status", facts.status.label)]
    if facts.rating is not None:
        rows.append(("Rating", f"{stars(facts.rating)} ({facts.rating} of {MAX_RATING})"))
    rows.append(("Reason", facts.reason))
    if facts.contact is not None:
        rows += [("Email", facts.contact.email), ("Phone", facts.contact.phone)]
    if facts.application is not None:
        rows += [
            ("Application", facts.application.job_title),
            ("Location", facts.application.job_location),
            ("Source", facts.application.source),
        ]
    return [(label, single_line(value)) for label, value in rows if value]


def _when(moment: datetime) -> str:
    # The reader's time zone is unknown outside Slack, so the email states UTC.
    return moment.strftime("%d %b %Y at %H:%M UTC").lstrip("0")


def _message(envelope: Envelope, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = envelope.mail_from
    message["To"] = envelope.to
    message["Date"] = format_datetime(datetime.now(UTC), usegmt=True)
    # The sender's own domain, because make_msgid would otherwise look up this host's name.
    domain = parseaddr(envelope.mail_from)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    # RFC 3834 marks an automatic message, so auto-responders do not reply to it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
