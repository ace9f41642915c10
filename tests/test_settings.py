import pytest
from pydantic import ValidationError

from bot.settings import Settings
from bot.settings_errors import describe_settings_error

BASE = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _settings(**env: str) -> Settings:
    return Settings(**env)  # type: ignore[arg-type]


def test_defaults() -> None:
    settings = _settings(**BASE)
    assert settings.database_url == "sqlite:///kyoso.db"
    assert settings.default_locale == "ja"
    assert settings.timezone == "Asia/Tokyo"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.socket_mode


def test_app_token_means_socket_mode_without_signing_secret() -> None:
    settings = _settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1")
    assert settings.socket_mode


def test_api_url_gets_its_trailing_slash() -> None:
    assert _settings(**BASE, SLACK_API_URL="http://127.0.0.1:9/api").slack_api_url.endswith("/api/")


@pytest.mark.parametrize(
    ("env", "variable", "fragment"),
    [
        ({}, "SLACK_BOT_TOKEN", "が設定されていません"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"),
        ({**BASE, "SLACK_BOT_TOKEN": "xoxp-1"}, "SLACK_BOT_TOKEN", "xoxb-"),
        ({**BASE, "KYOSO_TIMEZONE": "Mars/Base"}, "KYOSO_TIMEZONE", "Asia/Tokyo"),
        ({**BASE, "KYOSO_REVIEW_CHANNEL": "#review"}, "KYOSO_REVIEW_CHANNEL", "C0123ABCD"),
        ({**BASE, "PORT": "99999"}, "PORT", "65535"),
    ],
)
def test_errors_name_the_variable_in_both_languages(
    env: dict[str, str], variable: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _settings(**env)
    message = describe_settings_error(caught.value)
    assert variable in message
    assert fragment in message
    assert "設定エラー" in message and "Configuration error" in message
    assert "xoxb-1" not in message.replace("xoxb-…", "")  # secrets are never echoed
