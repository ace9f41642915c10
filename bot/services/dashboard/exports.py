"""CSV exports of members, channels and statistics, as Excel opens them.

Excel (Japanese Windows) reads a CSV as Shift_JIS unless it starts with a UTF-8 byte order
mark, so every export is UTF-8 with BOM, CRLF line ends, and times in JST
(`2026/11/24 10:00`, which Excel reads as a date). A cell a member typed that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe so that Excel shows
it as text instead of running it as a formula (CSV injection).

Each export is recorded in the audit log with who asked for it and how many rows it held:
the member list carries personal data.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.statistics import PrefectureCoverage, Statistics
from bot.i18n import Language, t
from bot.services import audit
from bot.services.onboarding.organisations import organisation_name
from bot.services.statistics.figures import compute
from bot.timefmt import jst
from models import Channel, ChannelFacilitator, Member, MemberRole, Organisation

Cell = str | int | float | None

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportKind(StrEnum):
    MEMBERS = "members"
    CHANNELS = "channels"
    STATS = "stats"


MEMBER_COLUMNS = (
    "slack_user_id",
    "real_name",
    "display_name",
    "email",
    "organisation",
    "organisation_kind",
    "organisation_code",
    "prefecture",
    "department",
    "status",
    "roles",
    "joined_at",
    "last_seen_at",
    "rules_version",
    "rules_accepted_at",
)
CHANNEL_COLUMNS = (
    "slack_channel_id",
    "name",
    "category",
    "status",
    "prefecture",
    "facilitating_organisation",
    "facilitators",
    "purpose",
    "created_at",
    "last_activity_at",
    "days_quiet",
)
STATS_COLUMNS = ("section", "item", "value", "total", "rate")


@dataclass(frozen=True)
class Export:
    kind: ExportKind
    filename: str
    content: bytes
    rows: int  # data rows, header excluded


def safe_text(value: str) -> str:
    """Text Excel shows as typed, never evaluates."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with BOM and CRLF: what Excel opens correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(h) for h in header])
    for row in rows:
        writer.writerow(
            ["" if v is None else safe_text(v) if isinstance(v, str) else v for v in row]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _when(at: datetime | None, zone: ZoneInfo) -> str:
    return jst(at, zone) if at is not None else ""


def _header(kind: ExportKind, columns: Sequence[str], language: Language) -> list[str]:
    return [t(f"dashboard.csv.{kind.value}.{column}", language) for column in columns]


def member_rows(session: Session, *, zone: ZoneInfo, language: Language) -> list[list[Cell]]:
    """Every person Kyoso knows (bots excluded), whatever their status; by Slack user id."""
    roles: dict[int, list[str]] = defaultdict(list)
    for member_id, role in session.execute(
        select(MemberRole.member_id, MemberRole.role).order_by(MemberRole.role)
    ):
        roles[member_id].append(t(f"dashboard.role.{role.value}", language))
    rows = session.execute(
        select(Member, Organisation)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.is_bot.is_(False))
        .order_by(Member.slack_user_id)
        .execution_options(yield_per=1000)
    )
    return [
        [
            member.slack_user_id,
            member.real_name,
            member.display_name,
            member.email,
            organisation_name(organisation, language),
            t(f"dashboard.kind.{organisation.kind.value}", language) if organisation else None,
            organisation.code if organisation else None,
            organisation.prefecture if organisation else None,
            member.department,
            t(f"home.status.{member.status.value}", language),
            " / ".join(roles.get(member.id, ())),
            _when(member.joined_at, zone),
            _when(member.last_seen_at, zone),
            member.rules_version,
            _when(member.rules_accepted_at, zone),
        ]
        for member, organisation in rows
    ]


def channel_rows(
    session: Session, *, now: datetime, zone: ZoneInfo, language: Language
) -> list[list[Cell]]:
    facilitators: dict[int, list[str]] = defaultdict(list)
    for channel_id, user_id in session.execute(
        select(ChannelFacilitator.channel_id, Member.slack_user_id)
        .join(Member, Member.id == ChannelFacilitator.member_id)
        .order_by(ChannelFacilitator.added_at)
    ):
        facilitators[channel_id].append(user_id)
    rows = session.execute(
        select(Channel, Organisation)
        .outerjoin(Organisation, Organisation.id == Channel.facilitating_organisation_id)
        .order_by(Channel.status, Channel.category, Channel.name)
    )
    out: list[list[Cell]] = []
    for channel, organisation in rows:
        last = channel.last_activity_at
        out.append(
            [
                channel.slack_channel_id,
                channel.name,
                t(f"dashboard.channel_kind.{channel.category.value}", language),
                t(f"dashboard.csv.channel_status.{channel.status.value}", language),
                channel.prefecture,
                organisation_name(organisation, language),
                " ".join(facilitators.get(channel.id, ())),
                channel.purpose,
                _when(channel.slack_created_at or channel.created_at, zone),
                _when(last, zone),
                (now - last).days if last is not None else None,
            ]
        )
    return out


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.4f}" if whole else ""


def stats_rows(stats: Statistics, *, zone: ZoneInfo, language: Language) -> list[list[Cell]]:
    """The statistics in long form: one figure a row (section, item, value, out of, share)."""

    def section(key: str) -> str:
        return t(f"dashboard.csv.section.{key}", language)

    as_of = t("dashboard.csv.item.as_of", language)
    rows: list[list[Cell]] = [
        [section("headline"), as_of, jst(stats.generated_at, zone), None, None]
    ]

    def add(key: str, item: str, value: int, total: int | None = None) -> None:
        share = _ratio(value, total) if total is not None else None
        rows.append([section(key), item, value, total, share])

    totals = {
        "active_30d": stats.members,
        "local_governments_covered": stats.local_governments,
        "municipalities_covered": stats.municipalities,
        "agencies_covered": stats.agencies,
    }
    for key, value in stats.headline.to_dict().items():
        add("headline", t(f"dashboard.report.figure.{key}", language), value, totals.get(key))
    for status, count in stats.members_by_status.items():
        add("members_by_status", t(f"home.status.{status}", language), count)
    for kind in stats.members_by_kind:
        add("members_by_kind", _kind(kind.kind, language), kind.members, stats.members)
    for kind in stats.members_by_kind:
        add("active_by_kind", _kind(kind.kind, language), kind.active_30d, kind.members)
    for pref in stats.coverage_by_prefecture:
        add("coverage_by_prefecture", _name(pref, language), pref.covered, pref.local_governments)
    for pref in stats.coverage_by_prefecture:
        add("members_by_prefecture", _name(pref, language), pref.members)
    for week in stats.new_members_by_week:
        add("new_members_by_week", f"{week.week_start:%Y/%m/%d}", week.count)
    for field in ("active", "lively", "quiet", "archived"):
        for channel in stats.channels:
            category = t(f"dashboard.channel_kind.{channel.category}", language)
            add(f"channels_{field}", category, getattr(channel, field))
    moderation, applications = stats.moderation, stats.applications
    for status, count in moderation.by_status.items():
        add("moderation_by_status", t(f"dashboard.csv.case_status.{status}", language), count)
    for key in ("opened_30d", "detections_30d"):
        add("moderation", t(f"dashboard.csv.item.{key}", language), getattr(moderation, key))
    for status, count in applications.by_status.items():
        status_label = t(f"dashboard.csv.application_status.{status}", language)
        add("applications_by_status", status_label, count)
    for key in ("submitted_30d", "approved_30d", "rejected_30d"):
        add("applications", t(f"dashboard.csv.item.{key}", language), getattr(applications, key))
    return rows


def _kind(kind: str, language: Language) -> str:
    return t(f"dashboard.kind.{kind}", language)


def _name(prefecture: PrefectureCoverage, language: Language) -> str:
    return prefecture.name_en if language == "en" and prefecture.name_en else prefecture.name


def build(
    session: Session,
    kind: ExportKind,
    *,
    clock: Clock,
    zone: ZoneInfo,
    language: Language,
    actor: str,
) -> Export:
    """The CSV for `kind`, recorded in the audit log under `actor` (the caller commits)."""
    now = clock.now()
    rows: list[list[Cell]]
    if kind is ExportKind.MEMBERS:
        columns: Sequence[str] = MEMBER_COLUMNS
        rows = member_rows(session, zone=zone, language=language)
    elif kind is ExportKind.CHANNELS:
        columns = CHANNEL_COLUMNS
        rows = channel_rows(session, now=now, zone=zone, language=language)
    else:
        columns = STATS_COLUMNS
        stats = compute(session, now=now, zone=zone)
        rows = stats_rows(stats, zone=zone, language=language)
    content = to_csv(_header(kind, columns, language), rows)
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=f"export.{kind.value}",
        target_type="export",
        target_id=kind.value,
        details={"rows": len(rows), "bytes": len(content)},
    )
    stamp = now.astimezone(zone).strftime("%Y%m%d-%H%M")
    return Export(kind, f"kyoso-{kind.value}-{stamp}.csv", content, len(rows))
