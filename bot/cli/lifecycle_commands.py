"""Account lifecycle from the command line.

    kyoso members exempt USER [--reason TEXT]   never contact USER for inactivity
    kyoso members unexempt USER
    kyoso lifecycle status                      rounds under way, flagged, approved, exempt
    kyoso lifecycle flagged --out FILE.csv      to-do list (Excel CSV): accounts to deactivate
    kyoso lifecycle restore USER                take USER off the flag list
    kyoso lifecycle sweep [--now T]             the daily sweep, now
    kyoso lifecycle contact [--now T] [--minutes N]   send due contacts, with a progress bar
    kyoso lifecycle sync-users                  users.list sync, with a progress bar
    kyoso lifecycle import-logins               team.accessLogs import, with a progress bar

Long runs draw a progress bar with counts on stderr and print one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from bot.cli.common import (
    configure_logging,
    fail,
    load_core_settings,
    load_settings,
    open_database,
)
from bot.clock import Clock, FixedClock
from bot.services import lifecycle, members
from bot.services.audit import CLI_ACTOR
from bot.slack_client import make_web_client
from bot.timefmt import jst
from models import CycleStatus
from scheduler import lifecycle_jobs


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser("members", help="メンバー / members")
    actions = group.add_subparsers(dest="members_command", required=True, metavar="ACTION")
    exempt = actions.add_parser(
        "exempt",
        help="非アクティブ確認の対象外にする / never contact for inactivity",
    )
    exempt.add_argument("user_id", help="Slack user ID (U…)")
    exempt.add_argument(
        "--reason", help="理由（監査ログに残ります）/ reason, kept in the audit log"
    )
    exempt.set_defaults(handler=_exempt, exempt=True)
    unexempt = actions.add_parser(
        "unexempt", help="対象外を解除する / include in the inactivity sweep again"
    )
    unexempt.add_argument("user_id", help="Slack user ID (U…)")
    unexempt.add_argument("--reason")
    unexempt.set_defaults(handler=_exempt, exempt=False)

    group = commands.add_parser("lifecycle", help="アカウント管理 / account lifecycle")
    actions = group.add_subparsers(dest="lifecycle_command", required=True, metavar="ACTION")
    actions.add_parser("status", help="件数 / counts").set_defaults(handler=_status)
    flagged = actions.add_parser(
        "flagged",
        help="停止作業の一覧を CSV に書き出す / write the deactivation to-do list as CSV",
    )
    flagged.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    flagged.add_argument(
        "--approved-only",
        action="store_true",
        help="承認済み（停止待ち）のみ / only approved accounts waiting for deactivation",
    )
    flagged.set_defaults(handler=_flagged)
    restore = actions.add_parser("restore", help="削除候補から外す / take off the flag list")
    restore.add_argument("user_id", help="Slack user ID (U…)")
    restore.set_defaults(handler=_restore)
    for name, handler, text in (
        ("sweep", _sweep, "非アクティブ確認を今実行 / run the inactivity sweep now"),
        ("contact", _contact, "期限の来た連絡を送る / send due contacts"),
        ("sync-users", _sync_users, "users.list と同期 / sync with users.list"),
        ("import-logins", _import_logins, "最終ログインの取り込み / import last logins"),
    ):
        action = actions.add_parser(name, help=text)
        if name in ("sweep", "contact"):
            action.add_argument(
                "--now",
                type=_aware_datetime,
                default=None,
                help="この時刻として実行 / run as if it were this instant (ISO 8601 with offset)",
            )
        if name == "contact":
            action.add_argument(
                "--minutes",
                type=float,
                default=50.0,
                help="最長の実行時間（分）/ stop after this many minutes (default 50)",
            )
        action.set_defaults(handler=handler)


def _aware_datetime(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not ISO 8601: {value}") from exc
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a UTC offset, e.g. +09:00")
    return parsed


class ProgressBar:
    """`label [#####-----] 120/1000` redrawn in place on a terminal; elsewhere (logs, CI) a
    plain line every few seconds. Call it with (done, total); total may be unknown."""

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        width: int = 30,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self._monotonic = monotonic
        self._tty = self.stream.isatty()
        self._last = -1e9
        self._shown = ""

    def render(self, done: int, total: int | None) -> str:
        if not total:
            return f"{self.label} {done}"
        done = min(done, total)
        filled = self.width * done // total
        return f"{self.label} [{'#' * filled}{'-' * (self.width - filled)}] {done}/{total}"

    def __call__(self, done: int, total: int | None) -> None:
        now = self._monotonic()
        finished = total is not None and done >= total
        if now - self._last < (0.1 if self._tty else 5.0) and not finished:
            return
        self._last = now
        line = self.render(done, total)
        if line == self._shown:
            return
        self._shown = line
        if self._tty:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._tty and self._shown:
            self.stream.write("\n")
            self.stream.flush()


# --- members ------------------------------------------------------------------------------


def _exempt(args: argparse.Namespace) -> int:
    session_factory = open_database(load_core_settings().database_url)
    with session_factory.begin() as session:
        try:
            changed = lifecycle.set_exempt(
                session,
                clock=args.clock,
                slack_user_id=args.user_id,
                exempt=args.exempt,
                actor=CLI_ACTOR,
                reason=args.reason,
            )
        except members.UnknownMember:
            fail(f"{args.user_id} は登録されていません / unknown member", code=1)
    if args.exempt:
        print(
            f"{args.user_id}: 非アクティブ確認の対象外にしました / exempt from the inactivity sweep"
            if changed
            else f"{args.user_id}: すでに対象外です / already exempt"
        )
    else:
        print(
            f"{args.user_id}: 対象外を解除しました / included in the inactivity sweep again"
            if changed
            else f"{args.user_id}: 対象外ではありません / was not exempt"
        )
    return 0


# --- lifecycle ------------------------------------------------------------------------------


def _status(_args: argparse.Namespace) -> int:
    session_factory = open_database(load_core_settings().database_url)
    with session_factory() as session:
        overview = lifecycle.overview(session)
    print(f"連絡中 / being contacted:            {overview.contacting}")
    print(f"削除候補 / flagged:                  {overview.flagged}")
    print(f"承認済み・停止待ち / approved, to do: {overview.approved}")
    print(f"対象外 / exempt:                     {overview.exempt}")
    return 0


FLAGGED_COLUMNS = (
    "slack_user_id",
    "name",
    "email",
    "organisation",
    "department",
    "state",
    "to_do",
    "last_active",
    "flagged_at",
    "approved_by",
    "approved_at",
)
_TO_DO = {
    CycleStatus.APPROVED: "Slack 管理画面でアカウントを停止 / deactivate in Slack's admin pages",
    CycleStatus.FLAGGED: "事務局の承認待ち / awaiting the secretariat's approval",
}


def _flagged(args: argparse.Namespace) -> int:
    """The to-do list, as a CSV Excel opens (UTF-8 with BOM, CRLF); approved accounts first."""
    session_factory = open_database(load_core_settings().database_url)
    statuses = (
        (CycleStatus.APPROVED,)
        if args.approved_only
        else (CycleStatus.APPROVED, CycleStatus.FLAGGED)
    )
    with session_factory() as session:
        rows = [
            member
            for status in statuses
            for member in lifecycle.flagged_members(session, statuses=(status,))
        ]
    with args.out.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(FLAGGED_COLUMNS)
        for m in rows:
            writer.writerow(
                (
                    m.slack_user_id,
                    m.name or "",
                    m.email or "",
                    m.organisation or "",
                    m.department or "",
                    m.status.value,
                    _TO_DO[m.status],
                    jst(m.last_active) if m.last_active else "",
                    jst(m.flagged_at) if m.flagged_at else "",
                    m.decided_by or "" if m.status is CycleStatus.APPROVED else "",
                    jst(m.decided_at) if m.decided_at and m.status is CycleStatus.APPROVED else "",
                )
            )
    approved = sum(1 for m in rows if m.status is CycleStatus.APPROVED)
    print(
        f"{len(rows)} 件を書き出しました（停止待ち {approved} 件）/ "
        f"{len(rows)} accounts written to {args.out} ({approved} to deactivate)"
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    session_factory = open_database(load_core_settings().database_url)
    with session_factory.begin() as session:
        cycle = lifecycle.open_cycle_of(session, args.user_id)
        if cycle is None or cycle.status not in (CycleStatus.FLAGGED, CycleStatus.APPROVED):
            fail(f"{args.user_id} は削除候補ではありません / not flagged", code=1)
        lifecycle.restore(session, clock=args.clock, cycle_id=cycle.id, actor=CLI_ACTOR)
    print(f"{args.user_id}: 削除候補から外しました / taken off the flag list")
    return 0


def _clock(args: argparse.Namespace) -> Clock:
    now = getattr(args, "now", None)
    return FixedClock(now) if now else args.clock


def _print(result: dict[str, Any]) -> None:
    print(json.dumps(result, ensure_ascii=False, default=str))


def _sweep(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    result = lifecycle_jobs.sweep(
        session_factory=open_database(settings.database_url),
        clock=_clock(args),
        client=make_web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url),
        settings=settings,
    )
    _print(result)
    return 0


def _contact(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    bar = ProgressBar("連絡 / contacts")
    try:
        result = lifecycle_jobs.send_contacts(
            session_factory=open_database(settings.database_url),
            clock=_clock(args),
            client=make_web_client(
                settings.slack_bot_token.get_secret_value(), settings.slack_api_url
            ),
            settings=settings,
            time_budget=args.minutes * 60,
            progress=bar,
        )
    finally:
        bar.close()
    _print(result)
    return 0


def _sync_users(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    bar = ProgressBar("メンバー / members")
    try:
        result = lifecycle_jobs.sync_users(
            session_factory=open_database(settings.database_url),
            clock=args.clock,
            client=make_web_client(
                settings.slack_bot_token.get_secret_value(), settings.slack_api_url
            ),
            settings=settings,
            progress=bar,
        )
    finally:
        bar.close()
    _print(result)
    return 0


def _import_logins(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    bar = ProgressBar("ログイン履歴 / logins")
    try:
        result = lifecycle_jobs.import_logins(
            session_factory=open_database(settings.database_url),
            clock=args.clock,
            settings=settings,
            client=make_web_client(
                settings.slack_bot_token.get_secret_value(), settings.slack_api_url
            ),
            progress=bar,
        )
    finally:
        bar.close()
    _print(result)
    return 0
