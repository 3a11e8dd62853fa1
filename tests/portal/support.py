"""Helpers for the portal tests: a browser-like HTTP client and seeded deliveries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie

import httpx

from storage import access
from storage.contacts import link_conversation, upsert_application, upsert_contact
from storage.conversations import ensure_workspace, get_or_create_conversation
from storage.deliveries import NewDelivery, NewRecipient, create_delivery, list_recipients
from storage.messages import NewMessage, store_message
from storage.notes import add_note
from storage.outbox import enqueue
from tests.support import AGENT, CHANNEL, TEAM

ANN = "ann@agency.example"
BEN = "ben@agency.example"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class PortalClient:
    """An HTTP client that keeps the portal's cookies the way a browser on HTTPS would.

    httpx never sends a Secure cookie over plain HTTP, and the tests serve plain HTTP on
    127.0.0.1, so this client stores Set-Cookie values itself and sends them to /portal paths.
    """

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=10)
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []

    def request(self, method: str, path: str, **options) -> httpx.Response:
        headers = dict(options.pop("headers", {}))
        if self.cookies and path.startswith("/portal"):
            headers["cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = self.http.request(method, path, headers=headers, **options)
        for header in response.headers.get_list("set-cookie"):
            self.set_cookie_headers.append(header)
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value.strip('"')
        return response

    def get(self, path: str, **options) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, data: dict[str, str], **options) -> httpx.Response:
        return self.request("POST", path, data=data, **options)

    def follow(self, response: httpx.Response, limit: int = 5) -> httpx.Response:
        """Follow redirects from `response`, keeping cookies; return the final response."""
        for _ in range(limit):
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            location = response.headers["location"]
            assert location.startswith("/"), f"redirect off the site: {location}"
            response = self.get(location)
        raise AssertionError("too many redirects")

    def close(self) -> None:
        self.http.close()


def csrf_of(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token in the page: {page.text[:500]}"
    return match.group(1)


@dataclass(frozen=True)
class Seeded:
    """A delivered conversation: its ids and the email recipient's row."""

    conversation_id: int
    delivery_id: int
    recipient_id: int
    thread_ts: str
    restricted_user_id: int


def seed_delivery(
    session_scope,
    *,
    email: str,
    thread_ts: str,
    contact_name: str,
    message: str,
    note: str,
    thread_card: tuple[str, str] | None = None,
    grant: bool = True,
) -> Seeded:
    """Store a conversation with a message and a note, delivered to `email` and granted to it.

    `thread_card` (channel, ts) records the agent's card in the thread as sent, as the outbox
    does after posting it.
    """
    with session_scope() as session:
        ensure_workspace(session, TEAM)
        contact = upsert_contact(
            session, workspace_id=TEAM, name=contact_name, email=f"{thread_ts}@candidate.example"
        ).contact
        application = upsert_application(
            session, contact_id=contact.id, job_title="Data Engineer", job_location="London"
        ).application
        link_conversation(
            session,
            workspace_id=TEAM,
            channel_id=CHANNEL,
            thread_ts=thread_ts,
            contact_id=contact.id,
        )
        conversation = get_or_create_conversation(
            session, workspace_id=TEAM, channel_id=CHANNEL, thread_ts=thread_ts
        )
        store_message(
            session,
            conversation,
            NewMessage(ts=thread_ts, side="contact", text=message, user_id="U0CANDIDATE"),
        )
        add_note(session, conversation, author=AGENT, text=note, source="command")
        delivery, _ = create_delivery(
            session,
            NewDelivery(
                submission_key=f"seed-{thread_ts}-{email}",
                conversation=conversation,
                application_id=application.id,
                contact_id=contact.id,
                status="qualified",
                reason=None,
                reason_text=None,
                notes=f"Strong candidate for {email}",
                rating=4,
                delivered_by=AGENT,
                recipients=[NewRecipient(kind="email", email=email)],
            ),
        )
        [recipient] = list_recipients(session, delivery.id)
        recipient.state = "pending_email"
        session.add(recipient)
        user = access.restricted_user(session, email)
        if grant:
            access.grant_delivery(
                session, recipient, workspace_id=TEAM, conversation_id=conversation.id
            )
        if thread_card is not None:
            card = enqueue(session, "thread_card", {}, delivery_id=delivery.id)
            card.state = "sent"
            card.channel_id, card.message_ts = thread_card
            session.add(card)
        return Seeded(
            conversation_id=conversation.id,
            delivery_id=delivery.id,
            recipient_id=recipient.id,
            thread_ts=thread_ts,
            restricted_user_id=user.id,
        )


def issue_link(session_scope, email: str, lifetime: timedelta = timedelta(days=1)) -> str:
    """Issue a sign-in link token for `email`, as the hand-off email does; return it raw."""
    with session_scope() as session:
        user = access.restricted_user(session, email)
        raw, _token = access.issue_token(session, user.id, access.LINK, lifetime)
        return raw


def signed_in_client(bot, email: str) -> PortalClient:
    """Return a client that opened an emailed link for `email` and keeps its session cookie."""
    client = PortalClient(bot.server.url)
    raw = issue_link(bot.session_scope, email)
    response = client.get(f"/portal/signin/{raw}")
    assert response.status_code == 303, response.text
    return client
