"""bot.mail: SMTP_URL parsing and sending through a real SMTP server on 127.0.0.1."""

import ssl
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from bot.config import Settings
from bot.mail import Mailer, SmtpServer
from bot.outbox import PermanentFailure, TransientFailure
from tests.smtp_server import (
    IGNORE_AUTH_WARNING,
    PASSWORD,
    USER,
    SmtpTestServer,
    free_port,
    make_certificates,
)

pytestmark = IGNORE_AUTH_WARNING


@pytest.fixture(params=["starttls", "implicit_tls"])
def smtp(request, certificates):
    server = SmtpTestServer(certificates, implicit_tls=request.param == "implicit_tls").start()
    yield server
    server.stop()


def mailer_for(server, **settings):
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret", **server.env()}
    env.update(settings)
    mailer = Mailer.from_settings(Settings.from_env(env))
    assert mailer is not None
    return mailer


def a_message(to="someone@client.example"):
    message = EmailMessage()
    message["Subject"] = "Test"
    message["From"] = "caretbot <caretbot@caret.example>"
    message["To"] = to
    message.set_content("Hello")
    return message


def test_from_url_reads_every_part():
    server = SmtpServer.from_url("smtps://mail%40box:p%3Ass@smtp.example.com:2465")

    assert server.host == "smtp.example.com"
    assert server.port == 2465
    assert server.implicit_tls is True
    assert server.username == "mail@box"
    assert server.password == "p:ss"


def test_from_url_default_ports():
    assert SmtpServer.from_url("smtp://smtp.example.com").port == 587
    assert SmtpServer.from_url("smtps://smtp.example.com").port == 465
    assert SmtpServer.from_url("smtp://smtp.example.com").username is None


def test_repr_hides_password():
    server = SmtpServer.from_url("smtp://user:hunter2-secret@smtp.example.com:587")

    assert "hunter2-secret" not in repr(server)
    assert "hunter2-secret" not in repr(Mailer(server, mail_from="a@b.example"))


def test_sends_over_tls_with_login(smtp):
    mailer_for(smtp).send(a_message())

    [received] = smtp.wait_for(1)
    assert received["To"] == "someone@client.example"
    assert received.get_content().strip() == "Hello"
    assert smtp.handler.envelopes == [("caretbot@caret.example", ["someone@client.example"])]


def test_check_logs_in(smtp):
    mailer_for(smtp).check()

    assert smtp.messages == []


def test_wrong_password_fails_permanently(smtp):
    url = smtp.url.replace(PASSWORD, "wrong")

    with pytest.raises(PermanentFailure) as failure:
        mailer_for(smtp, SMTP_URL=url).send(a_message())

    assert str(failure.value).startswith("SMTP 535 ")
    assert "wrong" not in str(failure.value)


def test_untrusted_certificate_rejected(smtp, tmp_path):
    other = make_certificates(tmp_path)

    with pytest.raises(ssl.SSLCertVerificationError):
        mailer_for(smtp, SMTP_CA_FILE=str(other.ca_file)).send(a_message())

    assert smtp.messages == []


def test_4xx_reply_is_transient(smtp):
    smtp.refuse("452 4.3.1 Insufficient system storage")

    with pytest.raises(TransientFailure) as failure:
        mailer_for(smtp).send(a_message())

    assert str(failure.value) == "SMTP 452 4.3.1 Insufficient system storage"


def test_5xx_reply_is_permanent(smtp):
    smtp.refuse("554 5.7.1 Message rejected as spam")

    with pytest.raises(PermanentFailure) as failure:
        mailer_for(smtp).send(a_message())

    assert str(failure.value) == "SMTP 554 5.7.1 Message rejected as spam"


def test_server_down_raises_oserror(certificates):
    server = SmtpTestServer(certificates)

    with pytest.raises(OSError):
        mailer_for(server).send(a_message())


def test_no_starttls_nothing_sent(certificates):
    class Accepting:
        messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append(envelope)
            return "250 OK"

    handler = Accepting()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailer = Mailer(
            SmtpServer.from_url(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{port}"),
            mail_from="caretbot@caret.example",
            ssl_context=ssl.create_default_context(cafile=certificates.ca_file),
        )

        with pytest.raises(PermanentFailure) as failure:
            mailer.send(a_message())
    finally:
        controller.stop()

    assert "does not offer STARTTLS" in str(failure.value)
    assert handler.messages == []
