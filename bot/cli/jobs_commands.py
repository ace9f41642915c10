"""`kyoso jobs list` and `kyoso jobs run NAME [--now ISO-8601]`."""

from __future__ import annotations

import argparse
import json

from apscheduler.triggers.cron import CronTrigger

from bot.cli.common import (
    Subparsers,
    add_command,
    add_group,
    add_now_option,
    clock_of,
    fail,
    load_core_settings,
    load_settings_and_logging,
    open_database,
    wiring_of,
)


def add_parser(commands: Subparsers) -> None:
    actions = add_group(
        commands,
        "jobs",
        "定期ジョブの一覧と実行 / List and run the scheduled jobs",
        description="定期ジョブの一覧を表示し、一つを今すぐ（または指定の時刻として）実行します。"
        "`kyoso run` 中は、インスタンスのうち一つだけが予定どおりに実行します。"
        " / List the scheduled jobs, or run one now (or as if it were a given instant). "
        "While `kyoso run` is up, exactly one instance runs them on schedule.",
    )
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
    add_now_option(run)
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
    settings = load_settings_and_logging()
    clock = clock_of(args)
    result = wiring.run_job(
        args.name,
        settings=settings,
        session_factory=open_database(settings.database_url),
        clock=clock,
    )
    print(json.dumps({"job": args.name, "now": clock.now().isoformat(), **result}))
    return 0
