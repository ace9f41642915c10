"""One typed settings object, read from the environment and an optional `.env`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    ModelWrapValidatorHandler,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.away_status import DEFAULT_AWAY_STATUS_EMOJI, DEFAULT_AWAY_STATUS_WORDS
from bot.proxies import TrustedProxies

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_SCIM_URL = "https://api.slack.com/scim/v2/"


CONNECTION_MODE_REQUIRED = "SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is required"


def _init_details(error: ValidationError) -> list[InitErrorDetails]:
    return [
        InitErrorDetails(
            type=detail["type"], loc=detail["loc"], input=detail["input"], ctx=detail.get("ctx", {})
        )
        for detail in error.errors()
    ]


def _connection_mode_missing(data: Any) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError("connection_mode", CONNECTION_MODE_REQUIRED), loc=(), input=data
    )


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


def _is_month_day(text: str) -> bool:
    """MM-DD of a day every year has (no February 29)."""
    try:
        date.fromisoformat(f"2001-{text}")
    except ValueError:
        return False
    return len(text) == 5


class CoreSettings(BaseSettings):
    """Settings every command needs; commands that do not talk to Slack need only these."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(default="sqlite:///kyoso.db", validation_alias=_env("DATABASE_URL"))
    default_locale: Literal["ja", "en"] = Field(
        default="ja", validation_alias=_env("KYOSO_DEFAULT_LOCALE")
    )
    timezone: str = Field(default="Asia/Tokyo", validation_alias=_env("KYOSO_TIMEZONE"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias=_env("KYOSO_LOG_LEVEL")
    )
    # `json`: one JSON object per line, for log collectors.
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias=_env("KYOSO_LOG_FORMAT")
    )
    # Account lifecycle: no activity for this many days starts a contact cycle (DM, then an
    # email after email_after_days, then a flag after grace_days); deactivated members'
    # personal data is reduced after retention_days. Exemptions: `kyoso members exempt`.
    inactive_days: int = Field(default=180, ge=1, validation_alias=_env("KYOSO_INACTIVE_DAYS"))
    email_after_days: int = Field(default=14, ge=0, validation_alias=_env("KYOSO_EMAIL_AFTER_DAYS"))
    grace_days: int = Field(default=30, ge=0, validation_alias=_env("KYOSO_GRACE_DAYS"))
    retention_days: int = Field(default=365, ge=0, validation_alias=_env("KYOSO_RETENTION_DAYS"))
    # The 異動 season: its window ("MM-DD..MM-DD"), the survey's day ("mid-March") and the day
    # reminders start (after April 1), each as MM-DD in KYOSO_TIMEZONE.
    transfer_season: str = Field(
        default="03-01..05-31", validation_alias=_env("KYOSO_TRANSFER_SEASON")
    )
    transfer_survey_day: str = Field(
        default="03-15", validation_alias=_env("KYOSO_TRANSFER_SURVEY_DAY")
    )
    transfer_reminder_day: str = Field(
        default="04-08", validation_alias=_env("KYOSO_TRANSFER_REMINDER_DAY")
    )
    # Knowledge search, both optional and off by default: a small embedding model copied onto
    # the server (never downloaded), and an OpenAI-compatible chat-completions endpoint the
    # organisation has approved, for a generated answer over the entries found.
    embedding_model_dir: str | None = Field(
        default=None, validation_alias=_env("KYOSO_EMBEDDING_MODEL_DIR")
    )
    llm_url: str | None = Field(default=None, validation_alias=_env("KYOSO_LLM_URL"))
    llm_model: str = Field(default="default", validation_alias=_env("KYOSO_LLM_MODEL"))
    llm_api_key: SecretStr | None = Field(default=None, validation_alias=_env("KYOSO_LLM_API_KEY"))
    llm_timeout_seconds: float = Field(
        default=8.0, gt=0, le=60, validation_alias=_env("KYOSO_LLM_TIMEOUT_SECONDS")
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("must be an IANA time zone such as Asia/Tokyo") from exc
        return value

    @field_validator("transfer_season")
    @classmethod
    def _season_window(cls, value: str) -> str:
        parts = [part.strip() for part in value.split("..")]
        if len(parts) != 2 or not all(_is_month_day(part) for part in parts):
            raise ValueError("must be two months and days such as 03-01..05-31")
        return "..".join(parts)

    @field_validator("transfer_survey_day", "transfer_reminder_day")
    @classmethod
    def _month_day(cls, value: str) -> str:
        if not _is_month_day(value.strip()):
            raise ValueError("must be a month and day such as 03-15")
        return value.strip()

    @field_validator("embedding_model_dir", "llm_url")
    @classmethod
    def _blank_is_off(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("llm_url")
    @classmethod
    def _llm_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class Settings(CoreSettings):
    """Everything Kyoso reads from its environment. No module-level instance: build one."""

    slack_bot_token: SecretStr = Field(validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=_env("SLACK_APP_TOKEN")
    )
    slack_admin_user_token: SecretStr | None = Field(
        default=None, validation_alias=_env("SLACK_ADMIN_USER_TOKEN")
    )
    slack_api_url: str = Field(
        default=DEFAULT_SLACK_API_URL, validation_alias=_env("SLACK_API_URL")
    )
    slack_scim_url: str = Field(default=DEFAULT_SCIM_URL, validation_alias=_env("SLACK_SCIM_URL"))
    host: str = Field(default="0.0.0.0", validation_alias=_env("HOST"))
    port: int = Field(default=3000, ge=1, le=65535, validation_alias=_env("PORT"))
    # Socket Mode only: where /apply, /move/… and /healthz are served (never /slack/events);
    # unset, Socket Mode listens on no port at all.
    web_port: int | None = Field(
        default=None, ge=1, le=65535, validation_alias=_env("KYOSO_WEB_PORT")
    )
    http_threads: int = Field(default=16, ge=1, le=256, validation_alias=_env("KYOSO_HTTP_THREADS"))
    # HTTP mode's server: granian (a worker process, the fastest measured; bench/README.md) or
    # waitress (one pure-Python process, for platforms without fork).
    http_server: Literal["granian", "waitress"] = Field(
        default="granian", validation_alias=_env("KYOSO_HTTP_SERVER")
    )
    # The reverse proxies believed about the client's address (X-Forwarded-For): a hop
    # count such as `1`, or proxy addresses/networks. Empty: nobody, the peer is the client.
    trusted_proxies: str = Field(default="", validation_alias=_env("KYOSO_TRUSTED_PROXIES"))
    review_channel: str | None = Field(default=None, validation_alias=_env("KYOSO_REVIEW_CHANNEL"))
    # Where members' self-introductions are posted (the bot must be a member of it).
    intro_channel: str | None = Field(default=None, validation_alias=_env("KYOSO_INTRO_CHANNEL"))
    # Where newcomers' greeting cards go for the ambassadors (the bot must be a member of it).
    ambassador_channel: str | None = Field(
        default=None, validation_alias=_env("KYOSO_AMBASSADOR_CHANNEL")
    )
    # Outgoing mail (applicants are not in Slack yet). No SMTP_HOST: emails wait in the outbox.
    smtp_host: str | None = Field(default=None, validation_alias=_env("SMTP_HOST"))
    smtp_port: int = Field(default=587, ge=1, le=65535, validation_alias=_env("SMTP_PORT"))
    smtp_username: str | None = Field(default=None, validation_alias=_env("SMTP_USERNAME"))
    smtp_password: SecretStr | None = Field(default=None, validation_alias=_env("SMTP_PASSWORD"))
    smtp_starttls: bool = Field(default=True, validation_alias=_env("SMTP_STARTTLS"))
    mail_from: str = Field(default="kyoso@localhost", validation_alias=_env("KYOSO_MAIL_FROM"))
    # Where applicants reply to (the secretariat's mailbox).
    mail_reply_to: str | None = Field(default=None, validation_alias=_env("KYOSO_MAIL_REPLY_TO"))
    # Public base URL of this installation (links in emails, the registration page).
    public_url: str | None = Field(default=None, validation_alias=_env("KYOSO_PUBLIC_URL"))
    # With an Enterprise admin token, approved applicants are invited to these channels.
    invite_channel_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("KYOSO_INVITE_CHANNELS")
    )
    # Channels: where new channels are announced (the bot must be a member), and after how
    # many days without a message a channel is asked whether it is still needed.
    announce_channel: str | None = Field(
        default=None, validation_alias=_env("KYOSO_ANNOUNCE_CHANNEL")
    )
    dormant_days: int = Field(
        default=90, ge=7, le=3650, validation_alias=_env("KYOSO_DORMANT_DAYS")
    )
    scheduler_enabled: bool = Field(default=True, validation_alias=_env("KYOSO_SCHEDULER_ENABLED"))
    # The scheduler's lease (scheduler/runner.py): a killed leader is replaced within the lease
    # plus one tick, a stopped one within a tick; several ticks per lease survive a slow renewal.
    scheduler_lease_seconds: int = Field(
        default=10, ge=3, le=600, validation_alias=_env("KYOSO_SCHEDULER_LEASE_SECONDS")
    )
    scheduler_tick_seconds: int = Field(
        default=2, ge=1, le=200, validation_alias=_env("KYOSO_SCHEDULER_TICK_SECONDS")
    )
    # Threads that process recorded Slack events, and how long an instance holds an event it
    # took: after a crash, another instance (or the restarted one) takes it up after that.
    event_workers: int = Field(default=4, ge=1, le=64, validation_alias=_env("KYOSO_EVENT_WORKERS"))
    event_lease_seconds: int = Field(
        default=120, ge=1, le=3600, validation_alias=_env("KYOSO_EVENT_LEASE_SECONDS")
    )
    # Inactivity contacts per minute. Each costs one dnd.info (Tier 3, ~50/min) and one
    # chat.postMessage (shared with interactive replies): keep it at 45 or below on Slack.
    contacts_per_minute: int = Field(
        default=40, ge=1, le=6000, validation_alias=_env("KYOSO_CONTACTS_PER_MINUTE")
    )
    # Kind hours (bot/slack/kind_hours.py): Slack statuses that mean the member is away, so
    # Kyoso's own DMs wait. Comma-separated; words match inside the status text.
    away_status_words: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_AWAY_STATUS_WORDS),
        validation_alias=_env("KYOSO_AWAY_STATUS_WORDS"),
    )
    away_status_emoji: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_AWAY_STATUS_EMOJI),
        validation_alias=_env("KYOSO_AWAY_STATUS_EMOJI"),
    )

    @field_validator("scheduler_tick_seconds")
    @classmethod
    def _ticks_within_the_lease(cls, value: int, info: ValidationInfo) -> int:
        lease = info.data.get("scheduler_lease_seconds")
        if lease is not None and value * 3 > lease:
            raise ValueError("must be at most a third of KYOSO_SCHEDULER_LEASE_SECONDS")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must start with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must start with xapp-")
        return value

    @field_validator("slack_admin_user_token")
    @classmethod
    def _admin_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxp-"):
            raise ValueError("must start with xoxp-")
        return value

    @field_validator("slack_api_url", "slack_scim_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_shape(cls, value: str) -> str:
        TrustedProxies.parse(value)  # raises ValueError with the reason
        return value.strip()

    @field_validator("invite_channel_ids", "away_status_words", "away_status_emoji", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("review_channel", "intro_channel", "ambassador_channel")
    @classmethod
    def _channel_id_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not (value[0] in "CG" and value[1:].isalnum() and value.isupper()):
            raise ValueError("must be a channel ID such as C0123ABCD")
        return value

    @field_validator("announce_channel")
    @classmethod
    def _announce_channel_shape(cls, value: str | None) -> str | None:
        # The same shape as the review channel's: an ID, not a name.
        if value in (None, ""):
            return None
        if not (value[0] in "CG" and value[1:].isalnum() and value.isupper()):
            raise ValueError("must be a channel ID such as C0123ABCD")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _needs_a_connection_mode(
        cls, data: Any, handler: ModelWrapValidatorHandler[Settings]
    ) -> Settings:
        """Checked alongside the fields, so that one run names every missing setting."""
        values = data if isinstance(data, dict) else {}
        missing = not values.get("SLACK_APP_TOKEN") and not values.get("SLACK_SIGNING_SECRET")
        try:
            settings = handler(data)
        except ValidationError as error:
            if not missing:
                raise
            raise ValidationError.from_exception_data(
                error.title,
                [*_init_details(error), _connection_mode_missing(data)],
            ) from None
        if settings.slack_app_token is None and settings.slack_signing_secret is None:
            raise ValueError(CONNECTION_MODE_REQUIRED)
        return settings

    @property
    def proxies(self) -> TrustedProxies:
        return TrustedProxies.parse(self.trusted_proxies)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None
