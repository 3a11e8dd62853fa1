"""The ASGI application: Slack's Request URL, the health check, and later web pages."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage.db import ping

log = logging.getLogger(__name__)


def create_web_app(bolt_app: App | None, engine: sa.Engine) -> Starlette:
    """Serve Slack at POST /slack/events and the health check at GET /healthz.

    With no Bolt app (Socket Mode), only the health check is served.
    """

    async def slack_events(request: Request) -> Response:
        assert bolt_app is not None
        body = await request.body()
        # Bolt's App is synchronous; run it on a worker thread so the event loop keeps
        # accepting requests while a listener waits for its acknowledgement.
        bolt_response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    async def healthz(request: Request) -> Response:
        try:
            await run_in_threadpool(ping, engine)
        except sa.exc.SQLAlchemyError as failure:
            log.warning("health check failed: database error=%s", type(failure).__name__)
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True, "database": "ok"})

    routes = [Route("/healthz", healthz, methods=["GET"])]
    if bolt_app is not None:
        routes.append(Route("/slack/events", slack_events, methods=["POST"]))
    return Starlette(routes=routes)
