"""The `kyoso` command as an operator runs it: a real process, real settings, real exit codes."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from handlers.web import MAX_REQUEST_BYTES
from tests.support.kyoso_server import SIGNING_SECRET, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

_SCRIPT = shutil.which("kyoso", path=str(Path(sys.executable).parent))
KYOSO = [_SCRIPT] if _SCRIPT else [sys.executable, "-m", "app"]


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


def test_run_with_an_incomplete_embedding_model_refuses_and_says_why(
    tmp_path: Path, emulator: SlackEmulator
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "tokenizer.json").write_text("{}", encoding="utf-8")  # no model.safetensors
    result = _kyoso(
        tmp_path,
        "run",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=emulator.api_url,
        KYOSO_EMBEDDING_MODEL_DIR=str(model),
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "埋め込みモデルのフォルダが不完全です" in result.stderr
    assert "model.safetensors" in result.stderr


@contextmanager
def _running(
    tmp_path: Path, emulator: SlackEmulator, database_url: str, **extra_env: str
) -> Iterator[str]:
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
            **extra_env,
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


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_run_serves_pages_beside_slack_and_finishes_the_work_on_stop(
    tmp_path: Path, emulator: SlackEmulator, server: str
) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    emulator.add_channel("デジ_all_雑談", channel_id="C0ALL", members=["U0JA"])
    database = tmp_path / "kyoso.db"
    ts = "1796000000.000100"
    with _running(tmp_path, emulator, "sqlite:///kyoso.db", KYOSO_HTTP_SERVER=server) as base:
        engine = create_engine(f"sqlite:///{database}")
        with engine.begin() as connection:  # a member, as the users sync would have added
            connection.execute(
                text(
                    "INSERT INTO members (slack_user_id, status, is_bot, created_at, updated_at)"
                    " VALUES ('U0JA', 'active', 0, '2026-12-01', '2026-12-01')"
                )
            )
        with urllib.request.urlopen(base + "/apply") as page:  # Flask, loaded on demand
            assert page.status == 200 and "参加申請" in page.read().decode()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(base + "/wp-login.php")
        assert missing.value.code == 404
        # A body declared over the limit is refused from the headers, on either server.
        huge = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=10)
        huge.putrequest("POST", "/apply")
        huge.putheader("Content-Type", "application/x-www-form-urlencoded")
        huge.putheader("Content-Length", str(MAX_REQUEST_BYTES + 1))
        huge.endheaders()
        assert huge.getresponse().status == 413
        huge.close()
        sender = SlackSender(base + "/slack/events", SIGNING_SECRET, emulator)
        message = {"type": "message", "user": "U0JA", "text": "おはようございます", "ts": ts}
        assert (
            sender.event({**message, "channel": "C0ALL", "channel_type": "channel"}).status == 200
        )
    # Stopped with SIGTERM (exit 0, checked by _running): the activity kept in memory was written.
    with engine.connect() as connection:
        seen = connection.execute(
            text("SELECT last_seen_at FROM members WHERE slack_user_id = 'U0JA'")
        ).scalar_one()
    engine.dispose()
    assert seen is not None and str(seen).startswith("2026-11-30")  # ts 1796000000 in UTC


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_run_on_a_port_in_use_explains_and_exits_2(
    tmp_path: Path, emulator: SlackEmulator, server: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _kyoso(
            tmp_path,
            "run",
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=emulator.api_url,
            DATABASE_URL="sqlite:///kyoso.db",
            HOST="127.0.0.1",
            PORT=str(port),
            KYOSO_HTTP_SERVER=server,
        )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"127.0.0.1:{port} で待ち受けできません" in result.stderr
    assert "check HOST and PORT" in result.stderr


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
    from bot.eligibility.directory import OrganisationDirectory
    from bot.services.applications import decisions, submission
    from bot.services.applications.submission import ApplicationForm
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
            submitted = submission.submit(
                session,
                clock=clock,
                directory=OrganisationDirectory.from_master_data(),
                form=ApplicationForm(email, name, "011002", None, "総務課", "ja", "1"),
                source=ApplicationSource.WEB,
            )
            if email.startswith("a"):
                decisions.approve(
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


# --------------------------------------------------------------------------------------
# What `kyoso --help` and the README tell a new user


_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _japanese_then_english(text: str | None) -> bool:
    head, slash, tail = (text or "").partition("/ ")
    return bool(slash and _JAPANESE.search(head) and re.search("[A-Za-z]", tail))


def _parsers(
    parser: argparse.ArgumentParser, path: str = "kyoso"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def test_every_command_action_and_option_says_what_it_does_in_both_languages() -> None:
    from bot.cli import build_parser

    seen = []
    for path, parser in _parsers(build_parser()):
        seen.append(path)
        assert _japanese_then_english(parser.description), path
        assert "使い方 / usage:" in parser.format_help(), path  # also renders every help text
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                listed = {choice.dest: choice.help for choice in action._choices_actions}
                assert listed.keys() == action.choices.keys(), path  # each one listed
                for name, summary in listed.items():
                    assert _japanese_then_english(summary), f"{path} {name}"
            else:
                assert _japanese_then_english(action.help), f"{path} {action.option_strings}"
    assert {"kyoso roles grant", "kyoso jobs list", "kyoso lifecycle sweep"} <= set(seen)
    assert {"kyoso run", "kyoso doctor", "kyoso db upgrade", "kyoso events retry"} <= set(seen)


def test_the_installed_help_lists_the_commands_and_the_actions_of_roles(tmp_path: Path) -> None:
    top = _kyoso(tmp_path, "--help")
    assert top.returncode == 0 and top.stderr == ""
    assert "ボットを起動します / Run the bot" in top.stdout
    roles = _kyoso(tmp_path, "roles", "--help")
    assert roles.returncode == 0
    assert "grant" in roles.stdout and "役割を付与します / Grant a role" in roles.stdout
    assert "revoke" in roles.stdout and "役割を解除します / Revoke a role" in roles.stdout


def test_an_unknown_job_is_named_before_any_setting_is_asked_for(tmp_path: Path) -> None:
    result = _kyoso(tmp_path, "jobs", "run", "nosuchjob")  # no SLACK_* in the environment
    assert result.returncode == 1
    assert "ジョブ nosuchjob はありません" in result.stderr
    assert "There is no job nosuchjob" in result.stderr
    assert "prune-processed-events" in result.stderr  # the jobs there are
    assert "SLACK_" not in result.stderr and "Traceback" not in result.stderr


def _named_problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("- ")]


def test_run_names_every_missing_or_malformed_setting_in_one_run(tmp_path: Path) -> None:
    result = _kyoso(tmp_path, "run", PORT="99999")
    assert result.returncode == 2
    assert len(_named_problems(result.stderr)) == 3, result.stderr
    assert "SLACK_BOT_TOKEN が設定されていません" in result.stderr
    assert "PORT の値が正しくありません" in result.stderr
    assert "SLACK_APP_TOKEN と SLACK_SIGNING_SECRET のどちらも設定されていません" in result.stderr

    fixed = _kyoso(tmp_path, "run", SLACK_BOT_TOKEN="xoxb-1")
    assert fixed.returncode == 2
    assert len(_named_problems(fixed.stderr)) == 1, fixed.stderr
    assert "SLACK_SIGNING_SECRET" in fixed.stderr and "PORT" not in fixed.stderr
    assert not (tmp_path / "kyoso.db").exists()


def test_jobs_list_columns_stay_aligned_with_a_long_schedule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app import WIRING
    from bot.cli import main
    from bot.clock import FixedClock
    from scheduler.jobs import JobSpec

    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("KYOSO_TIMEZONE", raising=False)
    long = JobSpec(
        id="a-job-with-a-rather-long-identifier-for-the-table",
        description="長い予定のジョブ / A job with a long schedule",
        cron={"month": "1-3,10-12", "day_of_week": "mon-fri", "hour": "9-17", "minute": "*/5"},
        run=lambda _ctx: {},
    )
    wiring = replace(WIRING, jobs=(*WIRING.jobs, long))
    clock = FixedClock(datetime.fromisoformat("2026-12-01T00:00:00+09:00"))
    assert main(["jobs", "list"], clock=clock, wiring=wiring) == 0

    header, *lines = capsys.readouterr().out.splitlines()
    schedule_at, next_at, description_at = (
        header.index(title) for title in ("SCHEDULE", "NEXT RUN", "DESCRIPTION")
    )
    rows = {line.split()[0]: line for line in lines}
    assert rows.keys() == {job.id for job in wiring.jobs}
    for job in wiring.jobs:
        row = rows[job.id]
        assert row[description_at:] == job.description, row
        assert row[description_at - 2 : description_at] == "  ", row
        assert row[schedule_at:].startswith(" ".join(f"{k}={v}" for k, v in job.cron.items()))
        assert row[next_at - 2 : next_at] == "  " and row[next_at] == "2", row
    assert rows["prune-processed-events"][next_at:].startswith("2026-12-01T03:30:00+09:00")
    assert rows[long.id][next_at:].startswith("2026-12-01T09:00:00+09:00")


def test_the_readme_table_lists_every_setting() -> None:
    from bot.settings import Settings

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| variable | needed | meaning |") :]
    table = table[: table.index("\n\n")]
    variables = [
        str(field.validation_alias.choices[0])  # type: ignore[union-attr]
        for field in Settings.model_fields.values()
    ]
    assert "KYOSO_ANNOUNCE_CHANNEL" in variables and "SLACK_SCIM_URL" in variables
    assert [name for name in variables if f"`{name}`" not in table] == []
