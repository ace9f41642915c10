"""`kyoso run`: Socket Mode when an app token is set, else HTTP mode on PORT."""

from __future__ import annotations

import argparse

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackClientError

from bot.cli.common import (
    Subparsers,
    add_command,
    fail,
    load_settings_and_logging,
    open_database,
    upgrade_database,
    wiring_of,
)
from bot.cli.wiring import PortUnavailable
from bot.knowledge.embedding import EmbeddingUnavailable, ModelFolderIncomplete


def add_parser(commands: Subparsers) -> None:
    parser = add_command(
        commands,
        "run",
        "ボットを起動します / Run the bot",
        description="ボットを起動します。SLACK_APP_TOKEN があれば Socket Mode、なければ HTTP モード"
        "（HOST:PORT の /slack/events）で動きます。SQLite ではマイグレーションを先に適用します。"
        "設定が足りない・正しくないときは、そのうち一つの変数名と入手方法を表示して終了します"
        "（終了コード 2）。直して再実行すると、次に足りないものがあれば表示されます。"
        " / Run the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode "
        "(/slack/events on HOST:PORT). On SQLite, migrations are applied first. A missing or "
        "malformed setting stops it with exit code 2, naming one variable and how to get it; "
        "run again after fixing it to learn the next one, if any.",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    wiring = wiring_of(args)
    settings = load_settings_and_logging()
    clock = args.clock
    if settings.is_sqlite:
        upgrade_database(settings.database_url, clock=clock)
    session_factory = open_database(settings.database_url)
    try:
        server = wiring.start_server(settings, session_factory=session_factory, clock=clock)
    except BoltError as exc:
        fail(
            "Slack がトークンを受け付けませんでした。SLACK_BOT_TOKEN と SLACK_API_URL を確認してください。\n"
            f"Slack rejected the bot token; check SLACK_BOT_TOKEN and SLACK_API_URL. ({exc})"
        )
    except (ModelFolderIncomplete, EmbeddingUnavailable) as exc:
        fail(f"KYOSO_EMBEDDING_MODEL_DIR: {exc}")  # the message names what is missing
    except (SlackClientError, OSError) as exc:
        fail(
            f"Slack（{settings.slack_api_url}）に接続できませんでした。ネットワークと SLACK_API_URL を確認してください。\n"
            f"Could not reach Slack at {settings.slack_api_url}; check the network and SLACK_API_URL. ({exc})"
        )
    try:
        server.serve()
    except PortUnavailable as exc:
        fail(
            f"{exc.host}:{exc.port} で待ち受けできません（使用中か権限がありません）。HOST と PORT を確認してください。\n"
            f"Cannot listen on {exc.host}:{exc.port} (in use or not allowed); check HOST and PORT."
            f" ({exc.reason})"
        )
    return 0
