"""`kyoso jobs list` and `kyoso jobs run NAME [--now ISO-8601]`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from bot.cli.common import (
    configure_logging,
    fail,
    load_core_settings,
    load_settings,
    open_database,
)
from bot.clock import Clock, FixedClock
from bot.gateway import build_gateway
from bot.services.mail import SmtpSender
from bot.slack_client import make_web_client
from scheduler.jobs import JOBS, JobContext, UnknownJob, find_job


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("jobs", help="定期ジョブ / scheduled jobs")
    actions = parser.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="ジョブ一覧 / list jobs").set_defaults(handler=_list)
    run = actions.add_parser("run", help="ジョブを一度実行 / run a job once")
    run.add_argument("name", help="job id (see `kyoso jobs list`)")
    run.add_argument(
        "--now",
        type=_aware_datetime,
        default=None,
        help="run as if it were this instant (ISO 8601 with offset, e.g. 2026-04-01T09:00+09:00)",
    )
    run.set_defaults(handler=_run)


def _aware_datetime(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not ISO 8601: {value}") from exc
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a UTC offset, e.g. +09:00")
    return parsed


def _list(args: argparse.Namespace) -> int:
    settings = load_core_settings()
    now = args.clock.now()
    print(f"{'ID':<28} {'SCHEDULE (' + settings.timezone + ')':<28} {'NEXT RUN':<26} DESCRIPTION")
    for job in JOBS:
        trigger = CronTrigger(timezone=settings.zone, **job.cron)
        upcoming = trigger.get_next_fire_time(None, now.astimezone(settings.zone))
        schedule = " ".join(f"{k}={v}" for k, v in job.cron.items())
        print(f"{job.id:<28} {schedule:<28} {upcoming.isoformat():<26} {job.description}")
    return 0


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        job = find_job(args.name)
    except UnknownJob:
        names = ", ".join(j.id for j in JOBS)
        fail(f"ジョブ {args.name} はありません / no job {args.name}. Jobs: {names}", code=1)
    clock: Clock = FixedClock(args.now) if args.now else args.clock
    session_factory = open_database(settings.database_url)
    client = make_web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)
    admin_token = settings.slack_admin_user_token
    admin_client = (
        make_web_client(admin_token.get_secret_value(), settings.slack_api_url)
        if admin_token is not None
        else None
    )
    context = JobContext(
        session_factory=session_factory,
        clock=clock,
        mail_sender=SmtpSender(settings, clock=clock),
        client=client,
        settings=settings,
        gateway=build_gateway(
            settings,
            client=client,
            admin_client=admin_client,
            session_factory=session_factory,
            clock=clock,
        ),
    )
    print(json.dumps({"job": job.id, "now": clock.now().isoformat(), **job.run(context)}))
    return 0
