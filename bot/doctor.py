"""What this installation can do: each configured token asked, each optional power probed."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.scim import SCIMClient
from sqlalchemy.exc import SQLAlchemyError

from bot.db import make_engine, make_session_factory
from bot.inbox import store
from bot.manifest import Manifest
from bot.services.mail.port import MailError
from bot.services.mail.smtp import SmtpSender
from bot.settings import Settings


class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"  # works, but an optional power is off or something needs attention
    FAIL = "FAIL"  # something required is missing: Kyoso cannot run properly
    OFF = "OFF"  # optional and not configured


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", exc))
    return f"{type(exc).__name__}: {exc}"


def run_checks(
    settings: Settings, manifest: Manifest, make_client: Callable[[str], WebClient]
) -> list[Check]:
    checks: list[Check] = []
    bot = make_client(settings.slack_bot_token.get_secret_value())
    bot_checks, bot_scopes = _bot_checks(bot, manifest, settings)
    checks.extend(bot_checks)
    if settings.slack_app_token is not None:
        app_token = settings.slack_app_token.get_secret_value()
        checks.append(_socket_mode_check(make_client(app_token), app_token))
    else:
        checks.append(Check("Socket Mode", Status.OFF, "HTTP mode (SLACK_APP_TOKEN not set)"))
    for name, channel, variable in (
        ("Intro channel", settings.intro_channel, "KYOSO_INTRO_CHANNEL"),
        ("Announcement channel", settings.announce_channel, "KYOSO_ANNOUNCE_CHANNEL"),
        ("Ambassador channel", settings.ambassador_channel, "KYOSO_AMBASSADOR_CHANNEL"),
    ):
        checks.append(_channel_check(bot, name, channel, variable))
    checks.extend(_mail_checks(settings))
    admin_token = settings.slack_admin_user_token
    if admin_token is None:
        for name in ("Admin user token", "team.accessLogs", "SCIM"):
            checks.append(Check(name, Status.OFF, "SLACK_ADMIN_USER_TOKEN not set: to-do lists"))
        checks.extend(power_checks(Powers(bot_scopes=bot_scopes)))
        return checks
    admin = make_client(admin_token.get_secret_value())
    admin_check, admin_scopes = _admin_check(admin)
    access_logs = _access_logs_check(admin)
    scim = _scim_check(admin_token.get_secret_value(), settings.slack_scim_url)
    checks.extend((admin_check, access_logs, scim))
    checks.extend(
        power_checks(
            Powers(
                bot_scopes=bot_scopes,
                admin_scopes=admin_scopes,
                access_logs=access_logs.status is Status.OK,
                scim=scim.status is Status.OK,
            )
        )
    )
    return checks


def _scopes(header: str) -> frozenset[str]:
    """auth.test's `x-oauth-scopes` header: what the token was granted."""
    return frozenset(s.strip() for s in header.split(",") if s.strip())


def _bot_checks(
    bot: WebClient, manifest: Manifest, settings: Settings
) -> tuple[list[Check], frozenset[str]]:
    try:
        auth = bot.auth_test()
    except (SlackApiError, SlackClientError) as exc:
        return [Check("Bot token", Status.FAIL, f"auth.test failed: {_error(exc)}")], frozenset()
    checks = [Check("Bot token", Status.OK, f"team {auth.get('team')} as {auth.get('user')}")]
    granted = _scopes(auth.headers.get("x-oauth-scopes", ""))
    missing = sorted(manifest.bot_scopes - granted)
    checks.append(
        Check("Bot scopes", Status.FAIL, "missing: " + ", ".join(missing) + " (reinstall the app)")
        if missing
        else Check("Bot scopes", Status.OK, f"all {len(manifest.bot_scopes)} manifest scopes")
    )
    checks.append(
        _channel_check(bot, "Review channel", settings.review_channel, "KYOSO_REVIEW_CHANNEL")
    )
    return checks, granted


def _channel_check(bot: WebClient, name: str, channel: str | None, variable: str) -> Check:
    if channel is None:
        return Check(name, Status.WARN, f"{variable} not set")
    try:
        info = bot.conversations_info(channel=channel)
    except (SlackApiError, SlackClientError) as exc:
        hint = " (invite the bot: /invite @Kyoso)" if _error(exc) == "channel_not_found" else ""
        return Check(name, Status.FAIL, _error(exc) + hint)
    label = f"#{info['channel'].get('name', channel)}"
    if not info["channel"].get("is_member"):
        return Check(name, Status.FAIL, f"{label}: the bot is not in it (/invite @Kyoso there)")
    return Check(name, Status.OK, f"{label}, the bot is in it")


def _mail_checks(settings: Settings) -> list[Check]:
    if not settings.smtp_host:
        return [
            Check("SMTP", Status.WARN, "SMTP_HOST not set: applicants' emails wait in the outbox")
        ]
    try:
        with SmtpSender(settings, timeout=10).connect():
            pass
    except MailError as exc:
        return [Check("SMTP", Status.FAIL, f"{settings.smtp_host}:{settings.smtp_port}: {exc}")]
    checks = [
        Check("SMTP", Status.OK, f"{settings.smtp_host}:{settings.smtp_port} accepts a session")
    ]
    if not settings.mail_reply_to:
        checks.append(
            Check(
                "Mail replies", Status.WARN, "KYOSO_MAIL_REPLY_TO not set: replies go to the sender"
            )
        )
    return checks


def _socket_mode_check(app_client: WebClient, app_token: str) -> Check:
    try:
        app_client.apps_connections_open(app_token=app_token)
    except (SlackApiError, SlackClientError) as exc:
        return Check("Socket Mode", Status.FAIL, f"apps.connections.open: {_error(exc)}")
    return Check("Socket Mode", Status.OK, "app-level token accepted")


def _admin_check(admin: WebClient) -> tuple[Check, frozenset[str]]:
    try:
        auth = admin.auth_test()
    except (SlackApiError, SlackClientError) as exc:
        failed = Check("Admin user token", Status.FAIL, f"auth.test failed: {_error(exc)}")
        return failed, frozenset()
    scopes = auth.headers.get("x-oauth-scopes", "")
    check = Check("Admin user token", Status.OK, f"user {auth.get('user')}; scopes: {scopes}")
    return check, _scopes(scopes)


def _access_logs_check(admin: WebClient) -> Check:
    try:
        admin.team_accessLogs(limit=1)
    except SlackApiError as exc:
        error = _error(exc)
        if error == "paid_only":
            return Check(
                "team.accessLogs",
                Status.WARN,
                "paid_only: last logins unavailable; inactivity rests on activity Kyoso sees",
            )
        return Check(
            "team.accessLogs",
            Status.WARN,
            f"unavailable: {error}; inactivity rests on activity Kyoso sees",
        )
    except SlackClientError as exc:
        return Check("team.accessLogs", Status.WARN, f"unavailable: {_error(exc)}")
    return Check(
        "team.accessLogs", Status.OK, "last-login times can be imported (daily lifecycle job)"
    )


def _scim_check(admin_token: str, scim_url: str) -> Check:
    try:
        response = SCIMClient(token=admin_token, base_url=scim_url).search_users(
            start_index=1, count=1
        )
    except (SlackClientError, OSError) as exc:
        return Check("SCIM", Status.WARN, f"unreachable: {_error(exc)}")
    if response.status_code == 200:
        return Check("SCIM", Status.OK, "accounts can be deactivated automatically")
    return Check("SCIM", Status.WARN, f"HTTP {response.status_code}: deactivation as a to-do list")


# --- optional powers: what this installation can do, and how to turn each on --------------

_ADMIN_TOKEN_HINT = "set SLACK_ADMIN_USER_TOKEN (a workspace admin's user token)"


@dataclass(frozen=True)
class Powers:
    """What the probes found: granted scopes (auth.test) and the harmless calls' answers."""

    bot_scopes: frozenset[str]
    admin_scopes: frozenset[str] | None = None  # None: no admin user token
    access_logs: bool = False  # team.accessLogs limit=1 answered
    scim: bool = False  # SCIM GET Users count=1 answered

    def admin_has(self, *scopes: str) -> bool:
        return self.admin_scopes is not None and all(s in self.admin_scopes for s in scopes)


def power_checks(powers: Powers) -> list[Check]:
    """One row per optional power: OK with how Kyoso uses it, or OFF with how to enable it
    (without it Kyoso puts the work on the secretariat's to-do list)."""

    def power(name: str, able: bool, how: str, enable: str) -> Check:
        return (
            Check(name, Status.OK, how) if able else Check(name, Status.OFF, "to enable: " + enable)
        )

    admin_users_write = powers.admin_has("admin.users:write")
    if powers.scim:
        deactivate = "SCIM (DELETE Users)"
    elif admin_users_write:
        deactivate = "admin.users.remove"
    else:
        deactivate = ""
    return [
        power(
            "Delete messages",
            powers.admin_has("chat:write"),
            "chat.delete with the admin user token (no harmless probe: scope granted)",
            f"{_ADMIN_TOKEN_HINT} with chat:write; until then, a to-do in the case",
        ),
        power(
            "Invite",
            admin_users_write,
            "admin.users.invite (scope admin.users:write granted)",
            f"Enterprise Grid and {_ADMIN_TOKEN_HINT} with admin.users:write;"
            " until then, invitations by hand",
        ),
        power(
            "Deactivate",
            bool(deactivate),
            f"via {deactivate}",
            f"{_ADMIN_TOKEN_HINT} on a plan with SCIM (Business+ or Enterprise Grid),"
            " or admin.users:write on Enterprise Grid; until then, a to-do list",
        ),
        power(
            "Last logins",
            powers.access_logs,
            "team.accessLogs answered",
            f"a paid plan and {_ADMIN_TOKEN_HINT} with admin;"
            " until then, inactivity rests on activity Kyoso sees",
        ),
        power(
            "Change emails",
            powers.scim,
            "SCIM PATCH Users (SCIM answered)",
            f"{_ADMIN_TOKEN_HINT} on a plan with SCIM; until then, members change it themselves",
        ),
        power(
            "User groups",
            {"usergroups:read", "usergroups:write"} <= powers.bot_scopes,
            "usergroups:read and usergroups:write granted to the bot",
            "add usergroups:read and usergroups:write to the app's bot scopes and reinstall",
        ),
    ]


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def inbox_check(database_url: str) -> Check:
    """Slack events waiting or set aside after failing every attempt."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            summary = store.summary(session)
    except SQLAlchemyError as exc:
        detail = f"not readable ({type(exc).__name__}): is the database up and migrated?"
        return Check("Event inbox", Status.WARN, detail)
    finally:
        engine.dispose()
    detail = f"{summary.pending} waiting, {summary.dead} set aside"
    if summary.dead:
        return Check("Event inbox", Status.WARN, detail + " (`kyoso events failed`)")
    return Check("Event inbox", Status.OK, detail)


def render_table(checks: list[Check]) -> str:
    headers = ("項目 / Check", "状態 / Status", "詳細 / Detail")
    rows = [(c.name, c.status.value, c.detail) for c in checks]
    widths = [max(_width(r[i]) for r in [headers, *rows]) for i in range(2)]
    lines = [f"{_pad(headers[0], widths[0])}  {_pad(headers[1], widths[1])}  {headers[2]}"]
    lines.append(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 20}")
    lines.extend(f"{_pad(n, widths[0])}  {_pad(s, widths[1])}  {d}" for n, s, d in rows)
    return "\n".join(lines)


def has_failures(checks: list[Check]) -> bool:
    return any(c.status is Status.FAIL for c in checks)
