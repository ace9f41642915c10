"""Transfers' Slack adapters, built once by bot/gateway.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.lifecycle.deactivator import Deactivators
from bot.slack.transfers.checks import AffiliationChecks
from bot.slack.transfers.leavers import LeaversSlack
from bot.slack.transfers.moves import MovesSlack
from bot.slack.transfers.season import SeasonSenders
from bot.slack.wiring import SlackWiring


@dataclass(frozen=True)
class TransfersSlack:
    wiring: SlackWiring
    season: SeasonSenders
    checks: AffiliationChecks
    leavers: LeaversSlack
    moves: MovesSlack

    @classmethod
    def build(cls, wiring: SlackWiring) -> TransfersSlack:
        return cls(
            wiring=wiring,
            season=SeasonSenders(wiring),
            checks=AffiliationChecks(wiring),
            leavers=LeaversSlack(wiring, deactivators=Deactivators(wiring)),
            moves=MovesSlack(wiring),
        )
