import pytest

from bot.config import DEFAULT_API_URL, DEFAULT_DATABASE_URL, ConfigError, Settings

VALID = {"SLACK_BOT_TOKEN": "xoxb-1-2-secretpart", "SLACK_SIGNING_SECRET": "shh-signing"}


def test_defaults_apply():
    settings = Settings.from_env(VALID)

    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.api_url == DEFAULT_API_URL
    assert settings.log_level == "INFO"
    assert settings.app_token is None


@pytest.mark.parametrize("name", ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
def test_missing_setting_names_variable(name):
    env = {key: value for key, value in VALID.items() if key != name}

    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)

    assert name in str(raised.value)
    assert ".env" in str(raised.value)


def test_socket_mode_needs_app_token():
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN is not set"):
        Settings.from_env(VALID, socket_mode=True)


def test_wrong_token_kind_shows_only_prefix():
    env = {**VALID, "SLACK_BOT_TOKEN": "xoxp-user-token-secret"}

    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)

    message = str(raised.value)
    assert "SLACK_BOT_TOKEN is invalid" in message
    assert "xoxb-" in message
    assert "secret" not in message


def test_secrets_stay_out_of_repr():
    settings = Settings.from_env({**VALID, "SLACK_APP_TOKEN": "xapp-1-secretapp"}, socket_mode=True)

    text = repr(settings)
    assert "secretpart" not in text
    assert "shh-signing" not in text
    assert "secretapp" not in text


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("DATABASE_URL", "mysql://root@localhost/db", "scheme 'mysql' is not supported"),
        ("SLACK_API_URL", "slack.com/api", "is not an http(s) URL"),
        ("LOG_LEVEL", "LOUD", "'LOUD'"),
    ],
)
def test_malformed_setting_is_named(variable, value, fragment):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**VALID, variable: value})

    assert str(raised.value).startswith(f"{variable} is invalid")
    assert fragment in str(raised.value)


def test_postgres_url_gets_psycopg_driver():
    settings = Settings.from_env({**VALID, "DATABASE_URL": "postgresql://u@db/caretbot"})

    assert settings.database_url == "postgresql+psycopg://u@db/caretbot"


def test_api_url_gets_trailing_slash():
    settings = Settings.from_env({**VALID, "SLACK_API_URL": "http://127.0.0.1:9/api"})

    assert settings.api_url == "http://127.0.0.1:9/api/"


def test_user_token_is_optional_and_checked():
    assert Settings.from_env(VALID).user_token is None

    with pytest.raises(ConfigError, match="SLACK_USER_TOKEN is invalid"):
        Settings.from_env({**VALID, "SLACK_USER_TOKEN": "xoxb-not-a-user-token"})


def test_user_token_stays_out_of_repr():
    settings = Settings.from_env({**VALID, "SLACK_USER_TOKEN": "xoxp-1-usersecret"})

    assert settings.user_token == "xoxp-1-usersecret"
    assert "usersecret" not in repr(settings)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("sqlite:///", "names no SQLite file"),
        ("sqlite://", "names no SQLite file"),
        ("sqlite:///:memory:", "names no SQLite file"),
        ("postgresql://u@db:notaport/x", "DATABASE_URL is invalid"),
    ],
)
def test_database_url_must_name_a_database(url, fragment):
    with pytest.raises(ConfigError, match=fragment):
        Settings.from_env({**VALID, "DATABASE_URL": url})


def test_log_level_error_shows_value_as_typed():
    with pytest.raises(ConfigError, match="'verbose'"):
        Settings.from_env({**VALID, "LOG_LEVEL": "verbose"})


MAIL = {
    "SMTP_URL": "smtp://user:hunter2-secret@smtp.example.com:587",
    "MAIL_FROM": "caretbot <caretbot@example.com>",
    "PUBLIC_URL": "https://caret.example.com/",
}


def test_email_settings_read():
    settings = Settings.from_env({**VALID, **MAIL, "LINK_DAYS": "7"})

    assert settings.email_enabled is True
    assert settings.public_url == "https://caret.example.com"
    assert settings.link_days == 7
    assert settings.smtp_ca_file is None
    assert "hunter2-secret" not in repr(settings)


def test_email_off_without_smtp_url():
    settings = Settings.from_env(VALID)

    assert settings.email_enabled is False
    assert settings.link_days == 14


def test_smtp_url_needs_public_url():
    env = {**VALID, **MAIL, "PUBLIC_URL": ""}

    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)

    message = str(raised.value)
    assert message.startswith("PUBLIC_URL is not set, but SMTP_URL is")
    assert "PUBLIC_URL=https://" in message
    assert "hunter2-secret" not in message


def test_invalid_smtp_url_hides_password():
    env = {**VALID, **MAIL, "SMTP_URL": "smtpx://user:hunter2-secret@smtp.example.com"}

    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)

    assert "SMTP_URL is invalid (scheme 'smtpx')" in str(raised.value)
    assert "hunter2-secret" not in str(raised.value)


def test_smtp_ca_file_must_exist(tmp_path):
    missing = tmp_path / "missing.pem"

    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**VALID, **MAIL, "SMTP_CA_FILE": str(missing)})

    assert f"SMTP_CA_FILE is invalid: '{missing}' is not a file" in str(raised.value)


def test_smtp_ca_file_read(tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("")

    settings = Settings.from_env({**VALID, **MAIL, "SMTP_CA_FILE": str(ca_file)})

    assert settings.smtp_ca_file == str(ca_file)
