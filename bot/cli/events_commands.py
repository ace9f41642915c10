"""`kyoso events`: the Slack events that could not be processed, and putting them back in line.

kyoso events status               how many events wait, how many were set aside
kyoso events failed               the events set aside after every attempt failed
kyoso events retry EVENT_ID…      put those events back in line (or --all)
"""

from __future__ import annotations

import argparse

from bot.cli.common import fail, load_core_settings, open_database
from bot.inbox import store
from bot.timefmt import jst


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("events", help="受信した Slack イベント / received Slack events")
    actions = parser.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    actions.add_parser(
        "status", help="待ち件数と保留件数 / events waiting and set aside"
    ).set_defaults(handler=_status)
    actions.add_parser(
        "failed", help="処理できなかったイベント / events that could not be processed"
    ).set_defaults(handler=_failed)
    retry = actions.add_parser(
        "retry", help="保留したイベントを再処理 / process set-aside events again"
    )
    retry.add_argument("event_ids", nargs="*", metavar="EVENT_ID")
    retry.add_argument("--all", action="store_true", help="すべて / all of them")
    retry.set_defaults(handler=_retry)


def _status(args: argparse.Namespace) -> int:
    session_factory = open_database(load_core_settings().database_url)
    with session_factory() as session:
        summary = store.summary(session)
    oldest = jst(summary.oldest_pending) if summary.oldest_pending else "-"
    print(
        f"処理待ち / waiting: {summary.pending}（最古 / oldest: {oldest}）\n"
        f"保留 / set aside: {summary.dead}"
    )
    return 0


def _failed(args: argparse.Namespace) -> int:
    session_factory = open_database(load_core_settings().database_url)
    with session_factory() as session:
        events = store.dead_events(session)
    if not events:
        print("保留中のイベントはありません / no event is set aside")
        return 0
    for event in events:
        print(
            "\t".join(
                (
                    event.event_id,
                    event.event_type,
                    jst(event.received_at),
                    f"attempts={event.attempts}",
                    event.last_error or "",
                )
            )
        )
    print(
        f"{len(events)} 件。`kyoso events retry EVENT_ID` で再処理します。"
        f" / {len(events)} event(s); `kyoso events retry EVENT_ID` processes one again."
    )
    return 0


def _retry(args: argparse.Namespace) -> int:
    if not args.all and not args.event_ids:
        fail("EVENT_ID か --all を指定してください / give EVENT_IDs or --all")
    session_factory = open_database(load_core_settings().database_url)
    with session_factory.begin() as session:
        count = store.retry(session, None if args.all else args.event_ids, clock=args.clock)
    print(
        f"{count} 件を再処理の列に戻しました（動作中の Kyoso が処理します）"
        f" / {count} event(s) put back in line (a running Kyoso processes them)"
    )
    return 0 if count or args.all else 1
