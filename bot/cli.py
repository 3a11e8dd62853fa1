"""The `caretbot` command: serve, socket, db, doctor, import, demo."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from dotenv import load_dotenv

from bot.config import ConfigError, Settings, configure_logging, read_database_url
from bot.records import RecordsError
from storage import migrate
from storage.db import SessionScope, create_db_engine, session_scope_for

if TYPE_CHECKING:
    from slack_bolt import App
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from bot.outbox import OutboxWorker
    from bot.recording import MessageRecorder

log = logging.getLogger("caretbot")


class CommandFailed(Exception):
    """A command cannot go on; the message says why and what to do."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # Values already in the environment win over .env, so a deployment can override it.
    load_dotenv(Path.cwd() / ".env", override=False)
    try:
        return args.run(args)
    except (ConfigError, CommandFailed, RecordsError) as failure:
        print(f"caretbot: {failure}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caretbot", description="Slack app for recruiting and sales teams."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run in HTTP mode (Slack's Request URL)")
    _add_listen_options(serve)
    serve.set_defaults(run=_run_serve)

    socket = commands.add_parser("socket", help="run in Socket Mode, with a health check port")
    _add_listen_options(socket)
    socket.set_defaults(run=_run_socket)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply every pending migration")
    upgrade.set_defaults(run=_run_db_upgrade)

    doctor = commands.add_parser("doctor", help="check the token, scopes and database")
    doctor.set_defaults(run=_run_doctor)

    importer = commands.add_parser("import", help="import records from a file")
    import_commands = importer.add_subparsers(required=True, metavar="WHAT")
    from bot.contact_csv import CSV_FORMAT_HELP

    contacts = import_commands.add_parser(
        "contacts",
        help="contacts and job applications (CSV)",
        description=CSV_FORMAT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    contacts.add_argument("file", type=Path, help="CSV file, one row per job application")
    contacts.add_argument(
        "--dry-run", action="store_true", help="show what would change and write nothing"
    )
    _add_workspace_option(contacts)
    contacts.set_defaults(run=_run_import_contacts)

    team = commands.add_parser("team", help="teams that receive hand-offs")
    team_commands = team.add_subparsers(required=True, metavar="ACTION")
    team_add = team_commands.add_parser("add", help="add a team")
    team_add.add_argument("name", help="team name, shown in the deliver modal")
    team_add.add_argument(
        "--member", action="append", default=[], metavar="USER_ID", help="Slack user id; repeat"
    )
    team_add.add_argument(
        "--channel", metavar="CHANNEL_ID", help="hand-off channel (default: DM each member)"
    )
    team_add.set_defaults(run=_run_team_add)
    team_list = team_commands.add_parser("list", help="list the teams")
    team_list.set_defaults(run=_run_team_list)
    team_remove = team_commands.add_parser("remove", help="remove a team")
    team_remove.add_argument("name")
    team_remove.set_defaults(run=_run_team_remove)
    for parser_of_team in (team_add, team_list, team_remove):
        _add_workspace_option(parser_of_team)

    settings_parser = commands.add_parser(
        "settings", help="workspace settings, as /caret-settings changes them in Slack"
    )
    settings_commands = settings_parser.add_subparsers(required=True, metavar="ACTION")
    settings_list = settings_commands.add_parser("list", help="show every setting")
    settings_list.set_defaults(run=_run_settings_list)
    settings_set = settings_commands.add_parser(
        "set",
        help="set a setting to a JSON value",
        description="Keys: working_hours, reasons, recipient_required, unread_reaction, "
        "contact_bot_ids. The README shows each value's form.",
    )
    settings_set.add_argument("key")
    settings_set.add_argument("value", help="JSON, quoted for the shell")
    settings_set.set_defaults(run=_run_settings_set)
    settings_unset = settings_commands.add_parser("unset", help="go back to the default")
    settings_unset.add_argument("key")
    settings_unset.set_defaults(run=_run_settings_unset)
    autoclaim = settings_commands.add_parser("autoclaim", help="turn a user's autoclaim on or off")
    autoclaim.add_argument("user", metavar="USER_ID")
    autoclaim.add_argument("state", choices=("on", "off"))
    autoclaim.set_defaults(run=_run_settings_autoclaim)
    for parser_of_settings in (settings_list, settings_set, settings_unset, autoclaim):
        _add_workspace_option(parser_of_settings)

    access = commands.add_parser("access", help="what people outside Slack may read on the portal")
    access_commands = access.add_subparsers(required=True, metavar="ACTION")
    access_list = access_commands.add_parser(
        "list", help="every restricted user, or one address's conversations, links and sessions"
    )
    access_list.add_argument("email", nargs="?", help="show this address in detail")
    access_list.set_defaults(run=_run_access_list)
    access_revoke = access_commands.add_parser(
        "revoke", help="withdraw every conversation, link and session of an address"
    )
    access_revoke.add_argument("email")
    access_revoke.set_defaults(run=_run_access_revoke)

    export = commands.add_parser("export", help="export records")
    export_commands = export.add_subparsers(required=True, metavar="WHAT")
    deliveries = export_commands.add_parser(
        "deliveries", help="one row per delivery and recipient, every stored field"
    )
    deliveries.add_argument("--since", metavar="DATE", help="first day (UTC), e.g. 2026-11-01")
    deliveries.add_argument("--until", metavar="DATE", help="end (UTC), not included")
    deliveries.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    deliveries.add_argument("--output", type=Path, metavar="FILE", help="default: standard output")
    deliveries.set_defaults(run=_run_export_deliveries)

    demo = commands.add_parser(
        "demo", help="play a conversation against a built-in Slack double; no tokens needed"
    )
    demo.set_defaults(run=_run_demo)
    return parser


def _add_workspace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        metavar="TEAM_ID",
        help="Slack team id (default: the workspace of SLACK_BOT_TOKEN, found with auth.test)",
    )


def _add_listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=_port, default=3000, help="TCP port to listen on (default: %(default)s)"
    )


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port: give 1 to 65535")
    return int(text)


def prepare_database(url: str) -> sa.Engine:
    """Return an engine whose schema is current.

    A SQLite database is created or upgraded in place. A PostgreSQL database is shared by
    several processes, so its migrations run only through `caretbot db upgrade`.
    """
    engine = create_db_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            migrate.upgrade(url)
            return engine
        current = migrate.current_revision(engine)
    except sa.exc.OperationalError as failure:
        raise CommandFailed(
            f"cannot open the database at DATABASE_URL ({_safe_url(engine)}): "
            f"{failure.orig}. Check that it is running and the URL is right."
        ) from failure
    head = migrate.head_revision(url)
    if current != head:
        raise CommandFailed(
            f"the database schema is at revision {current or 'none'}, expected {head}. "
            f"Run `caretbot db upgrade` once, then start again."
        )
    return engine


def _safe_url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _load(socket_mode: bool = False) -> Settings:
    settings = Settings.from_env(socket_mode=socket_mode)
    configure_logging(settings.log_level)
    return settings


def _start_app(settings: Settings, engine: sa.Engine) -> tuple[App, OutboxWorker, MessageRecorder]:
    """Build the app and start the outbox, which sends what an earlier process left pending.

    The message recorder starts its writer with the first message; stop it before exit.
    """
    from bot.app import StartupError, build_outbox, create_app
    from bot.recording import MessageRecorder

    session_scope = session_scope_for(engine)
    outbox = build_outbox(settings, session_scope)
    recorder = MessageRecorder(session_scope)
    try:
        bolt_app = create_app(
            settings, session_scope=session_scope, outbox=outbox, recorder=recorder
        )
    except StartupError as failure:
        raise CommandFailed(str(failure)) from failure
    outbox.start()
    return bolt_app, outbox, recorder


def _portal(settings: Settings, engine: sa.Engine, outbox: OutboxWorker) -> Mount:
    from bot.portal.app import build_portal

    return build_portal(settings, session_scope_for(engine), outbox)


def _serve_until_stopped(
    web_app: Starlette, args: argparse.Namespace, settings: Settings, on_stop: Callable[[], None]
) -> None:
    """Run uvicorn until SIGINT or SIGTERM, then run `on_stop` before the process exits."""
    import uvicorn

    def exit_on_sigterm(signum: int, frame: object) -> None:
        raise SystemExit(0)

    # uvicorn 0.55 shuts down on SIGTERM, restores the handler it replaced and raises the
    # signal again. The default handler would kill the process before `finally` runs, but
    # this one exits normally, so running listeners and the outbox finish too.
    previous_sigterm = signal.signal(signal.SIGTERM, exit_on_sigterm)
    try:
        uvicorn.run(web_app, host=args.host, port=args.port, log_level=settings.log_level.lower())
    finally:
        on_stop()
        signal.signal(signal.SIGTERM, previous_sigterm)


def _run_serve(args: argparse.Namespace) -> int:
    from bot.web import create_web_app

    settings = _load()
    engine = prepare_database(settings.database_url)
    bolt_app, outbox, recorder = _start_app(settings, engine)
    log.info("serving HTTP mode host=%s port=%s", args.host, args.port)

    def stop() -> None:
        outbox.stop()
        # Stores the messages still queued. A listener that finishes later stores its own.
        recorder.stop()

    _serve_until_stopped(
        create_web_app(
            bolt_app,
            engine,
            signing_secret=settings.signing_secret,
            portal=_portal(settings, engine, outbox),
        ),
        args,
        settings,
        stop,
    )
    return 0


def _run_socket(args: argparse.Namespace) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.web import create_web_app

    settings = _load(socket_mode=True)
    engine = prepare_database(settings.database_url)
    bolt_app, outbox, recorder = _start_app(settings, engine)
    handler = SocketModeHandler(bolt_app, settings.app_token)
    try:
        handler.connect()
    except SlackApiError as failure:
        outbox.stop()
        recorder.stop()
        raise CommandFailed(
            f"apps.connections.open failed ({failure.response.get('error')}). Copy an "
            f"App-Level Token with the connections:write scope into SLACK_APP_TOKEN."
        ) from failure
    if handler.client.is_connected():
        log.info("connected in Socket Mode; health check host=%s port=%s", args.host, args.port)
    else:
        # slack_sdk has logged why. Its monitor retries every ping_interval seconds.
        log.warning(
            "Socket Mode connection failed and slack_sdk retries it in the background; "
            "health check host=%s port=%s",
            args.host,
            args.port,
        )

    def stop() -> None:
        handler.close()
        outbox.stop()
        recorder.stop()
        log.info("Socket Mode connection closed")

    web_app = create_web_app(None, engine, portal=_portal(settings, engine, outbox))
    _serve_until_stopped(web_app, args, settings, stop)
    return 0


def _run_db_upgrade(args: argparse.Namespace) -> int:
    # Migrations need no Slack tokens, only the database.
    url = read_database_url()
    engine = create_db_engine(url)
    try:
        before = migrate.current_revision(engine)
        migrate.upgrade(url)
        after = migrate.current_revision(engine)
    except sa.exc.OperationalError as failure:
        raise CommandFailed(
            f"cannot open the database at DATABASE_URL ({_safe_url(engine)}): "
            f"{failure.orig}. Check that it is running and the URL is right."
        ) from failure
    print(f"database {_safe_url(engine)}: revision {before or 'none'} -> {after}")
    return 0


def _run_doctor(args: argparse.Namespace) -> int:
    from bot.doctor import run_doctor

    return run_doctor(sys.stdout)


def _run_import_contacts(args: argparse.Namespace) -> int:
    from bot.contact_import import run_contact_import

    scope = _records_scope()
    workspace_id = _workspace(args)
    return run_contact_import(
        args.file,
        session_scope=scope,
        workspace_id=workspace_id,
        dry_run=args.dry_run,
        out=sys.stdout,
    )


def _records_scope() -> SessionScope:
    return session_scope_for(prepare_database(read_database_url()))


def _run_team_add(args: argparse.Namespace) -> int:
    from bot.records import add_team_command

    scope = _records_scope()
    return add_team_command(
        scope,
        sys.stdout,
        workspace_id=_workspace(args),
        name=args.name,
        members=args.member,
        channel=args.channel,
    )


def _run_team_list(args: argparse.Namespace) -> int:
    from bot.records import list_teams_command

    scope = _records_scope()
    return list_teams_command(scope, sys.stdout, workspace_id=_workspace(args))


def _run_team_remove(args: argparse.Namespace) -> int:
    from bot.records import remove_team_command

    scope = _records_scope()
    return remove_team_command(scope, sys.stdout, workspace_id=_workspace(args), name=args.name)


def _run_settings_list(args: argparse.Namespace) -> int:
    from bot.settings_cli import list_settings_command

    scope = _records_scope()
    return list_settings_command(scope, sys.stdout, workspace_id=_workspace(args))


def _run_settings_set(args: argparse.Namespace) -> int:
    from bot.settings_cli import set_setting_command

    scope = _records_scope()
    return set_setting_command(
        scope, sys.stdout, workspace_id=_workspace(args), key=args.key, value_json=args.value
    )


def _run_settings_unset(args: argparse.Namespace) -> int:
    from bot.settings_cli import unset_setting_command

    scope = _records_scope()
    return unset_setting_command(scope, sys.stdout, workspace_id=_workspace(args), key=args.key)


def _run_settings_autoclaim(args: argparse.Namespace) -> int:
    from bot.settings_cli import autoclaim_command

    scope = _records_scope()
    return autoclaim_command(
        scope,
        sys.stdout,
        workspace_id=_workspace(args),
        user_id=args.user,
        enabled=args.state == "on",
    )


def _run_access_list(args: argparse.Namespace) -> int:
    from bot.access_cli import list_access_command

    return list_access_command(_records_scope(), sys.stdout, email=args.email)


def _run_access_revoke(args: argparse.Namespace) -> int:
    from bot.access_cli import revoke_access_command

    return revoke_access_command(_records_scope(), sys.stdout, email=args.email)


def _workspace(args: argparse.Namespace) -> str:
    return args.workspace or _workspace_of_token()


def _run_export_deliveries(args: argparse.Namespace) -> int:
    from bot.records import export_deliveries, parse_day

    since = parse_day(args.since, "--since") if args.since else None
    until = parse_day(args.until, "--until") if args.until else None
    if since is not None and until is not None and until <= since:
        raise CommandFailed(
            f"--until {args.until} is not after --since {args.since}: the period would be "
            f"empty. Give an --until later than --since."
        )
    scope = _records_scope()
    if args.output is None:
        try:
            export_deliveries(scope, sys.stdout, since=since, until=until, file_format=args.format)
        except BrokenPipeError:
            # The reader (`head`, say) stopped early; that is not an error of the export.
            sys.stderr.close()
        return 0
    try:
        out = args.output.open("w", encoding="utf-8", newline="")
    except OSError as failure:
        raise CommandFailed(
            f"cannot write {args.output}: {failure.strerror}. Give a file in a folder that exists."
        ) from failure
    with out:
        count = export_deliveries(scope, out, since=since, until=until, file_format=args.format)
    print(f"Wrote {count} row(s) to {args.output}.", file=sys.stderr)
    return 0


def _workspace_of_token() -> str:
    from slack_sdk.errors import SlackApiError

    from bot.app import build_web_client

    settings = _load()
    try:
        return build_web_client(settings).auth_test()["team_id"]
    except SlackApiError as failure:
        raise CommandFailed(
            f"auth.test failed ({failure.response.get('error')}), so the workspace is unknown. "
            f"Fix SLACK_BOT_TOKEN or pass --workspace TEAM_ID."
        ) from failure
    except OSError as failure:
        # urllib's URLError and socket timeouts are OSErrors.
        raise CommandFailed(
            f"cannot reach Slack at {settings.api_url} ({failure}), so the workspace is "
            f"unknown. Check the network and SLACK_API_URL, or pass --workspace TEAM_ID."
        ) from failure


def _run_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(sys.stdout)
