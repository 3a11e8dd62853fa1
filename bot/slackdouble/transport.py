"""HTTP plumbing of the double: the request handler and Web API argument parsing."""

import email.parser
import email.policy
import json
import logging
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl

logger = logging.getLogger(__name__)


class RequestError(Exception):
    """A request body Slack could not read, named by Slack's error for it."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class HttpApp(Protocol):
    def handle_http(
        self, verb: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]: ...

    def handle_websocket_upgrade(self, handler: BaseHTTPRequestHandler) -> None: ...


class DoubleHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: HttpApp) -> None:
        super().__init__(address, DoubleRequestHandler)
        self.app = app


class DoubleRequestHandler(BaseHTTPRequestHandler):
    server: DoubleHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if (self.headers.get("Upgrade") or "").strip().lower() == "websocket":
            # The WebSocket keeps this connection, and this thread, until either side closes it.
            self.close_connection = True
            self.server.app.handle_websocket_upgrade(self)
            return
        self._respond()

    def do_POST(self) -> None:
        self._respond()

    def _respond(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.server.app.handle_http(
            self.command, self.path, self.headers, body
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("slackdouble http %s", format % args)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("Authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def parse_arguments(
    query: str, content_type: str | None, body: bytes
) -> tuple[dict[str, Any], str | None]:
    """Return a Web API call's arguments and the token passed as an argument, if any.

    Arguments come from the query string and from a form, multipart or JSON body. A `token`
    inside a JSON body is ignored: Slack's Web API docs require the Authorization header when
    the body is JSON.
    """
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    token = args.pop("token", None)
    if not body:
        return args, token
    if not content_type:
        raise RequestError("missing_post_type")

    mime_type, _, _ = content_type.partition(";")
    mime_type = mime_type.strip().lower()
    if mime_type == "application/json":
        try:
            decoded = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            # NOTE: Slack's name for an unreadable JSON body is not documented.
            raise RequestError("invalid_json") from error
        if not isinstance(decoded, dict):
            raise RequestError("invalid_json")
        decoded.pop("token", None)
        args.update(decoded)
        return args, token

    if mime_type in ("application/x-www-form-urlencoded", "text/plain"):
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as error:
            raise RequestError("invalid_form_data") from error
    elif mime_type == "multipart/form-data":
        form = parse_multipart(content_type, body)
    else:
        raise RequestError("invalid_post_type")
    token = form.pop("token", None) or token
    args.update(form)
    return args, token


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Return the fields of a multipart/form-data body: text as str, files as bytes."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise RequestError("invalid_form_data")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is None:
            fields[name] = payload.decode("utf-8", errors="replace")
        else:
            fields[name] = payload
    return fields
