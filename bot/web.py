"""The ASGI application: Slack's Request URL, the health check, and later web pages."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from storage.db import ping

log = logging.getLogger(__name__)


# Slack's largest requests are modal submissions of big views, far below this. Anything
# larger is refused before it is read, so a stranger cannot make the process buffer it.
MAX_BODY_BYTES = 1_000_000


def create_web_app(
    bolt_app: App | None,
    engine: sa.Engine,
    *,
    signing_secret: str | None = None,
    portal: Mount | None = None,
) -> Starlette:
    """Serve Slack at POST /slack/events, the health check at GET /healthz, and the portal.

    With no Bolt app (Socket Mode), only the health check and the portal are served. Requests to
    /slack/events are checked against `signing_secret` before Bolt sees them, so an unsigned
    request never reaches a listener or the error handler, which would answer the user that
    its forged body names.
    """
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def slack_events(request: Request) -> Response:
        assert bolt_app is not None
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            log.warning("request rejected: body too large content_length=%s", declared[:20])
            return Response("body too large", status_code=413)
        body = await _read_limited(request)
        if body is None:
            log.warning("request rejected: body over %s bytes", MAX_BODY_BYTES)
            return Response("body too large", status_code=413)
        if verifier is not None and not _signed_by_slack(verifier, request, body):
            # Only ids of the request, never its body: the body may be anyone's text.
            log.warning(
                "request rejected: invalid signature or timestamp client=%s",
                request.client.host if request.client else "-",
            )
            return Response("invalid request", status_code=401)
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

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    if bolt_app is not None:
        routes.append(Route("/slack/events", slack_events, methods=["POST"]))
    if portal is not None:
        routes.append(portal)
    return Starlette(routes=routes)


async def _read_limited(request: Request) -> bytes | None:
    """Return the body, or None once it passes MAX_BODY_BYTES (for bodies sent chunked)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _signed_by_slack(verifier: SignatureVerifier, request: Request, body: bytes) -> bool:
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not timestamp.isdigit():
        return False
    # slack_sdk's verifier also rejects a timestamp more than 5 minutes from now.
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
