"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), and a test certificate authority.

The certificates come from the `openssl` command at test time, so no key material lives in
the repository.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# aiosmtpd warns of AUTH without STARTTLS on every connection, which is what implicit TLS
# looks like to it. Test modules that use implicit TLS put this in `pytestmark`.
IGNORE_AUTH_WARNING = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"
)

USER = "caretbot"
PASSWORD = "s3cret-smtp-password"


@dataclass(frozen=True)
class TestCertificates:
    ca_file: Path  # the CA that caretbot trusts through SMTP_CA_FILE
    cert_file: Path  # the server's certificate, for 127.0.0.1 and localhost
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificates(directory: Path) -> TestCertificates:
    """Make a CA and a server certificate signed by it; skip the test when openssl is missing."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed, and TLS tests need certificates")
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, request, cert = (
        directory / "server.key",
        directory / "server.csr",
        directory / "server.pem",
    )
    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName = IP:127.0.0.1, DNS:localhost\n")

    def openssl(*args: str | Path) -> None:
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_cert,
            "-days", "2", "-subj", "/CN=caretbot test CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request,
            "-subj", "/CN=127.0.0.1")  # fmt: skip
    openssl("x509", "-req", "-in", request, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", extensions)  # fmt: skip
    return TestCertificates(ca_file=ca_cert, cert_file=cert, key_file=key)


class _Recorder:
    """The aiosmtpd handler: keeps each accepted message, or replies with the set refusal."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refusal: str | None = None
        self.received = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        if self.refusal is not None:
            return self.refusal
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.received:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.received.notify_all()
        return "250 OK"


def _check_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    accepted = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # With handled=False, aiosmtpd replies 535 to a rejected login itself.
    return AuthResult(success=accepted, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpTestServer:
    """An SMTP server that needs a login over TLS: STARTTLS, or TLS from the start."""

    def __init__(self, certificates: TestCertificates, *, implicit_tls: bool = False) -> None:
        self.certificates = certificates
        self.implicit_tls = implicit_tls
        self.port = free_port()
        self.handler = _Recorder()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{USER}:{PASSWORD}@127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def env(self) -> dict[str, str]:
        """The settings that point caretbot at this server."""
        return {
            "SMTP_URL": self.url,
            "SMTP_CA_FILE": str(self.certificates.ca_file),
            "MAIL_FROM": "caretbot <caretbot@caret.example>",
            "PUBLIC_URL": "https://caret.example",
        }

    def start(self) -> SmtpTestServer:
        context = self.certificates.server_context()
        options: dict = {"authenticator": _check_login, "auth_required": True}
        if self.implicit_tls:
            # aiosmtpd counts only STARTTLS as TLS for AUTH; this connection is TLS throughout.
            options.update(ssl_context=context, auth_require_tls=False)
        else:
            options.update(tls_context=context, require_starttls=True)
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, server_hostname="127.0.0.1",
            **options,
        )  # fmt: skip
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, reply: str | None) -> None:
        """Reply to each message with `reply`, such as "451 4.3.0 Try again"; None accepts."""
        self.handler.refusal = reply

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        with self.handler.received:
            if not self.handler.received.wait_for(
                lambda: len(self.handler.messages) >= count, timeout
            ):
                raise AssertionError(
                    f"{len(self.handler.messages)} email(s) after {timeout}s, expected {count}"
                )
            return list(self.handler.messages)
