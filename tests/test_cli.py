"""The `kyoso` command as an operator runs it: a real process, real settings, real exit codes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.kyoso_server import SIGNING_SECRET, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

_SCRIPT = shutil.which("kyoso", path=str(Path(sys.executable).parent))
KYOSO = [_SCRIPT] if _SCRIPT else [sys.executable, "-m", "bot.cli"]


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "KYOSO_"))}
    keep.pop("DATABASE_URL", None)
    return {**keep, "PYTHONUNBUFFERED": "1", **values}


def _kyoso(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KYOSO, *args],
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_run_without_tokens_explains_and_exits_2(tmp_path: Path) -> None:
    result = _kyoso(tmp_path, "run")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "SLACK_BOT_TOKEN が設定されていません" in result.stderr
    assert "SLACK_BOT_TOKEN is not set" in result.stderr
    assert not (tmp_path / "kyoso.db").exists()  # nothing created on a bad start


def test_run_with_a_malformed_variable_names_it(tmp_path: Path) -> None:
    result = _kyoso(
        tmp_path,
        "run",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        KYOSO_REVIEW_CHANNEL="review",
    )
    assert result.returncode == 2
    assert "KYOSO_REVIEW_CHANNEL" in result.stderr and "Traceback" not in result.stderr


def test_run_with_a_rejected_token_exits_2(tmp_path: Path, emulator: SlackEmulator) -> None:
    result = _kyoso(
        tmp_path,
        "run",
        SLACK_BOT_TOKEN="xoxb-revoked",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=emulator.api_url,
    )
    assert result.returncode == 2
    assert "Slack rejected the bot token" in result.stderr and "Traceback" not in result.stderr


@contextmanager
def _running(tmp_path: Path, emulator: SlackEmulator, database_url: str) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [*KYOSO, "run"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=emulator.api_url,
            DATABASE_URL=database_url,
            PORT=str(port),
            HOST="127.0.0.1",
        ),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(base) or process.poll() is not None, timeout=30)
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=15) == 0
        finally:
            process.kill()


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_run_serves_slack_in_http_mode_on_a_fresh_sqlite_file(
    tmp_path: Path, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    with _running(tmp_path, emulator, "sqlite:///kyoso.db") as base:
        assert (tmp_path / "kyoso.db").exists()  # migrations applied on start
        sender = SlackSender(base + "/slack/events", SIGNING_SECRET, emulator)
        assert sender.command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW").status == 200
        answer = wait_for(lambda: emulator.all_responses())[0][1]
        assert "Kyoso の使い方" in answer["text"]
        assert sender.event({"type": "team_join", "user": {"id": "U0X"}}, tamper=True).status == 401


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL not configured")
def test_run_serves_on_postgresql(
    tmp_path: Path, emulator: SlackEmulator, database_url: str
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    with _running(tmp_path, emulator, database_url) as base:
        sender = SlackSender(base + "/slack/events", SIGNING_SECRET, emulator)
        sender.command("/kyoso", "help", user_id="U0JA", channel_id="C0REVIEW")
        assert "Kyoso の使い方" in wait_for(lambda: emulator.all_responses())[0][1]["text"]


def test_doctor_reports_capabilities_with_a_bot_token_alone(
    tmp_path: Path, emulator: SlackEmulator
) -> None:
    result = _kyoso(
        tmp_path,
        "doctor",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=emulator.api_url,
        KYOSO_REVIEW_CHANNEL="C0REVIEW",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[2:] if line.strip()}
    assert "OK" in rows["Bot"] and "#事務局レビュー" in result.stdout
    assert "SLACK_ADMIN_USER_TOKEN not set" in rows["SCIM"]
    assert [c.method for c in emulator.calls][:1] == ["auth.test"]


def test_doctor_fails_on_missing_scopes_and_probes_admin_powers(
    tmp_path: Path, emulator: SlackEmulator
) -> None:
    emulator.add_token(
        "xoxb-narrow", scopes=["chat:write", "commands"], kind="bot", user_id=emulator.bot_user_id
    )
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token("xoxp-admin", scopes=["admin", "chat:write"], user_id="U0ADMIN")
    result = _kyoso(
        tmp_path,
        "doctor",
        SLACK_BOT_TOKEN="xoxb-narrow",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=emulator.api_url,
        SLACK_ADMIN_USER_TOKEN="xoxp-admin",
        SLACK_SCIM_URL=emulator.base_url + "/scim/v2/",
    )
    assert result.returncode == 1
    # Every manifest scope the narrow token lacks, sorted (features add scopes to the manifest).
    from bot.manifest import load_manifest

    lacking = sorted(load_manifest().bot_scopes - {"chat:write", "commands"})
    assert "channels:history" in lacking and "files:write" in lacking
    assert "missing: " + ", ".join(lacking) in result.stdout
    assert "paid_only" in result.stdout  # free plan: no last-login data, said plainly
    assert "HTTP 403: deactivation as a to-do list" in result.stdout
    assert "FAIL" in result.stdout


def test_doctor_on_a_paid_plan_finds_access_logs_and_scim(
    tmp_path: Path, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0ADMIN", name="admin", is_admin=True)
    emulator.add_token("xoxp-admin", scopes=["admin"], user_id="U0ADMIN", paid=True)
    result = _kyoso(
        tmp_path,
        "doctor",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=emulator.api_url,
        SLACK_ADMIN_USER_TOKEN="xoxp-admin",
        SLACK_SCIM_URL=emulator.base_url + "/scim/v2/",
        KYOSO_REVIEW_CHANNEL="C0REVIEW",
    )
    assert result.returncode == 0, result.stdout
    assert "last-login times can be imported" in result.stdout
    assert "accounts can be deactivated automatically" in result.stdout
    assert emulator.scim_calls == [("GET", "Users")]


def test_jobs_list_and_a_deterministic_run(tmp_path: Path, database_url: str) -> None:
    listed = _kyoso(tmp_path, "jobs", "list")
    assert listed.returncode == 0 and "prune-processed-events" in listed.stdout
    ran = _kyoso(
        tmp_path,
        "jobs",
        "run",
        "prune-processed-events",
        "--now",
        "2026-12-01T03:30:00+09:00",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        DATABASE_URL=database_url,
    )
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result == {
        "job": "prune-processed-events",
        "now": "2026-11-30T18:30:00+00:00",
        "deleted": 0,
        "inbox_deleted": 0,
        "request_keys_deleted": 0,
    }
    unknown = _kyoso(
        tmp_path,
        "jobs",
        "run",
        "nope",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        DATABASE_URL=database_url,
    )
    assert unknown.returncode == 1 and "prune-processed-events" in unknown.stderr
    naive = _kyoso(tmp_path, "jobs", "run", "prune-processed-events", "--now", "2026-12-01T03:30")
    assert naive.returncode == 2 and "UTC offset" in naive.stderr


def test_db_upgrade_and_roles(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "sqlite:///ops.db"}
    before = _kyoso(tmp_path, "roles", "grant", "U0SEC", "secretariat", **env)
    assert before.returncode == 2 and "kyoso db upgrade" in before.stderr
    upgraded = _kyoso(tmp_path, "db", "upgrade", **env)
    assert upgraded.returncode == 0 and "1823 added" in upgraded.stdout
    assert _kyoso(tmp_path, "db", "check", **env).returncode == 0
    granted = _kyoso(tmp_path, "roles", "grant", "U0SEC", "secretariat", **env)
    assert granted.returncode == 0 and "granted" in granted.stdout
    again = _kyoso(tmp_path, "roles", "grant", "U0SEC", "secretariat", **env)
    assert "already" in again.stdout
    revoked = _kyoso(tmp_path, "roles", "revoke", "U0SEC", "secretariat", **env)
    assert "revoked" in revoked.stdout


def test_run_with_slack_unreachable_exits_2(tmp_path: Path) -> None:
    result = _kyoso(
        tmp_path,
        "run",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=f"http://127.0.0.1:{_free_port()}/api/",
    )
    assert result.returncode == 2
    assert "Could not reach Slack" in result.stderr and "Traceback" not in result.stderr


def test_doctor_checks_the_mail_server(tmp_path: Path, emulator: SlackEmulator) -> None:
    from tests.support.smtp_server import smtp_server

    base = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": emulator.api_url,
        "SMTP_STARTTLS": "false",
    }
    with smtp_server() as server:
        ok = _kyoso(tmp_path, "doctor", **base, SMTP_HOST=server.host, SMTP_PORT=str(server.port))
    assert ok.returncode == 0, ok.stdout
    assert "accepts a session" in ok.stdout and "KYOSO_MAIL_REPLY_TO not set" in ok.stdout
    down = _kyoso(tmp_path, "doctor", **base, SMTP_HOST="127.0.0.1", SMTP_PORT=str(_free_port()))
    assert down.returncode == 1
    assert any(line.startswith("SMTP") and "FAIL" in line for line in down.stdout.splitlines())


def test_applicants_to_invite_by_hand_export_as_excel_csv(tmp_path: Path) -> None:
    import csv as csv_module

    from bot.clock import SystemClock
    from bot.db import make_engine, make_session_factory
    from bot.eligibility import OrganisationDirectory
    from bot.services import applications
    from bot.services.applications import ApplicationForm
    from models import ApplicationSource

    env = {"DATABASE_URL": "sqlite:///ops.db"}
    assert _kyoso(tmp_path, "db", "upgrade", **env).returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'ops.db'}")
    clock = SystemClock()
    with make_session_factory(engine).begin() as session:
        for email, name in (
            ("a@city.sapporo.lg.jp", "山田 太郎"),
            ("b@city.sapporo.lg.jp", "佐藤 花子"),
        ):
            submitted = applications.submit(
                session,
                clock=clock,
                directory=OrganisationDirectory.from_master_data(),
                form=ApplicationForm(email, name, "011002", None, "総務課", "ja", "1"),
                source=ApplicationSource.WEB,
            )
            if email.startswith("a"):
                applications.approve(
                    session, clock=clock, public_id=submitted.application.public_id, actor="U0SEC"
                )
    engine.dispose()
    result = _kyoso(tmp_path, "applications", "invites", "--out", "invites.csv", **env)
    assert result.returncode == 0, result.stderr
    raw = (tmp_path / "invites.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # what Excel expects
    with (tmp_path / "invites.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv_module.DictReader(handle))
    assert [(r["email"], r["name"], r["organisation"]) for r in rows] == [
        ("a@city.sapporo.lg.jp", "山田 太郎", "北海道 札幌市（011002）")
    ]
