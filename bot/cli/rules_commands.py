"""`kyoso rules publish --version V --ja FILE --en FILE` and `kyoso rules list`."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.common import Subparsers, add_command, add_group, fail, open_configured_database
from bot.services import rules
from bot.services.audit import CLI_ACTOR

ASK_AGAIN_JOB = "onboarding-rules-ask-again"


def add_parser(commands: Subparsers) -> None:
    actions = add_group(
        commands,
        "rules",
        "利用規約の版を公開・一覧します / Publish and list versions of the usage rules",
        description="利用規約の新しい版を公開し（同意済みのメンバーにあらためて同意を依頼します）、"
        "公開済みの版を一覧します。"
        " / Publish a new version of the usage rules (members who accepted an earlier one are "
        "asked again) and list the published versions.",
    )
    publish = add_command(
        actions,
        "publish",
        "新しい版を公開します（メンバーに再同意を依頼）/ Publish a new version (members are asked "
        "again)",
        description="日本語と英語の本文から新しい版を公開します。同意済みのメンバーには、定期ジョブ "
        f"{ASK_AGAIN_JOB} が平日 9〜18 時に順次、再同意を依頼します。同じ版は一度だけ公開できます。"
        " / Publish a new version from its Japanese and English text. Members who accepted an "
        f"earlier version are asked again by the job {ASK_AGAIN_JOB} (weekdays 9:00–18:00, "
        "paced). A version is published once.",
    )
    publish.add_argument("--version", required=True, help="版の名前（例: 2）/ version name, e.g. 2")
    publish.add_argument(
        "--ja",
        required=True,
        type=Path,
        metavar="FILE",
        help="日本語の本文（UTF-8、Slack mrkdwn）/ Japanese text (UTF-8, Slack mrkdwn)",
    )
    publish.add_argument(
        "--en",
        required=True,
        type=Path,
        metavar="FILE",
        help="英語の本文（UTF-8、Slack mrkdwn）/ English text (UTF-8, Slack mrkdwn)",
    )
    publish.set_defaults(handler=_publish)
    add_command(
        actions,
        "list",
        "公開済みの版を一覧します（* が現行版）/ List the published versions (* marks the current "
        "one)",
    ).set_defaults(handler=_list)


def _read(path: Path, language: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{language} のファイルがありません / no such file: {path}", code=1)
    except UnicodeDecodeError:
        fail(f"{path} は UTF-8 ではありません / {path} is not UTF-8", code=1)


def _publish(args: argparse.Namespace) -> int:
    text_ja, text_en = _read(args.ja, "ja"), _read(args.en, "en")
    session_factory = open_configured_database()
    try:
        with session_factory.begin() as session:
            published = rules.publish(
                session,
                clock=args.clock,
                version=args.version,
                text_ja=text_ja,
                text_en=text_en,
                actor=CLI_ACTOR,
            )
    except rules.RulesError as exc:
        fail(str(exc), code=1)
    print(
        f"第{published.version}版を公開しました。同意済みのメンバーには、定期ジョブ {ASK_AGAIN_JOB} が"
        "あらためて同意を依頼します（平日 9〜18 時、順次）。\n"
        f"Published version {published.version}. Members who accepted an earlier version are "
        f"asked again by the job {ASK_AGAIN_JOB} (weekdays 9:00–18:00, paced); "
        f"`kyoso jobs run {ASK_AGAIN_JOB}` starts a batch now."
    )
    return 0


def _list(_args: argparse.Namespace) -> int:
    session_factory = open_configured_database()
    with session_factory() as session:
        versions = rules.published(session)
        current = rules.current(session).version
    print(f"{'VERSION':<12} {'PUBLISHED':<27} {'CHARS (ja/en)':<15}")
    for version in versions:
        published = version.published_at.isoformat() if version.published_at else "built-in"
        mark = " *" if version.version == current else ""
        sizes = f"{len(version.text_ja)}/{len(version.text_en)}"
        print(f"{version.version:<12} {published:<27} {sizes:<15}{mark}")
    return 0
