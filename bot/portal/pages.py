"""The portal's routes: sign-in, the list of deliveries, one delivery with its transcript, Accept.

Every handler that reads records finds them through the signed-in user's grants, so any id
that was not delivered to them gets the same 404 as an id that does not exist.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from slack_sdk import WebClient
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from bot.commands.transcript import UserDirectory, load_conversation, render_stored
from bot.handoff import enqueue_card_updates
from bot.mail import enqueue_signin_email
from bot.outcomes import stars
from bot.portal import security
from bot.portal.links import PREFIX, delivery_path
from bot.portal.views import DeliveryCard, application_label, delivery_card, show_time, status_label
from bot.threads import ThreadRef
from storage import access
from storage.db import SessionScope
from storage.deliveries import accept_recipient
from storage.models import Contact, JobApplication
from storage.portal import (
    latest_visible_delivery_of,
    mark_link_used,
    portal_actor,
    record_signin_request,
    visible_deliveries,
    visible_delivery,
    visible_delivery_ids_of,
)

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = Path(__file__).parent / "static" / "portal.css"

# The portal's forms have at most three short fields, so a larger body is not one of them.
MAX_FORM_BYTES = 4096
MAX_EMAIL_LENGTH = 320

# Numbers of sign-in links that one address, and one client address, may ask for per window.
SIGNIN_WINDOW_HOURS = 1
SIGNIN_LIMIT_PER_EMAIL = 5
SIGNIN_LIMIT_PER_CLIENT = 20

# An id in a path is a positive integer of at most 18 digits, which fits a 64-bit column.
_ID = re.compile(r"[1-9][0-9]{0,17}")
# `next` may only name a portal page, so a link cannot send its reader to another site.
_NEXT_PATH = re.compile(re.escape(PREFIX) + r"/[A-Za-z0-9_\-/.]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

_LINK_PROBLEMS = {
    access.TokenState.EXPIRED: "This sign-in link has expired. Enter your email address to "
    "get a new one.",
    access.TokenState.REVOKED: "This sign-in link was withdrawn. Enter your email address to "
    "get a new one; it works only if you still have access.",
    access.TokenState.UNKNOWN: "This sign-in link is not valid. Copy the whole link from the "
    "email, or enter your email address to get a new one.",
}

NOT_FOUND_TEXT = "There is nothing here for you. Check the address, or go back to the list."


@dataclass(frozen=True)
class SignedIn:
    """The restricted user of a valid session cookie, and the session's CSRF token."""

    user_id: int
    email: str
    token_id: int
    csrf_token: str


class PortalPages:
    """The route handlers, with the session factory, Slack client and outbox they need."""

    def __init__(
        self,
        session_scope: SessionScope,
        client: WebClient,
        *,
        link_days: int,
        wake_outbox: Callable[[], None],
    ) -> None:
        self.session_scope = session_scope
        self.client = client
        self.link_days = link_days
        self.wake_outbox = wake_outbox
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self.stylesheet = STYLESHEET.read_text(encoding="utf-8")

    # Rendering

    def render(
        self, name: str, *, signed_in: SignedIn | None = None, status: int = 200, **values: Any
    ) -> HTMLResponse:
        template = self.templates.get_template(name)
        form_token = values.pop("csrf_token", "")
        if signed_in is not None:
            form_token = signed_in.csrf_token
        body = template.render(prefix=PREFIX, signed_in=signed_in, csrf_token=form_token, **values)
        return HTMLResponse(body, status_code=status)

    def not_found(self, signed_in: SignedIn | None = None) -> HTMLResponse:
        return self.render(
            "message.html",
            signed_in=signed_in,
            status=404,
            heading="Not found",
            text=NOT_FOUND_TEXT,
        )

    def forbidden(self, signed_in: SignedIn | None) -> HTMLResponse:
        return self.render(
            "message.html",
            signed_in=signed_in,
            status=403,
            heading="This form has expired",
            text="The page you sent the form from is too old, or was not opened here. Go "
            "back, reload the page and try again.",
        )

    async def stylesheet_file(self, request: Request) -> Response:
        return Response(self.stylesheet, media_type="text/css")

    async def handle_http_error(self, request: Request, exc: HTTPException) -> Response:
        """Render Starlette's HTTP errors; an unknown path or method gets the usual 404 page."""
        signed_in = await self._signed_in(request)
        if exc.status_code in (404, 405):
            return self.not_found(signed_in)
        log.info("portal request rejected status=%s detail=%s", exc.status_code, exc.detail)
        return self.render(
            "message.html",
            signed_in=signed_in,
            status=exc.status_code,
            heading="Invalid request",
            text="The page could not read what your browser sent. Go back and try again.",
        )

    # Sessions

    async def _signed_in(self, request: Request) -> SignedIn | None:
        raw = request.cookies.get(security.SESSION_COOKIE)
        if not raw or len(raw) > 128:
            return None
        return await run_in_threadpool(self._check_session, raw)

    def _check_session(self, raw: str) -> SignedIn | None:
        with self.session_scope() as session:
            check = access.check_token(session, raw, access.SESSION)
            if check.state is not access.TokenState.VALID or check.user is None:
                return None
            assert check.token is not None and check.token.id is not None
            assert check.user.id is not None and check.token.csrf_token is not None
            return SignedIn(
                user_id=check.user.id,
                email=check.user.email,
                token_id=check.token.id,
                csrf_token=check.token.csrf_token,
            )

    def _to_signin(self, request: Request) -> RedirectResponse:
        next_path = request.url.path if request.method == "GET" else None
        query = f"?{urlencode({'next': next_path})}" if next_path else ""
        return RedirectResponse(f"{PREFIX}/signin{query}", status_code=303)

    # Sign-in

    async def home(self, request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/deliveries", status_code=303)

    async def signin_form(self, request: Request) -> Response:
        """Show the sign-in form, with a notice about a rejected link or a sign-out."""
        notice = None
        link = request.query_params.get("link")
        if link in {state.value for state in _LINK_PROBLEMS}:
            notice = _LINK_PROBLEMS[access.TokenState(link)]
        elif request.query_params.get("signed_out") == "1":
            notice = "You are signed out."
        return self._signin_page(request, notice=notice)

    def _signin_page(
        self,
        request: Request,
        *,
        notice: str | None = None,
        error: str | None = None,
        email: str | None = None,
        status: int = 200,
    ) -> Response:
        csrf = request.cookies.get(security.SIGNIN_CSRF_COOKIE) or ""
        if not 20 <= len(csrf) <= 64:
            csrf = security.new_csrf_token()
        response = self.render(
            "signin.html",
            status=status,
            csrf_token=csrf,
            notice=notice,
            error=error,
            email=email,
            next_path=_safe_next(request.query_params.get("next")),
        )
        security.set_cookie(
            response, security.SIGNIN_CSRF_COOKIE, csrf, security.SIGNIN_CSRF_LIFETIME
        )
        return response

    async def signin_submit(self, request: Request) -> Response:
        """Queue a sign-in email and return the same page whether or not the address has access."""
        form = await _read_form(request)
        if form is None:
            return self._too_large()
        if not security.tokens_match(
            request.cookies.get(security.SIGNIN_CSRF_COOKIE), form.get(security.CSRF_FIELD)
        ):
            return self.forbidden(None)

        email = str(form.get("email") or "").strip()
        if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
            shown = email[:80]
            return self._signin_page(
                request,
                error=f"{shown!r} is not an email address. Enter it as name@example.com.",
                email=shown,
                status=400,
            )
        address = access.normalize_email(email)
        next_path = _safe_next(str(form.get("next") or "")) or None
        client = security.client_address(request)

        sent = await run_in_threadpool(self._request_link, address, client, next_path)
        if sent:
            self.wake_outbox()
        return self.render("signin_sent.html", email=address, link_days=self.link_days)

    def _request_link(self, address: str, client: str, next_path: str | None) -> bool:
        """Count the request, and queue the email when the address has access and no limit hit.

        Returns whether an email was queued. The caller must not show the result.
        """
        with self.session_scope() as session:
            recent = record_signin_request(
                session, address, client, window=timedelta(hours=SIGNIN_WINDOW_HOURS)
            )
            if (
                recent.by_email > SIGNIN_LIMIT_PER_EMAIL
                or recent.by_client > SIGNIN_LIMIT_PER_CLIENT
            ):
                log.warning(
                    "sign-in link rate limited client=%s email=%s by_email=%d by_client=%d",
                    client,
                    address,
                    recent.by_email,
                    recent.by_client,
                )
                return False
            user = access.find_restricted_user(session, address)
            if user is None or user.id is None or not access.active_grants(session, user.id):
                log.info("sign-in link not sent: no access client=%s", client)
                return False
            # NOTE: queueing adds one insert, so a known address answers slightly slower than
            # an unknown one. The email itself is sent later by the outbox.
            enqueue_signin_email(session, user.id, next_path)
            log.info("sign-in link queued restricted_user=%s client=%s", user.id, client)
            return True

    async def signin_link(self, request: Request) -> Response:
        """Check an emailed link, open a session, and redirect to the page it names.

        The redirect takes the token out of the address bar. Referrer-Policy keeps it out of
        Referer headers, and the log filter keeps it out of uvicorn's access log.
        """
        raw = request.path_params["token"]
        next_path = _safe_next(request.query_params.get("next"))
        opened = await run_in_threadpool(self._open_session, raw)
        if isinstance(opened, access.TokenState):
            query = {"link": opened.value}
            if next_path:
                query["next"] = next_path
            return RedirectResponse(f"{PREFIX}/signin?{urlencode(query)}", status_code=303)
        response = RedirectResponse(next_path or f"{PREFIX}/deliveries", status_code=303)
        security.set_cookie(response, security.SESSION_COOKIE, opened, security.SESSION_LIFETIME)
        security.delete_cookie(response, security.SIGNIN_CSRF_COOKIE)
        return response

    def _open_session(self, raw: str) -> str | access.TokenState:
        """Return a new session's raw token for a valid link, else the link's state."""
        if len(raw) > 128:
            return access.TokenState.UNKNOWN
        with self.session_scope() as session:
            check = access.check_token(session, raw, access.LINK)
            if check.state is not access.TokenState.VALID or check.user is None:
                log.info("sign-in link rejected state=%s", check.state.value)
                return check.state
            assert check.token is not None and check.token.id is not None
            assert check.user.id is not None
            mark_link_used(session, check.token.id)
            session_raw, token = access.issue_token(
                session, check.user.id, access.SESSION, security.SESSION_LIFETIME
            )
            log.info("portal session opened restricted_user=%s session=%s", check.user.id, token.id)
            return session_raw

    async def signout(self, request: Request) -> Response:
        signed_in = await self._signed_in(request)
        form = await _read_form(request)
        if form is None:
            return self._too_large()
        if signed_in is None:
            response: Response = RedirectResponse(f"{PREFIX}/signin", status_code=303)
            security.delete_cookie(response, security.SESSION_COOKIE)
            return response
        if not security.tokens_match(signed_in.csrf_token, form.get(security.CSRF_FIELD)):
            return self.forbidden(signed_in)
        await run_in_threadpool(self._revoke_session, signed_in.token_id)
        response = RedirectResponse(f"{PREFIX}/signin?signed_out=1", status_code=303)
        security.delete_cookie(response, security.SESSION_COOKIE)
        return response

    def _revoke_session(self, token_id: int) -> None:
        with self.session_scope() as session:
            access.revoke_token(session, token_id)

    # What was delivered

    async def deliveries(self, request: Request) -> Response:
        """List the deliveries to the signed-in user, newest first."""
        signed_in = await self._signed_in(request)
        if signed_in is None:
            return self._to_signin(request)
        items = await run_in_threadpool(self._list, signed_in.user_id)
        return self.render("deliveries.html", signed_in=signed_in, deliveries=items)

    def _list(self, user_id: int) -> list[dict[str, Any]]:
        with self.session_scope() as session:
            items = []
            for visible in visible_deliveries(session, user_id):
                delivery = visible.delivery
                contact = _contact(session, delivery.contact_id)
                application = _application(session, delivery.application_id)
                items.append(
                    {
                        "delivery_id": delivery.id,
                        "contact": contact.name if contact else None,
                        "status": status_label(delivery.status),
                        "stars": stars(delivery.rating) if delivery.rating else "",
                        "application": application_label(application),
                        "delivered_at": show_time(delivery.delivered_at),
                        "accepted_at": visible.recipient.accepted_at,
                    }
                )
            return items

    async def delivery(self, request: Request) -> Response:
        """Show one delivery's card, its Accept button and the conversation's transcript."""
        shown = await self._granted_delivery(request)
        if isinstance(shown, Response):
            return shown
        signed_in, _delivery_id, card, transcript = shown
        return self.render("delivery.html", signed_in=signed_in, card=card, transcript=transcript)

    async def transcript_file(self, request: Request) -> Response:
        """Send the transcript of a delivered conversation as a text file."""
        shown = await self._granted_delivery(request)
        if isinstance(shown, Response):
            return shown
        _signed_in, delivery_id, _card, transcript = shown
        return PlainTextResponse(
            transcript,
            headers={"content-disposition": f'attachment; filename="delivery-{delivery_id}.txt"'},
        )

    async def _granted_delivery(
        self, request: Request
    ) -> Response | tuple[SignedIn, int, DeliveryCard, str]:
        """Load the delivery of the path for the signed-in user, or return the page instead.

        The page is the sign-in redirect without a session, and the 404 for an id that is not
        a delivery to the user.
        """
        signed_in = await self._signed_in(request)
        if signed_in is None:
            return self._to_signin(request)
        delivery_id = _parse_id(request.path_params["delivery_id"])
        if delivery_id is None:
            return self.not_found(signed_in)
        shown = await run_in_threadpool(self._card_and_transcript, signed_in.user_id, delivery_id)
        if shown is None:
            return self.not_found(signed_in)
        card, transcript = shown
        return signed_in, delivery_id, card, transcript

    async def conversation(self, request: Request) -> Response:
        """Redirect to the newest delivery of a conversation to the signed-in user."""
        signed_in = await self._signed_in(request)
        if signed_in is None:
            return self._to_signin(request)
        conversation_id = _parse_id(request.path_params["conversation_id"])
        if conversation_id is None:
            return self.not_found(signed_in)
        delivery_id = await run_in_threadpool(
            self._latest_delivery_id, signed_in.user_id, conversation_id
        )
        if delivery_id is None:
            return self.not_found(signed_in)
        return RedirectResponse(delivery_path(delivery_id), status_code=303)

    def _latest_delivery_id(self, user_id: int, conversation_id: int) -> int | None:
        with self.session_scope() as session:
            visible = latest_visible_delivery_of(session, user_id, conversation_id)
            return visible.delivery.id if visible is not None else None

    def _card_and_transcript(
        self, user_id: int, delivery_id: int
    ) -> tuple[DeliveryCard, str] | None:
        with self.session_scope() as session:
            visible = visible_delivery(session, user_id, delivery_id)
            if visible is None:
                return None
            conversation = visible.conversation
            thread = ThreadRef(
                team=conversation.workspace_id,
                channel=conversation.channel_id,
                thread_ts=conversation.thread_ts,
            )
            delivery, recipient = visible.delivery, visible.recipient
            granted = visible_delivery_ids_of(session, user_id, conversation.id)
            contact = _contact(session, delivery.contact_id)
            application = _application(session, delivery.application_id)
        # NOTE: names come from users.info on every page view, one call per person named.
        directory = _UTCDirectory(self.client)
        card = delivery_card(
            delivery, recipient, contact=contact, application=application, user_name=directory.name
        )
        stored = load_conversation(self.session_scope, thread, delivery_ids=granted)
        transcript = render_stored(stored, directory, requester="")
        if directory.failed:
            log.warning(
                "portal transcript names not found delivery=%s count=%d",
                delivery_id,
                len(directory.failed),
            )
        return card, transcript

    async def accept(self, request: Request) -> Response:
        """Accept a hand-off for the signed-in user; the agent's card in Slack then shows it."""
        signed_in = await self._signed_in(request)
        form = await _read_form(request)
        if form is None:
            return self._too_large()
        if signed_in is None:
            return self._to_signin(request)
        delivery_id = _parse_id(request.path_params["delivery_id"])
        if delivery_id is None:
            return self.not_found(signed_in)
        if not security.tokens_match(signed_in.csrf_token, form.get(security.CSRF_FIELD)):
            return self.forbidden(signed_in)
        found, won = await run_in_threadpool(self._accept, signed_in.user_id, delivery_id)
        if not found:
            return self.not_found(signed_in)
        if won:
            self.wake_outbox()
        return RedirectResponse(delivery_path(delivery_id), status_code=303)

    def _accept(self, user_id: int, delivery_id: int) -> tuple[bool, bool]:
        with self.session_scope() as session:
            visible = visible_delivery(session, user_id, delivery_id)
            if visible is None:
                return False, False
            assert visible.recipient.id is not None
            recipient, won = accept_recipient(
                session, visible.recipient.id, user_id=portal_actor(user_id)
            )
            if won and recipient is not None:
                enqueue_card_updates(session, recipient)
                log.info(
                    "hand-off accepted in portal delivery=%s recipient=%s restricted_user=%s",
                    delivery_id,
                    recipient.id,
                    user_id,
                )
            return True, won

    def _too_large(self) -> Response:
        return PlainTextResponse("The form is too large.", status_code=413)


class _UTCDirectory(UserDirectory):
    """A user directory that shows times in UTC, because a restricted user has no Slack profile."""

    def zone(self, user_id: str) -> ZoneInfo:
        return ZoneInfo("UTC")


async def _read_form(request: Request) -> FormData | None:
    """Parse a small urlencoded form, or return None when it is larger than MAX_FORM_BYTES."""
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        return None
    return await request.form(max_files=0, max_fields=8, max_part_size=MAX_FORM_BYTES)


def _parse_id(value: str) -> int | None:
    return int(value) if _ID.fullmatch(value) else None


def _safe_next(value: str | None) -> str | None:
    if not value or len(value) > 200 or "//" in value:
        return None
    # A "." or ".." segment would let a browser resolve the page outside the portal.
    if any(segment in (".", "..") for segment in value.split("?", 1)[0].split("/")):
        return None
    return value if _NEXT_PATH.fullmatch(value) else None


def _contact(session: Session, contact_id: int | None) -> Contact | None:
    return session.get(Contact, contact_id) if contact_id is not None else None


def _application(session: Session, application_id: int | None) -> JobApplication | None:
    return session.get(JobApplication, application_id) if application_id is not None else None
