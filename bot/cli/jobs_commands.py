"""`kyoso jobs list` and `kyoso jobs run NAME [--now ISO-8601]`."""

from __future__ import annotations

import argparse
import json

from apscheduler.triggers.cron import CronTrigger

from bot.cli.common import (
    add_command,
    aware_datetime,
    configure_logging,
    fail,
    load_core_settings,
    load_settings,
    open_database,
    wiring_of,
)
from bot.clock import Clock, FixedClock


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        commands,
        "jobs",
        "定期ジョブの一覧と実行 / List and run the scheduled jobs",
        description="定期ジョブの一覧を表示し、一つを今すぐ（または指定の時刻として）実行します。"
        "`kyoso run` 中は、インスタンスのうち一つだけが予定どおりに実行します。"
        " / List the scheduled jobs, or run one now (or as if it were a given instant). "
        "While `kyoso run` is up, exactly one instance runs them on schedule.",
    )
    actions = parser.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    add_command(
        actions,
        "list",
        "ジョブの予定と次回の実行時刻を表示します / List the jobs with their schedule and next run",
        description="ジョブごとに ID、予定（KYOSO_TIMEZONE）、次回の実行時刻、説明を表示します。"
        "データベースも Slack の設定も要りません。"
        " / Show each job's id, schedule (in KYOSO_TIMEZONE), next run and description. "
        "Needs neither the database nor the Slack settings.",
    ).set_defaults(handler=_list)
    run = add_command(
        actions,
        "run",
        "ジョブを一度実行します / Run a job once",
        description="ジョブを一度実行し、結果を JSON 1 行で表示します。Slack の設定"
        "（SLACK_BOT_TOKEN など）と、最新のデータベースが必要です。"
        " / Run one job once and print what it did as one JSON line. Needs the Slack settings "
        "(SLACK_BOT_TOKEN, …) and an up-to-date database.",
    )
    run.add_argument(
        "name",
        metavar="NAME",
        help="ジョブの ID（`kyoso jobs list` を参照）/ the job's id (see `kyoso jobs list`)",
    )
    run.add_argument(
        "--now",
        type=aware_datetime,
        default=None,
        metavar="ISO-8601",
        help="この時刻として実行します（UTC との時差付き、例: 2026-04-01T09:00+09:00）"
        " / run as if it were this instant (ISO 8601 with offset, e.g. 2026-04-01T09:00+09:00)",
    )
    run.set_defaults(handler=_run)


def _list(args: argparse.Namespace) -> int:
    settings = load_core_settings()
    now = args.clock.now().astimezone(settings.zone)
    header = ("ID", f"SCHEDULE ({settings.timezone})", "NEXT RUN", "DESCRIPTION")
    rows = [
        (
            job.id,
            " ".join(f"{k}={v}" for k, v in job.cron.items()),
            CronTrigger(timezone=settings.zone, **job.cron)
            .get_next_fire_time(None, now)
            .isoformat(),
            job.description,
        )
        for job in wiring_of(args).jobs
    ]
    # Widths from the data: a long schedule or id widens its column instead of shifting the rest.
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        padded = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        print("  ".join([*padded, row[3]]))
    return 0


def _run(args: argparse.Namespace) -> int:
    wiring = wiring_of(args)
    # Which job first: a mistyped name is said as such, whatever the environment holds.
    if args.name not in {job.id for job in wiring.jobs}:
        names = ", ".join(job.id for job in wiring.jobs)
        fail(
            f"ジョブ {args.name} はありません。ジョブ: {names}\n"
            f"There is no job {args.name}. Jobs: {names}",
            code=1,
        )
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    clock: Clock = FixedClock(args.now) if args.now else args.clock
    result = wiring.run_job(
        args.name,
        settings=settings,
        session_factory=open_database(settings.database_url),
        clock=clock,
    )
    print(json.dumps({"job": args.name, "now": clock.now().isoformat(), **result}))
    return 0
