"""`kyoso doctor` shows every optional power (issue 16, item 6): whether this installation can
use it — from the granted scopes and a harmless real call where Slack allows one — and how
to enable it; and whether each configured channel exists with the bot in it."""

from __future__ import annotations

from pathlib import Path

from bot.manifest import load_manifest
from tests.support.slack_emulator import SlackEmulator
from tests.test_cli import _kyoso

POWERS = ("Delete", "Invite", "Deactivate", "Last", "Change", "User")


def _rows(stdout: str) -> dict[str, str]:
    """The table's rows by their first word (the check's name starts the line)."""
    return {line.split()[0]: line for line in stdout.splitlines()[2:] if line.strip()}


def test_without_an_admin_token_each_power_says_how_to_enable_it_and_channels_are_checked(
    tmp_path: Path, emulator: SlackEmulator
) -> None:
    emulator.add_channel("お知らせ", channel_id="C0ANNOUNCE", members=[emulator.bot_user_id])
    emulator.add_channel("アンバサダー", channel_id="C0AMBASSADOR", members=[])
    result = _kyoso(
        tmp_path,
        "doctor",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=emulator.api_url,
        KYOSO_REVIEW_CHANNEL="C0REVIEW",
        KYOSO_ANNOUNCE_CHANNEL="C0ANNOUNCE",
        KYOSO_AMBASSADOR_CHANNEL="C0AMBASSADOR",
        KYOSO_INTRO_CHANNEL="C0GONE",
    )
    out = result.stdout
    assert result.returncode == 1, out + result.stderr  # a channel without the bot fails
    rows = _rows(out)
    assert "OK" in rows["Review"] and "the bot is in it" in rows["Review"]
    assert "OK" in rows["Announcement"] and "#お知らせ" in rows["Announcement"]
    assert "FAIL" in rows["Ambassador"] and "the bot is not in it" in rows["Ambassador"]
    assert "FAIL" in rows["Intro"] and "channel_not_found" in rows["Intro"]
    for power in POWERS:
        assert "OFF" in rows[power] and "to enable:" in rows[power], rows[power]
    assert "SLACK_ADMIN_USER_TOKEN" in rows["Deactivate"]
    assert "usergroups:read and usergroups:write" in rows["User"]
    # Nothing probed with an admin token that is not there.
    assert emulator.scim_calls == [] and emulator.calls_to("team.accessLogs") == []
    # Each channel asked once, with conversations.info.
    asked = sorted(c.params["channel"] for c in emulator.calls_to("conversations.info"))
    assert asked == ["C0AMBASSADOR", "C0ANNOUNCE", "C0GONE", "C0REVIEW"]


def test_with_an_admin_token_every_power_is_probed_and_usable(
    tmp_path: Path, emulator: SlackEmulator
) -> None:
    bot_scopes = sorted(load_manifest().bot_scopes | {"usergroups:read", "usergroups:write"})
    emulator.add_token("xoxb-wide", scopes=bot_scopes, kind="bot", user_id=emulator.bot_user_id)
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token(
        "xoxp-admin",
        scopes=["admin", "chat:write", "admin.users:write"],
        user_id="U0ADMIN",
        paid=True,
        enterprise=True,
    )
    result = _kyoso(
        tmp_path,
        "doctor",
        SLACK_BOT_TOKEN="xoxb-wide",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=emulator.api_url,
        SLACK_ADMIN_USER_TOKEN="xoxp-admin",
        SLACK_SCIM_URL=emulator.base_url + "/scim/v2/",
        KYOSO_REVIEW_CHANNEL="C0REVIEW",
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    rows = _rows(out)
    for power in POWERS:
        assert " OK " in rows[power], rows[power]
    assert "via SCIM" in rows["Deactivate"]
    assert "admin.users.invite" in rows["Invite"]
    # The harmless probes, each once: SCIM GET Users and team.accessLogs limit=1.
    assert emulator.scim_calls == [("GET", "Users")]
    [logs] = emulator.calls_to("team.accessLogs")
    assert str(logs.params.get("limit")) == "1"


def test_a_free_plan_admin_token_deactivates_by_the_admin_api_only_when_granted(
    tmp_path: Path, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token("xoxp-admin", scopes=["admin"], user_id="U0ADMIN")
    result = _kyoso(
        tmp_path,
        "doctor",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=emulator.api_url,
        SLACK_ADMIN_USER_TOKEN="xoxp-admin",
        SLACK_SCIM_URL=emulator.base_url + "/scim/v2/",
    )
    rows = _rows(result.stdout)
    for power in ("Delete", "Invite", "Deactivate", "Last", "Change"):
        assert "OFF" in rows[power] and "to enable:" in rows[power], rows[power]
    assert "chat:write" in rows["Delete"] and "admin.users:write" in rows["Invite"]
