"""`caretbot doctor`: the SMTP server and PUBLIC_URL checks, against real servers on 127.0.0.1."""

import io

from bot.doctor import run_doctor
from tests.smtp_server import (
    IGNORE_AUTH_WARNING,
    PASSWORD,
    SmtpTestServer,
    free_port,
    make_certificates,
)

pytestmark = IGNORE_AUTH_WARNING


def doctor(slack, db_url, settings=None):
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": "doctor-secret",
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": db_url,
        **(settings or {}),
    }
    out = io.StringIO()
    status = run_doctor(out, env)
    return status, out.getvalue()


def test_email_and_public_url_pass(bot, slack, db_url, smtp):
    status, text = doctor(slack, db_url, {**smtp.env(), "PUBLIC_URL": bot.server.url})

    assert "FAIL" not in text
    assert status == 0
    assert f"ok    email: the SMTP server at 127.0.0.1:{smtp.port} answers over TLS" in text
    assert "caretbot logged in" in text
    assert f"ok    PUBLIC_URL: {bot.server.url}/healthz answers" in text


def test_implicit_tls_passes(bot, slack, db_url, certificates):
    server = SmtpTestServer(certificates, implicit_tls=True).start()
    try:
        status, text = doctor(slack, db_url, {**server.env(), "PUBLIC_URL": bot.server.url})
    finally:
        server.stop()

    assert status == 0
    assert "answers over TLS" in text


def test_email_not_set_up_is_no_problem(bot, slack, db_url):
    status, text = doctor(slack, db_url)

    assert status == 0
    assert "ok    email: SMTP_URL is not set" in text
    assert "PUBLIC_URL" not in text


def test_smtp_down_reported(bot, slack, db_url, smtp):
    smtp.stop()

    status, text = doctor(slack, db_url, {**smtp.env(), "PUBLIC_URL": bot.server.url})

    assert status == 1
    assert f"FAIL  email: cannot reach the SMTP server at 127.0.0.1:{smtp.port}" in text
    assert "check the host and port in SMTP_URL" in text


def test_untrusted_certificate_reported(bot, slack, db_url, smtp, tmp_path):
    other = make_certificates(tmp_path)

    status, text = doctor(
        slack,
        db_url,
        {**smtp.env(), "SMTP_CA_FILE": str(other.ca_file), "PUBLIC_URL": bot.server.url},
    )

    assert status == 1
    assert "FAIL  email: the certificate of the SMTP server at 127.0.0.1:" in text
    assert "set SMTP_CA_FILE" in text


def test_wrong_password_reported(bot, slack, db_url, smtp):
    env = {**smtp.env(), "SMTP_URL": smtp.url.replace(PASSWORD, "not-the-password")}

    status, text = doctor(slack, db_url, {**env, "PUBLIC_URL": bot.server.url})

    assert status == 1
    assert "refused caretbot (SMTP 535 " in text
    assert "not-the-password" not in text
    assert PASSWORD not in text


def test_public_url_not_answering(bot, slack, db_url, smtp):
    silent = f"http://127.0.0.1:{free_port()}"

    status, text = doctor(slack, db_url, {**smtp.env(), "PUBLIC_URL": silent})

    assert status == 1
    assert f"FAIL  PUBLIC_URL: {silent}/healthz does not answer" in text


def test_public_url_wrong_site(bot, slack, db_url, smtp):
    status, text = doctor(
        slack, db_url, {**smtp.env(), "PUBLIC_URL": f"{bot.server.url}/elsewhere"}
    )

    assert status == 1
    assert f"FAIL  PUBLIC_URL: {bot.server.url}/elsewhere/healthz answered HTTP 404" in text


def test_smtp_without_public_url_reported(bot, slack, db_url, smtp):
    env = {**smtp.env(), "PUBLIC_URL": ""}

    status, text = doctor(slack, db_url, env)

    assert status == 1
    assert "FAIL  settings: PUBLIC_URL is not set, but SMTP_URL is" in text
    assert PASSWORD not in text
