"""Grant and revoke roles, e.g. to appoint the first secretariat members."""

from __future__ import annotations

import argparse

from bot.cli.common import fail, load_core_settings, open_database
from bot.services import members
from bot.services.audit import CLI_ACTOR
from models import Role


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("roles", help="役割の付与・解除 / grant or revoke roles")
    actions = parser.add_subparsers(dest="roles_command", required=True, metavar="ACTION")
    for name, handler in (("grant", _grant), ("revoke", _revoke)):
        action = actions.add_parser(name)
        action.add_argument("user_id", help="Slack user ID (U…)")
        action.add_argument("role", choices=[r.value for r in Role])
        action.set_defaults(handler=handler)


def _grant(args: argparse.Namespace) -> int:
    session_factory = open_database(load_core_settings().database_url)
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
    session_factory = open_database(load_core_settings().database_url)
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
