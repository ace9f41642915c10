"""`kyoso events`: the Slack events that could not be processed, and putting them back in line.

kyoso events status               how many events wait, how many were set aside
kyoso events failed               the events set aside after every attempt failed
kyoso events retry EVENT_ID…      put those events back in line (or --all)
"""

from __future__ import annotations

import argparse

from bot.cli.common import Subparsers, add_command, add_group, fail, open_configured_database
from bot.inbox import store
from bot.timefmt import jst


def add_parser(commands: Subparsers) -> None:
    actions = add_group(
        commands,
        "events",
        "受信した Slack イベントの状況と再処理 / Received Slack events: status and retries",
        description="記録した Slack イベントのうち、処理を待っているもの・すべての試行に失敗して保留した"
        "ものを表示し、保留したものを再処理の列に戻します（動作中の Kyoso が処理します）。"
        " / Show the recorded Slack events that wait or were set aside after every attempt "
        "failed, and put set-aside events back in line (a running Kyoso processes them).",
    )
    add_command(
        actions,
        "status",
        "処理待ちと保留の件数を表示します / Count the events waiting and set aside",
    ).set_defaults(handler=_status)
    add_command(
        actions,
        "failed",
        "保留したイベントを一覧します / List the events set aside",
        description="すべての試行に失敗して保留したイベントを、ID・種類・受信時刻・試行回数・"
        "最後のエラーとともに一覧します。"
        " / List the events set aside after every attempt failed, with their id, type, time "
        "received, attempts and last error.",
    ).set_defaults(handler=_failed)
    retry = add_command(
        actions,
        "retry",
        "保留したイベントを再処理します / Process set-aside events again",
        description="指定した（または --all ですべての）保留イベントを再処理の列に戻します。"
        "戻せるものがなければ終了コード 1 で終わります。"
        " / Put the given set-aside events (or all with --all) back in line. Exits with code "
        "1 when none could be put back.",
    )
    retry.add_argument(
        "event_ids",
        nargs="*",
        metavar="EVENT_ID",
        help="イベント ID（`kyoso events failed` を参照）/ event ids (see `kyoso events failed`)",
    )
    retry.add_argument(
        "--all", action="store_true", help="保留したイベントすべて / every event set aside"
    )
    retry.set_defaults(handler=_retry)


def _status(args: argparse.Namespace) -> int:
    session_factory = open_configured_database()
    with session_factory() as session:
        summary = store.summary(session)
    oldest = jst(summary.oldest_pending) if summary.oldest_pending else "-"
    print(
        f"処理待ち / waiting: {summary.pending}（最古 / oldest: {oldest}）\n"
        f"保留 / set aside: {summary.dead}"
    )
    return 0


def _failed(args: argparse.Namespace) -> int:
    session_factory = open_configured_database()
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
    session_factory = open_configured_database()
    with session_factory.begin() as session:
        count = store.retry(session, None if args.all else args.event_ids, clock=args.clock)
    print(
        f"{count} 件を再処理の列に戻しました（動作中の Kyoso が処理します）"
        f" / {count} event(s) put back in line (a running Kyoso processes them)"
    )
    return 0 if count or args.all else 1
