"""`kyoso orgs`: organisation data changes.

    kyoso orgs remap-domain OLD NEW [--dry-run]

Exit codes: 0 done (or, with --dry-run, reported); 2 a domain is not valid, both are the
same, no organisation is on OLD, or the database is not migrated.
"""

from __future__ import annotations

import argparse

from bot.cli import orgs_update_command
from bot.cli.common import Subparsers, add_command, add_group, fail, open_configured_database
from bot.i18n import LANGUAGES, t
from bot.services.audit import CLI_ACTOR
from bot.services.transfers.domain_remap import BadDomain, RemapReport, remap_domain


def add_parser(commands: Subparsers) -> None:
    actions = add_group(
        commands,
        "orgs",
        "組織データの変更 / Organisation data changes",
        description="組織のドメイン変更や地方公共団体コードの改訂を反映します。"
        " / Apply an organisation's domain change or a new release of the local-government "
        "code list.",
    )
    _add_remap_domain(actions)
    orgs_update_command.add_update(actions)


def _add_remap_domain(actions: Subparsers) -> None:
    remap = add_command(
        actions,
        "remap-domain",
        "組織のドメインを変更し、関係するメンバーと申請を判定し直します"
        " / Change an organisation's domain and re-evaluate the members and applications on it",
        description="ドメインが OLD の組織を NEW に変更し、どちらかのドメインのアドレスを持つ"
        "メンバー（所属未確認のもの）と審査中の申請を判定し直します。OLD のままのメンバーは、"
        "アドレスが変わったときに移ります。"
        " / Move the organisations on OLD to NEW, then re-evaluate unverified members and "
        "pending applications on either domain. Members still on OLD move when their address "
        "changes.",
    )
    remap.add_argument("old", metavar="OLD", help="今のドメイン / the current domain")
    remap.add_argument("new", metavar="NEW", help="新しいドメイン / the new domain")
    remap.add_argument(
        "--dry-run",
        action="store_true",
        help="結果を表示するだけで変更しない / report what would change, change nothing",
    )
    remap.set_defaults(handler=_remap_domain)


def _remap_domain(args: argparse.Namespace) -> int:
    session_factory = open_configured_database()
    with session_factory() as session:
        try:
            report = remap_domain(
                session, clock=args.clock, old=args.old, new=args.new, actor=CLI_ACTOR
            )
        except BadDomain as exc:
            fail("\n".join(t(exc.key, language, **exc.params) for language in LANGUAGES))
        if args.dry_run:
            session.rollback()
        else:
            session.commit()
    print(_report(report, dry_run=args.dry_run))
    return 0


def _report(report: RemapReport, *, dry_run: bool) -> str:
    lines: list[str] = []
    for language in LANGUAGES:
        suffix = t("transfers.orgs.remap.dry_run", language) if dry_run else ""
        lines.append(
            t(
                "transfers.orgs.remap.title",
                language,
                old=report.old,
                new=report.new,
                dry_run=suffix,
            )
        )
        for key, items in (
            ("organisations", report.organisations),
            ("resolved", report.resolved),
            ("still_unverified", report.still_unverified),
            ("waiting", report.waiting),
        ):
            lines.append("  " + t(f"transfers.orgs.remap.{key}", language, count=len(items)))
            lines.extend(f"    - {item}" for item in items)
        lines.append(
            "  "
            + t(
                "transfers.orgs.remap.applications",
                language,
                count=len(report.applications),
                changed=len(report.applications_changed),
            )
        )
        lines.extend(f"    - {item}" for item in report.applications_changed)
        if report.cards_to_refresh:
            lines.append(
                "  " + t("transfers.orgs.remap.cards", language, count=len(report.cards_to_refresh))
            )
            lines.extend(f"    - {item}" for item in report.cards_to_refresh)
        lines.append("")
    return "\n".join(lines)
