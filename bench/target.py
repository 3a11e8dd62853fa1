"""A benchmark target: caretbot or a bare Bolt app, served by uvicorn in its own process.

    python -m bench.target caretbot|bare --port N --api-url URL [--database-url URL]

Once the server accepts connections, the process prints one line, `ready port=N`, on
stdout. It stops on SIGTERM or SIGINT, or when its stdin reaches end of file, so a benchmark
that dies does not leave it running. The caretbot database must already be migrated.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from collections.abc import Sequence

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.app import StartupError, create_app
from bot.cli import CommandFailed, prepare_database
from bot.config import LOG_LEVELS, ConfigError, Settings, configure_logging
from bot.web import create_web_app
from storage.db import session_scope_for

HOST = "127.0.0.1"
# Both targets use these, and the benchmark starts its SlackDouble with the same token.
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
KINDS = ("caretbot", "bare")
READY_TIMEOUT_SECONDS = 30


def build_caretbot(api_url: str, database_url: str, log_level: str) -> Starlette:
    """Build caretbot's web app the way `caretbot serve` does, minus its background workers.

    Only request handling is measured, so no worker that `caretbot serve` starts beside the
    web app runs here.
    """
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": log_level,
        }
    )
    engine = prepare_database(settings.database_url)
    bolt_app = create_app(settings, session_scope=session_scope_for(engine))
    return create_web_app(bolt_app, engine, signing_secret=settings.signing_secret)


def build_bare(api_url: str) -> Starlette:
    """Build a Bolt app with one no-op message listener, behind the same route as caretbot."""
    bolt_app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(token=BOT_TOKEN, base_url=api_url),
        process_before_response=False,
    )

    @bolt_app.event("message")
    def ignore_message() -> None:
        """Do nothing, so the bare app costs only Bolt and the web stack."""

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_response = await run_in_threadpool(bolt_app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    return Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"])])


def serve(web_app: Starlette, port: int) -> None:
    """Serve on 127.0.0.1 until a signal or the end of stdin; port 0 picks a free port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, port))
    # The uvicorn settings of bot.serving.BackgroundServer, which tests and the demo use.
    config = uvicorn.Config(web_app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    watcher = threading.Thread(
        target=_announce_then_watch_stdin,
        args=(server, listener.getsockname()[1]),
        name="stdin-watcher",
        daemon=True,
    )
    watcher.start()
    # uvicorn handles SIGTERM and SIGINT only when it runs in the main thread.
    server.run(sockets=[listener])
    listener.close()


def _announce_then_watch_stdin(server: uvicorn.Server, port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not server.started:
        if time.monotonic() > deadline:
            message = f"bench.target: uvicorn did not start within {READY_TIMEOUT_SECONDS} s"
            print(message, file=sys.stderr, flush=True)
            server.should_exit = True
            return
        time.sleep(0.01)
    print(f"ready port={port}", flush=True)
    sys.stdin.buffer.read()
    server.should_exit = True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.target", description="Serve one benchmark target on 127.0.0.1."
    )
    parser.add_argument("kind", choices=KINDS, help="caretbot, or a bare Bolt app")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 picks a free one)")
    parser.add_argument("--api-url", required=True, help="Slack Web API base URL (a SlackDouble)")
    parser.add_argument(
        "--database-url", help="caretbot's DATABASE_URL, already migrated (caretbot only)"
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=LOG_LEVELS, help="log level of both targets"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.kind == "caretbot" and not args.database_url:
        parser.error("--database-url is required for caretbot")
    if args.kind == "bare" and args.database_url:
        parser.error("--database-url is only for caretbot; the bare app has no database")

    configure_logging(args.log_level)
    try:
        if args.kind == "caretbot":
            web_app = build_caretbot(args.api_url, args.database_url, args.log_level)
        else:
            web_app = build_bare(args.api_url)
    except (BoltError, CommandFailed, ConfigError, OSError, StartupError) as failure:
        print(f"bench.target: {args.kind} cannot start: {failure}", file=sys.stderr)
        return 2
    serve(web_app, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
