"""The municipalities with no member in an ambassador's prefectures, as a CSV for outreach:
Excel-friendly like every export (bot/services/dashboard/exports.py: UTF-8 with BOM, CRLF,
formula-safe cells), recorded in the audit log with who asked and how many rows it held."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.i18n import Language, t
from bot.services import audit
from bot.services.ambassadors.overview import local_governments
from bot.services.ambassadors.roster import prefectures_served
from bot.services.dashboard.exports import to_csv
from bot.services.statistics.coverage import MUNICIPALITY_KINDS

COLUMNS = ("code", "prefecture", "name", "kana", "homepage")


class NoPrefectures(Exception):
    """The member serves no prefecture today: there is nothing of theirs to export."""


@dataclass(frozen=True)
class OutreachCsv:
    filename: str
    content: bytes
    rows: int  # data rows, header excluded
    prefectures: tuple[str, ...]


def uncovered_csv(
    session: Session, *, clock: Clock, zone: ZoneInfo, language: Language, user_id: str
) -> OutreachCsv:
    """The requester's prefectures' municipalities with no member, in code order."""
    now = clock.now()
    served = prefectures_served(session, slack_user_id=user_id, today=now.astimezone(zone).date())
    if not served:
        raise NoPrefectures(user_id)
    governments = local_governments(session, prefectures=served)
    rows = [
        [g.code, g.prefecture, g.name, g.name_kana, g.homepage]
        for prefecture in served
        for g in governments.get(prefecture, [])
        if g.kind in MUNICIPALITY_KINDS and not g.covered
    ]
    header = [t(f"ambassadors.home.csv.{column}", language) for column in COLUMNS]
    content = to_csv(header, rows)
    audit.record(
        session,
        clock=clock,
        actor=user_id,
        action="export.ambassador_uncovered",
        target_type="export",
        target_id="ambassador_uncovered",
        details={"rows": len(rows), "bytes": len(content), "prefectures": list(served)},
    )
    stamp = now.astimezone(zone).strftime("%Y%m%d-%H%M")
    return OutreachCsv(f"kyoso-uncovered-{stamp}.csv", content, len(rows), served)
