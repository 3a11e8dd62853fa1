"""Assemble the portal's routes into an ASGI app that bot/web.py mounts at /portal."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route

from bot.app import build_web_client
from bot.config import Settings
from bot.outbox import OutboxWorker
from bot.portal.links import PREFIX
from bot.portal.pages import PortalPages
from bot.portal.security import SecurityHeaders, install_log_redaction
from storage.db import SessionScope


def create_portal(
    session_scope: SessionScope,
    client: WebClient,
    *,
    link_days: int,
    wake_outbox: Callable[[], None],
) -> Mount:
    """Build the portal as a Mount at /portal, with its security headers on every response."""
    install_log_redaction()
    pages = PortalPages(session_scope, client, link_days=link_days, wake_outbox=wake_outbox)
    routes = [
        Route("/", pages.home, methods=["GET"]),
        Route("/static/portal.css", pages.stylesheet_file, methods=["GET"]),
        Route("/signin", pages.signin_form, methods=["GET"]),
        Route("/signin", pages.signin_submit, methods=["POST"]),
        Route("/signin/{token}", pages.signin_link, methods=["GET"]),
        Route("/signout", pages.signout, methods=["POST"]),
        Route("/deliveries", pages.deliveries, methods=["GET"]),
        Route("/deliveries/{delivery_id}", pages.delivery, methods=["GET"]),
        Route("/deliveries/{delivery_id}/transcript.txt", pages.transcript_file, methods=["GET"]),
        Route("/deliveries/{delivery_id}/accept", pages.accept, methods=["POST"]),
        Route("/conversations/{conversation_id}", pages.conversation, methods=["GET"]),
    ]
    portal = Starlette(routes=routes, exception_handlers={HTTPException: pages.handle_http_error})
    # Outside Starlette's own error middleware, so a 500 page carries the headers too.
    return Mount(PREFIX, app=SecurityHeaders(portal))


def build_portal(settings: Settings, session_scope: SessionScope, outbox: OutboxWorker) -> Mount:
    """Build the portal from the settings, waking `outbox` when a page queues a message."""
    return create_portal(
        session_scope,
        build_web_client(settings),
        link_days=settings.link_days,
        wake_outbox=outbox.wake,
    )
