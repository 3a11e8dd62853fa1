"""Sign-in end to end: the link arrives at a real SMTP server on 127.0.0.1 and opens the portal."""

import re

from bot.slackdouble.payloads import new_ts
from tests.portal.support import PortalClient, csrf_of
from tests.portal.test_pages import deliver_to_email
from tests.support import settle_outbox

OUTSIDER = "hiring.manager@client.example"
PUBLIC_URL = "https://caret.example"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/portal/signin/[^\s\"<>]+")


def link_in(email):
    """Return the sign-in link of an email's plain-text part, as a path on the test server."""
    text = email.get_body(preferencelist=("plain",)).get_content()
    [link] = set(LINK.findall(text))
    return link.removeprefix(PUBLIC_URL)


def test_handoff_email_link_opens_delivery(mail_bot, slack, smtp):
    delivery, _recipient = deliver_to_email(mail_bot, slack, new_ts(), OUTSIDER)
    [email] = smtp.wait_for(1)
    client = PortalClient(mail_bot.server.url)

    response = client.get(link_in(email))

    assert response.status_code == 303
    assert response.headers["location"] == f"/portal/deliveries/{delivery.id}"
    page = client.follow(response)
    assert page.status_code == 200
    assert "Casey Candidate" in page.text
    assert "Ask about the notice period" in page.text


def test_signin_form_emails_working_link(mail_bot, slack, smtp):
    delivery, _recipient = deliver_to_email(mail_bot, slack, new_ts(), OUTSIDER)
    smtp.wait_for(1)
    client = PortalClient(mail_bot.server.url)
    target = f"/portal/deliveries/{delivery.id}"
    form = client.get(f"/portal/signin?next={target}")

    sent = client.post(
        "/portal/signin",
        {"csrf_token": csrf_of(form), "email": "Hiring.Manager@Client.example", "next": target},
    )
    settle_outbox(mail_bot)

    assert "Check your email" in sent.text
    [_handoff, signin] = smtp.wait_for(2)
    assert signin["To"] == OUTSIDER
    response = client.get(link_in(signin))
    assert response.status_code == 303
    assert response.headers["location"] == target
    assert client.follow(response).status_code == 200


def test_signin_form_sends_nothing_to_stranger(mail_bot, slack, smtp):
    deliver_to_email(mail_bot, slack, new_ts(), OUTSIDER)
    smtp.wait_for(1)
    client = PortalClient(mail_bot.server.url)
    form = client.get("/portal/signin")

    sent = client.post(
        "/portal/signin", {"csrf_token": csrf_of(form), "email": "stranger@client.example"}
    )
    settle_outbox(mail_bot)

    assert "Check your email" in sent.text
    assert len(smtp.messages) == 1
