"""Email through an SMTP server: the connection settings, sending, and the sign-in email queue.

smtp:// always upgrades the connection with STARTTLS before it logs in or sends, and smtps://
speaks TLS from the start. Both verify the server's certificate against the system's
certificate authorities, or against SMTP_CA_FILE when it is set.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from sqlmodel import Session

from bot.config import Settings
from bot.outbox import PermanentFailure, TransientFailure
from storage.models import OutboxMessage
from storage.outbox import enqueue

HANDOFF_EMAIL = "handoff_email"
SIGNIN_EMAIL = "signin_email"

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
# Seconds for connecting and for each command and reply, so a silent server cannot hold an
# outbox thread for longer than the outbox lease.
TIMEOUT = 30.0


def enqueue_signin_email(
    session: Session, restricted_user_id: int, next_path: str | None
) -> OutboxMessage:
    """Queue an email with a fresh sign-in link for a restricted user, in the caller's transaction.

    The link opens `next_path` (a portal page, or None for the portal's start page) after
    signing in. The link's token is made when the email is sent, so the queue contains no secret.
    """
    return enqueue(
        session,
        SIGNIN_EMAIL,
        {"restricted_user_id": restricted_user_id, "next_path": next_path},
    )


@dataclass(frozen=True)
class SmtpServer:
    """The SMTP server's address, TLS mode and login, read from SMTP_URL."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Parse smtp://user:password@host:port or smtps://...; the URL was checked at start-up."""
        parsed = urlparse(url)
        if parsed.scheme not in DEFAULT_PORTS or not parsed.hostname:
            raise ValueError(f"SMTP_URL scheme {parsed.scheme!r} is not smtp or smtps")
        return cls(
            host=parsed.hostname,
            port=parsed.port or DEFAULT_PORTS[parsed.scheme],
            implicit_tls=parsed.scheme == "smtps",
            username=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password is not None else None,
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class Mailer:
    """Sends email through one SMTP server, a new connection per message."""

    def __init__(
        self,
        server: SmtpServer,
        *,
        mail_from: str,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.server = server
        self.mail_from = mail_from
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer | None:
        """Return the mailer that SMTP_URL describes, or None when email is not set up."""
        if settings.smtp_url is None or settings.mail_from is None:
            return None
        return cls(
            SmtpServer.from_url(settings.smtp_url),
            mail_from=settings.mail_from,
            ssl_context=ssl.create_default_context(cafile=settings.smtp_ca_file),
        )

    def send(self, message: EmailMessage) -> None:
        """Send one message.

        Raise TransientFailure on a 4xx reply, PermanentFailure on a 5xx reply (both with the
        server's reply), and OSError when the server cannot be reached or drops the line.
        """
        try:
            with self._connect() as connection:
                connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as failure:
            code, reply = next(iter(failure.recipients.values()))
            raise _refusal(code, reply) from failure
        except smtplib.SMTPResponseException as failure:
            raise _refusal(failure.smtp_code, failure.smtp_error) from failure

    def check(self) -> None:
        """Connect, secure the connection and log in, as a send would; raise what a send would."""
        try:
            with self._connect() as connection:
                connection.noop()
        except smtplib.SMTPResponseException as failure:
            raise _refusal(failure.smtp_code, failure.smtp_error) from failure

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        if server.implicit_tls:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, timeout=self._timeout, context=self._ssl_context
            )
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=self._timeout)
        try:
            connection.ehlo()
            if not server.implicit_tls:
                if not connection.has_extn("starttls"):
                    # Sending on without TLS would expose the password and every message.
                    raise PermanentFailure(
                        f"the SMTP server at {server.address} does not offer STARTTLS; use a "
                        f"server that does, or smtps:// for TLS from the start"
                    )
                connection.starttls(context=self._ssl_context)
                connection.ehlo()
            if server.username is not None:
                connection.login(server.username, server.password or "")
        except BaseException:
            connection.close()
            raise
        return connection


def _refusal(code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    described = f"SMTP {code} {' '.join(text.split())}"
    if 400 <= code < 500:
        return TransientFailure(described)
    return PermanentFailure(described)
