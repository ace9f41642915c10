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
import json
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from bot.cli.common import (
    Subparsers,
    add_command,
    add_csv_out_option,
    add_group,
    add_now_option,
    clock_of,
    fail,
    load_settings_and_logging,
    open_configured_database,
    open_database,
    write_excel_csv,
)
from bot.clock import Clock
from bot.db import SessionFactory
from bot.gateway import gateway_from_settings
from bot.services import members
from bot.services.audit import CLI_ACTOR
from bot.services.lifecycle import answers, decisions, overview
from bot.settings import Settings
from bot.slack.lifecycle import LifecycleSlack, runs
from bot.timefmt import jst
from models import CycleStatus


def add_parser(commands: Subparsers) -> None:
    actions = add_group(
        commands,
        "members",
        "非アクティブ確認の対象外を設定します / Keep members out of the inactivity sweep",
        description="メンバーを非アクティブ確認（連絡と削除候補）の対象外にし、またはそれを解除します。"
        "監査ログに残ります。"
        " / Exempt a member from the inactivity sweep (contacts and the deletion flag), or "
        "include them again. Recorded in the audit log.",
    )
    user = "Slack のユーザー ID（U…）/ Slack user ID (U…)"
    for name, summary, exempt in (
        ("exempt", "非アクティブ確認の対象外にします / Never contact for inactivity", True),
        ("unexempt", "対象外を解除します / Include in the inactivity sweep again", False),
    ):
        action = add_command(actions, name, summary)
        action.add_argument("user_id", metavar="USER", help=user)
        action.add_argument(
            "--reason",
            metavar="TEXT",
            help="理由（監査ログに残ります）/ reason, kept in the audit log",
        )
        action.set_defaults(handler=_exempt, exempt=exempt)

    actions = add_group(
        commands,
        "lifecycle",
        "長期未利用アカウントの確認 / The inactive-account lifecycle",
        description="長期間使われていないアカウントへの連絡、削除候補、事務局の承認を扱います。"
        "各手順は定期ジョブとしても動きます（`kyoso jobs list`）。"
        " / Contacts to long-inactive accounts, the deletion flag and the secretariat's "
        "approval. Each step also runs as a scheduled job (`kyoso jobs list`).",
    )
    add_command(
        actions,
        "status",
        "連絡中・削除候補・停止待ち・対象外の件数を表示します / Count members being contacted, "
        "flagged, approved and exempt",
    ).set_defaults(handler=_status)
    flagged = add_command(
        actions,
        "flagged",
        "停止作業の一覧を CSV に書き出します / Write the deactivation to-do list as CSV",
        description="削除候補と承認済み（停止待ち）のアカウントを、Slack の管理画面で作業するための "
        "CSV（UTF-8・BOM 付き、CRLF）に書き出します。承認済みが先に並びます。"
        " / Write the flagged and approved (to deactivate) accounts as a CSV (UTF-8 with BOM, "
        "CRLF) to work through in Slack's admin pages; approved accounts first.",
    )
    add_csv_out_option(flagged)
    flagged.add_argument(
        "--approved-only",
        action="store_true",
        help="承認済み（停止待ち）のみ / only approved accounts waiting for deactivation",
    )
    flagged.set_defaults(handler=_flagged)
    restore = add_command(
        actions,
        "restore",
        "削除候補から外します / Take a member off the flag list",
    )
    restore.add_argument("user_id", metavar="USER", help=user)
    restore.set_defaults(handler=_restore)
    for name, handler, summary, description in (
        (
            "sweep",
            _sweep,
            "非アクティブ確認を今すぐ実行します / Run the inactivity sweep now",
            "KYOSO_INACTIVE_DAYS のあいだ活動のないメンバーに連絡を始め、応答のあった連絡を終え、"
            "応答のないメンバーを削除候補にします（毎日 08:30 のジョブと同じ）。"
            " / Start contact rounds for members inactive for KYOSO_INACTIVE_DAYS, end the "
            "answered ones and flag the unanswered (the daily 08:30 job).",
        ),
        (
            "contact",
            _contact,
            "期限の来た連絡を送ります / Send the contacts that are due",
            "期限の来た DM とメールを、KYOSO_CONTACTS_PER_MINUTE の速さで、おやすみモードを避けて"
            "送ります。進み具合を表示します。"
            " / Send the DMs and emails that are due, paced at KYOSO_CONTACTS_PER_MINUTE and "
            "not during do-not-disturb, with a progress bar.",
        ),
        (
            "sync-users",
            _sync_users,
            "Slack のメンバー一覧と同期します / Sync with Slack's member list",
            "users.list から、取りこぼしたメンバー、プロフィールの変更、Slack 側で停止・再開された"
            "アカウントを取り込みます。進み具合を表示します。"
            " / Bring in from users.list the members Kyoso missed, profile changes and accounts "
            "deactivated or reactivated in Slack, with a progress bar.",
        ),
        (
            "import-logins",
            _import_logins,
            "最終ログインを取り込みます / Import last logins",
            "管理者トークンがあれば team.accessLogs から最終ログイン時刻を取り込みます（有料プランのみ。"
            "無料プランでは何もしません）。進み具合を表示します。"
            " / Import last-login times from team.accessLogs with the admin token (paid plans "
            "only; skipped otherwise), with a progress bar.",
        ),
    ):
        action = add_command(actions, name, summary, description=description)
        if name in ("sweep", "contact"):
            add_now_option(action)
        if name == "contact":
            action.add_argument(
                "--minutes",
                type=float,
                default=50.0,
                help="最長の実行時間（分、既定 50）/ stop after this many minutes (default 50)",
            )
        action.set_defaults(handler=handler)


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


# (exempt, changed) → what `kyoso members exempt|unexempt` says
_EXEMPT_SAID = {
    (True, True): "非アクティブ確認の対象外にしました / exempt from the inactivity sweep",
    (True, False): "すでに対象外です / already exempt",
    (False, True): "対象外を解除しました / included in the inactivity sweep again",
    (False, False): "対象外ではありません / was not exempt",
}


def _exempt(args: argparse.Namespace) -> int:
    session_factory = open_configured_database()
    with session_factory.begin() as session:
        try:
            changed = answers.set_exempt(
                session,
                clock=args.clock,
                slack_user_id=args.user_id,
                exempt=args.exempt,
                actor=CLI_ACTOR,
                reason=args.reason,
            )
        except members.UnknownMember:
            fail(f"{args.user_id} は登録されていません / unknown member", code=1)
    print(f"{args.user_id}: {_EXEMPT_SAID[args.exempt, changed]}")
    return 0


# --- lifecycle ------------------------------------------------------------------------------


def _status(_args: argparse.Namespace) -> int:
    session_factory = open_configured_database()
    with session_factory() as session:
        counts = overview.overview(session)
    print(f"連絡中 / being contacted:            {counts.contacting}")
    print(f"削除候補 / flagged:                  {counts.flagged}")
    print(f"承認済み・停止待ち / approved, to do: {counts.approved}")
    print(f"対象外 / exempt:                     {counts.exempt}")
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
    session_factory = open_configured_database()
    statuses = (
        (CycleStatus.APPROVED,)
        if args.approved_only
        else (CycleStatus.APPROVED, CycleStatus.FLAGGED)
    )
    with session_factory() as session:
        rows = [
            member
            for status in statuses
            for member in overview.flagged_members(session, statuses=(status,))
        ]
    write_excel_csv(
        args.out,
        FLAGGED_COLUMNS,
        (
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
            for m in rows
        ),
    )
    approved = sum(1 for m in rows if m.status is CycleStatus.APPROVED)
    print(
        f"{len(rows)} 件を書き出しました（停止待ち {approved} 件）/ "
        f"{len(rows)} accounts written to {args.out} ({approved} to deactivate)"
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    session_factory = open_configured_database()
    with session_factory.begin() as session:
        cycle = decisions.open_cycle_of(session, args.user_id)
        if cycle is None or cycle.status not in (CycleStatus.FLAGGED, CycleStatus.APPROVED):
            fail(f"{args.user_id} は削除候補ではありません / not flagged", code=1)
        decisions.restore(session, clock=args.clock, cycle_id=cycle.id, actor=CLI_ACTOR)
    print(f"{args.user_id}: 削除候補から外しました / taken off the flag list")
    return 0


def _print(result: dict[str, Any]) -> None:
    print(json.dumps(result, ensure_ascii=False, default=str))


def _lifecycle_slack(settings: Settings, clock: Clock) -> tuple[SessionFactory, LifecycleSlack]:
    """The database and the lifecycle's Slack adapters, as the running bot has them."""
    session_factory = open_database(settings.database_url)
    gateway = gateway_from_settings(settings, session_factory=session_factory, clock=clock)
    return session_factory, gateway.lifecycle


def _sweep(args: argparse.Namespace) -> int:
    settings = load_settings_and_logging()
    clock = clock_of(args)
    session_factory, slack = _lifecycle_slack(settings, clock)
    result = runs.sweep(
        session_factory=session_factory,
        clock=clock,
        policy=slack.policy,
        language=settings.default_locale,
        messages=slack.messages,
    )
    _print(result)
    return 0


def _contact(args: argparse.Namespace) -> int:
    return _with_bar(
        args,
        "連絡 / contacts",
        lambda slack, bar: runs.send_contacts(slack, time_budget=args.minutes * 60, progress=bar),
    )


def _sync_users(args: argparse.Namespace) -> int:
    return _with_bar(
        args, "メンバー / members", lambda slack, bar: runs.sync_users(slack, progress=bar)
    )


def _import_logins(args: argparse.Namespace) -> int:
    return _with_bar(
        args, "ログイン履歴 / logins", lambda slack, bar: runs.import_logins(slack, progress=bar)
    )


def _with_bar(
    args: argparse.Namespace,
    label: str,
    run: Callable[[LifecycleSlack, ProgressBar], dict[str, Any]],
) -> int:
    """A long run with Slack, drawing a progress bar; prints what it did as one JSON line."""
    _, slack = _lifecycle_slack(load_settings_and_logging(), clock_of(args))
    bar = ProgressBar(label)
    try:
        result = run(slack, bar)
    finally:
        bar.close()
    _print(result)
    return 0
