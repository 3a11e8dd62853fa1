"""Settings read once from the environment (and a `.env` file) at start-up."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///caretbot.db"
DEFAULT_LINK_DAYS = 14
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    """Everything caretbot reads from its environment."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    user_token: str | None = field(default=None, repr=False)
    database_url: str = DEFAULT_DATABASE_URL
    api_url: str = DEFAULT_API_URL
    log_level: str = "INFO"
    # Email to recipients outside Slack, and the portal they read it in. Without smtp_url
    # such deliveries are stored and the email waits until it is set.
    smtp_url: str | None = field(default=None, repr=False)  # may carry a password
    # A PEM file of the certificate authorities that the SMTP server's certificate must chain
    # to, used in place of the system's. It is meant for a relay with a private CA.
    smtp_ca_file: str | None = None
    mail_from: str | None = None
    public_url: str | None = None  # base of every link in an email, e.g. https://caret.example.com
    link_days: int = DEFAULT_LINK_DAYS  # how long a sign-in link in an email stays valid

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, socket_mode: bool = False
    ) -> Settings:
        """Read and check every setting; raise ConfigError on the first bad one."""
        env = os.environ if env is None else env

        bot_token = _required(env, "SLACK_BOT_TOKEN", "xoxb-", "the Bot User OAuth Token")
        signing_secret = _required(env, "SLACK_SIGNING_SECRET", None, "the app's Signing Secret")
        app_token = None
        if socket_mode:
            app_token = _required(
                env, "SLACK_APP_TOKEN", "xapp-", "an App-Level Token with connections:write"
            )
        # Optional. Without it, ^note in a Slack Connect channel warns instead of deleting.
        user_token = None
        if env.get("SLACK_USER_TOKEN", "").strip():
            user_token = _required(
                env, "SLACK_USER_TOKEN", "xoxp-", "a workspace admin's User OAuth Token"
            )

        return cls(
            bot_token=bot_token,
            signing_secret=signing_secret,
            app_token=app_token,
            user_token=user_token,
            database_url=_database_url(env),
            api_url=_api_url(env),
            log_level=_log_level(env),
            smtp_url=_smtp_url(env),
            smtp_ca_file=_smtp_ca_file(env),
            mail_from=_mail_from(env),
            public_url=_public_url(env),
            link_days=_link_days(env),
        )

    @property
    def email_enabled(self) -> bool:
        return self.smtp_url is not None


def _required(env: Mapping[str, str], name: str, prefix: str | None, what: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(
            f"{name} is not set. Put {what} from your Slack app's settings in .env "
            f"(see .env.example)."
        )
    if prefix and not value.startswith(prefix):
        # Print only the prefix: the rest of a token is a secret even when it is the wrong one.
        raise ConfigError(
            f"{name} is invalid: it starts with {value[:5]!r}, expected {prefix!r}. "
            f"Copy {what} from your Slack app's settings."
        )
    return value


def read_database_url(env: Mapping[str, str] | None = None) -> str:
    """Read DATABASE_URL alone, for commands that need no Slack tokens."""
    return _database_url(os.environ if env is None else env)


def _database_url(env: Mapping[str, str]) -> str:
    value = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    scheme = value.split(":", 1)[0]
    if not scheme.startswith(("sqlite", "postgres")):
        raise ConfigError(
            f"DATABASE_URL is invalid: scheme {scheme!r} is not supported. Use "
            f"sqlite:///path/to/caretbot.db or postgresql+psycopg://user@host/dbname."
        )
    if scheme in ("postgresql", "postgres"):
        # SQLAlchemy's plain "postgresql" means psycopg2, which caretbot does not install.
        value = "postgresql+psycopg" + value[len(scheme) :]
    try:
        url = make_url(value)
        url.port  # noqa: B018 (parsing the port raises ValueError for a non-number)
    except (ArgumentError, ValueError) as failure:
        raise ConfigError(
            f"DATABASE_URL is invalid: {failure}. Use sqlite:///path/to/caretbot.db or "
            f"postgresql+psycopg://user@host:5432/dbname."
        ) from failure
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ConfigError(
            "DATABASE_URL is invalid: it names no SQLite file, and an in-memory database is "
            "lost when caretbot stops. Use sqlite:///caretbot.db (three slashes, then a path)."
        )
    return value


def _api_url(env: Mapping[str, str]) -> str:
    value = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"SLACK_API_URL is invalid: {value!r} is not an http(s) URL. "
            f"Leave it unset for {DEFAULT_API_URL}."
        )
    return value if value.endswith("/") else value + "/"


def _smtp_url(env: Mapping[str, str]) -> str | None:
    value = env.get("SMTP_URL", "").strip()
    if not value:
        return None
    parsed = urlparse(value)
    try:
        parsed.port  # noqa: B018 (parsing the port raises ValueError for a non-number)
    except ValueError:
        parsed = None
    if parsed is None or parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        # The URL may hold a password, so only its scheme goes into the message.
        scheme = value.split(":", 1)[0]
        raise ConfigError(
            f"SMTP_URL is invalid (scheme {scheme!r}): use smtp://user:password@host:587 "
            f"(STARTTLS) or smtps://user:password@host:465 (TLS)."
        )
    if not env.get("MAIL_FROM", "").strip():
        raise ConfigError(
            "MAIL_FROM is not set, but SMTP_URL is: give the sender of caretbot's email, "
            'e.g. MAIL_FROM="caretbot <caretbot@example.com>".'
        )
    if not env.get("PUBLIC_URL", "").strip():
        raise ConfigError(
            "PUBLIC_URL is not set, but SMTP_URL is: every email links into caretbot's portal, "
            "so give the address people open it at, e.g. PUBLIC_URL=https://caret.example.com."
        )
    return value


def _smtp_ca_file(env: Mapping[str, str]) -> str | None:
    value = env.get("SMTP_CA_FILE", "").strip()
    if not value:
        return None
    if not os.path.isfile(value):
        raise ConfigError(
            f"SMTP_CA_FILE is invalid: {value!r} is not a file. Give the path of a PEM file "
            f"with the certificate authorities of your SMTP server, or leave it unset to use "
            f"the system's."
        )
    return value


def _mail_from(env: Mapping[str, str]) -> str | None:
    value = env.get("MAIL_FROM", "").strip()
    if value and "@" not in value:
        raise ConfigError(
            f"MAIL_FROM is invalid: {value!r} has no email address. "
            'Use e.g. MAIL_FROM="caretbot <caretbot@example.com>".'
        )
    return value or None


def _public_url(env: Mapping[str, str]) -> str | None:
    value = env.get("PUBLIC_URL", "").strip()
    if not value:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"PUBLIC_URL is invalid: {value!r} is not an http(s) URL. Give the address people "
            f"open caretbot at, e.g. https://caret.example.com."
        )
    return value.rstrip("/")


def _link_days(env: Mapping[str, str]) -> int:
    typed = env.get("LINK_DAYS", "").strip()
    if not typed:
        return DEFAULT_LINK_DAYS
    if not typed.isdigit() or not 1 <= int(typed) <= 365:
        raise ConfigError(
            f"LINK_DAYS is invalid: {typed!r}. Give a whole number of days from 1 to 365."
        )
    return int(typed)


def _log_level(env: Mapping[str, str]) -> str:
    typed = env.get("LOG_LEVEL", "").strip()
    value = typed.upper() or "INFO"
    if value not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL is invalid: {typed!r}. Use one of {', '.join(LOG_LEVELS)}.")
    return value


def configure_logging(level: str) -> None:
    """Send key=value log lines to stderr at the given level."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
