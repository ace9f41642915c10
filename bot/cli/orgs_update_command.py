"""`kyoso orgs update FILE.csv [--dry-run]`: apply a new release of the local-government code
list and report the difference (bot/services/transfers/org_release.py). An action of the
`orgs` group (bot/cli/orgs_commands.py).

Exit codes: 0 applied (or, with --dry-run, reported); 2 the file cannot be read or is
malformed (nothing changed), or the database is not migrated.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import EXIT_CONFIG, Subparsers, add_command, open_configured_database
from bot.i18n import LANGUAGES, Language, t
from bot.services.audit import CLI_ACTOR
from bot.services.transfers.org_release import OrgChange, ReleaseReport, apply_release
from bot.services.transfers.org_release_file import ReleaseFileError, read_release


def add_update(actions: Subparsers) -> None:
    update = add_command(
        actions,
        "update",
        "全国地方公共団体コードの新しい版を反映します / Apply a new release of the "
        "local-government code list",
        description="bot/data/local-governments.csv と同じ列（合併で消えるコードの行には merged_into に"
        "合併先のコード）の CSV を読み、団体の表との差分（追加、名称変更、合併、削除、ドメイン変更）を"
        "表示して反映します。合併した団体のメンバー、審査中の申請、チャンネルは合併先へ移ります。"
        " / Reads a CSV in the columns of bot/data/local-governments.csv (a code that disappears "
        "by a merger carries its successor's code in merged_into), reports the difference with "
        "the organisations table (added, renamed, merged, removed, domain changed) and applies "
        "it. Members, open applications and channels of a merged organisation move to its "
        "successor.",
    )
    update.add_argument("file", type=Path, metavar="FILE.csv", help="新しい版 / the new release")
    update.add_argument(
        "--dry-run",
        action="store_true",
        help="差分を表示するだけで、何も変更しません / report the difference, change nothing",
    )
    update.set_defaults(handler=_update)


def _update(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(
            "\n".join(
                t(
                    "orgs.update.file.unreadable",
                    lang,
                    path=str(args.file),
                    error=exc.strerror or "",
                )
                for lang in LANGUAGES
            ),
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        release = read_release(data)
    except ReleaseFileError as error:
        print("\n".join(error.message(lang) for lang in LANGUAGES), file=sys.stderr)
        return EXIT_CONFIG
    session_factory = open_configured_database()
    if args.dry_run:
        with session_factory() as session:  # applied, reported, rolled back
            report = apply_release(session, clock=args.clock, release=release, actor=CLI_ACTOR)
            session.rollback()
    else:
        with session_factory.begin() as session:
            report = apply_release(session, clock=args.clock, release=release, actor=CLI_ACTOR)
    print("\n\n".join(render_report(report, lang, dry_run=args.dry_run) for lang in LANGUAGES))
    return 0


def render_report(report: ReleaseReport, language: Language, *, dry_run: bool) -> str:
    """Counts, then each list; the members of removed organisations for the secretariat."""

    def say(key: str, **params: object) -> str:
        return t(f"orgs.update.report.{key}", language, **params)

    lines = [say("title_dry_run" if dry_run else "title")]
    lines.append(
        say(
            "counts",
            added=len(report.added),
            renamed=len(report.renamed),
            merged=len(report.merged),
            removed=len(report.removed),
            domain=len(report.domain),
        )
    )
    if not report.changed:
        lines.append(say("nothing"))
    sections: tuple[tuple[str, list[OrgChange]], ...] = (
        ("added", report.added),
        ("renamed", report.renamed),
        ("merged", report.merged),
        ("removed", report.removed),
        ("domain", report.domain),
    )
    for key, changes in sections:
        if changes:
            lines.append(say(f"section.{key}", count=len(changes)))
            lines += [f"  {say(f'line.{key}', **_params(c))}" for c in changes]
    if report.merged:
        lines.append(
            say(
                "moved",
                members=report.moved_members,
                applications=report.moved_applications,
                channels=report.moved_channels,
            )
        )
    if report.members_to_check:
        lines.append(say("members_to_check", count=len(report.members_to_check)))
        lines += [
            f"  {m.code} <@{m.slack_user_id}> {m.name}".rstrip() for m in report.members_to_check
        ]
    return "\n".join(lines)


def _params(change: OrgChange) -> dict[str, str]:
    return {
        "code": change.code,
        "name": change.name,
        "before": change.before or "—",
        "after": change.after or "—",
    }
