"""Grant and revoke roles, e.g. to appoint the first secretariat members."""

from __future__ import annotations

import argparse

from bot.cli.common import Subparsers, add_command, add_group, fail, open_configured_database
from bot.services import members
from bot.services.audit import CLI_ACTOR
from models import Role


def add_parser(commands: Subparsers) -> None:
    actions = add_group(
        commands,
        "roles",
        "役割を付与・解除します / Grant or revoke roles",
        description="メンバーに事務局・ファシリテーター・アンバサダーの役割を付与、または解除します"
        "（最初の事務局メンバーの任命など）。監査ログに残ります。"
        " / Grant or revoke a member's secretariat, facilitator or ambassador role (e.g. to "
        "appoint the first secretariat member). Recorded in the audit log.",
    )
    for name, handler, summary in (
        ("grant", _grant, "役割を付与します / Grant a role"),
        ("revoke", _revoke, "役割を解除します / Revoke a role"),
    ):
        action = add_command(actions, name, summary)
        action.add_argument(
            "user_id", metavar="USER", help="Slack のユーザー ID（U…）/ Slack user ID (U…)"
        )
        action.add_argument(
            "role",
            metavar="ROLE",
            choices=[r.value for r in Role],
            help="役割 / the role: " + ", ".join(r.value for r in Role),
        )
        action.set_defaults(handler=handler)


def _grant(args: argparse.Namespace) -> int:
    session_factory = open_configured_database()
    clock = args.clock
    with session_factory.begin() as session:
        members.ensure_member(session, clock=clock, slack_user_id=args.user_id)
        changed = members.grant_role(
            session, clock=clock, slack_user_id=args.user_id, role=Role(args.role), actor=CLI_ACTOR
        )
    print(
        f"{args.user_id}: {args.role} を付与しました / granted"
        if changed
        else f"{args.user_id}: すでに {args.role} です / already {args.role}"
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    session_factory = open_configured_database()
    with session_factory.begin() as session:
        try:
            changed = members.revoke_role(
                session,
                clock=args.clock,
                slack_user_id=args.user_id,
                role=Role(args.role),
                actor=CLI_ACTOR,
            )
        except members.UnknownMember:
            fail(f"{args.user_id} は登録されていません / unknown member", code=1)
    print(
        f"{args.user_id}: {args.role} を解除しました / revoked"
        if changed
        else f"{args.user_id}: {args.role} ではありません / did not have {args.role}"
    )
    return 0
