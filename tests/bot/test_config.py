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
