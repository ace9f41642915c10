"""The ambassador's view of their prefectures: members and active members, coverage and the
municipalities with no member, this month's newcomers and whether each was greeted, questions
in the prefecture's デジ_re_ channel left unanswered, and searches that found nothing.

A fixed handful of set-based queries for however many prefectures (a region's seven, or
more): nothing here runs a query per municipality or per member.

Counting follows the statistics (bot/services/statistics): a member is an active, non-bot
account; "active" is seen in the last 30 days; coverage counts the municipalities (cities,
towns, villages, special wards) with at least one member, a merged organisation's members
under its successor, retired organisations left out, and the prefecture's own government
apart. A prefecture's members are those of every organisation in it (unions included)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.business_days import business_days_between, is_business_day
from bot.domain.ambassadors import (
    AmbassadorSection,
    Newcomer,
    OpenQuestion,
    PrefectureOverview,
    SearchGap,
    UncoveredMunicipality,
)
from bot.services.ambassadors.roster import prefectures_served
from bot.services.knowledge.gaps import recent_gaps
from bot.services.statistics.counting import count_if, is_member, joined
from bot.services.statistics.coverage import LOCAL_GOVERNMENT_KINDS, MUNICIPALITY_KINDS
from bot.services.statistics.periods import ACTIVE_WINDOW, start_of
from models import AmbassadorGreeting, Member, Organisation, OrganisationKind, RegionalQuestion

UNANSWERED_BUSINESS_DAYS = 3
QUESTION_WINDOW = timedelta(days=30)  # older unanswered questions have gone stale
GAP_WINDOW = timedelta(days=30)
UNCOVERED_KEPT = 30  # per prefecture, for the Home (the export has them all)
NEWCOMERS_KEPT = 10
QUESTIONS_KEPT = 5
GAPS_KEPT = 5


@dataclass(frozen=True)
class LocalGovernment:
    """One local government of a prefecture and whether it has a member."""

    code: str
    prefecture: str
    kind: OrganisationKind
    name: str
    name_kana: str | None
    name_en: str | None
    homepage: str | None
    covered: bool


def ambassador_section(
    session: Session, *, user_id: str, now: datetime, zone: ZoneInfo
) -> AmbassadorSection | None:
    """The section for a member serving as ambassador today; None for anyone else."""
    served = prefectures_served(session, slack_user_id=user_id, today=now.astimezone(zone).date())
    if not served:
        return None
    return AmbassadorSection(prefecture_overviews(session, prefectures=served, now=now, zone=zone))


def prefecture_overviews(
    session: Session, *, prefectures: Sequence[str], now: datetime, zone: ZoneInfo
) -> tuple[PrefectureOverview, ...]:
    governments = local_governments(session, prefectures=prefectures)
    members = _members(session, prefectures, now)
    newcomers = _newcomers(session, prefectures, now, zone)
    questions = _open_questions(session, prefectures, now, zone)
    since = now - GAP_WINDOW
    overviews = []
    for prefecture in prefectures:
        own = governments.get(prefecture, [])
        municipalities = [g for g in own if g.kind in MUNICIPALITY_KINDS]
        uncovered = [g for g in municipalities if not g.covered]
        arrivals = newcomers.get(prefecture, [])
        asked = questions.get(prefecture, [])
        gaps = recent_gaps(session, since=since, prefecture=prefecture, limit=GAPS_KEPT)
        total, active = members.get(prefecture, (0, 0))
        overviews.append(
            PrefectureOverview(
                prefecture=prefecture,
                name_en=next(
                    (g.name_en for g in own if g.kind is OrganisationKind.PREFECTURE), None
                ),
                members=total,
                active=active,
                municipalities=len(municipalities),
                municipalities_covered=len(municipalities) - len(uncovered),
                government_covered=any(
                    g.covered for g in own if g.kind is OrganisationKind.PREFECTURE
                ),
                uncovered=tuple(
                    UncoveredMunicipality(g.code, g.name, g.homepage)
                    for g in uncovered[:UNCOVERED_KEPT]
                ),
                newcomers=tuple(arrivals[:NEWCOMERS_KEPT]),
                newcomers_total=len(arrivals),
                newcomers_greeted=sum(1 for n in arrivals if n.greeted_by),
                questions=tuple(asked[:QUESTIONS_KEPT]),
                questions_total=len(asked),
                gaps=tuple(SearchGap(g.query, g.times) for g in gaps),
            )
        )
    return tuple(overviews)


def local_governments(
    session: Session, *, prefectures: Sequence[str]
) -> dict[str, list[LocalGovernment]]:
    """Each prefecture's current local governments (its own and its municipalities) in code
    order, each with whether it has a member: one query for all the prefectures."""
    counted_under = func.coalesce(Organisation.merged_into_id, Organisation.id)
    with_members = (
        select(counted_under.label("organisation_id"))
        .select_from(Member)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(is_member(), Organisation.prefecture.in_(prefectures))
        .group_by(counted_under)
        .subquery("with_members")
    )
    rows = session.execute(
        select(
            Organisation.code,
            Organisation.prefecture,
            Organisation.kind,
            Organisation.name,
            Organisation.name_kana,
            Organisation.name_en,
            Organisation.homepage,
            with_members.c.organisation_id.is_not(None),
        )
        .outerjoin(with_members, with_members.c.organisation_id == Organisation.id)
        .where(
            Organisation.kind.in_(LOCAL_GOVERNMENT_KINDS),
            Organisation.prefecture.in_(prefectures),
            Organisation.retired_at.is_(None),  # merged or removed: nothing left to cover
        )
        .order_by(Organisation.code)
    )
    found: dict[str, list[LocalGovernment]] = defaultdict(list)
    for code, prefecture, kind, name, kana, name_en, homepage, covered in rows:
        found[prefecture or ""].append(
            LocalGovernment(
                code=code or "",
                prefecture=prefecture or "",
                kind=OrganisationKind(kind),
                name=name,
                name_kana=kana,
                name_en=name_en,
                homepage=homepage,
                covered=bool(covered),
            )
        )
    return found


def municipality_coverage(
    session: Session, *, prefectures: Sequence[str]
) -> dict[str, tuple[int, int]]:
    """Per prefecture: municipalities with a member, and all of them (its government apart)."""
    coverage: dict[str, tuple[int, int]] = {}
    for prefecture, governments in local_governments(session, prefectures=prefectures).items():
        municipalities = [g for g in governments if g.kind in MUNICIPALITY_KINDS]
        coverage[prefecture] = (sum(g.covered for g in municipalities), len(municipalities))
    return coverage


def _members(
    session: Session, prefectures: Sequence[str], now: datetime
) -> dict[str, tuple[int, int]]:
    rows = session.execute(
        select(
            Organisation.prefecture,
            func.count(),
            count_if(Member.last_seen_at >= now - ACTIVE_WINDOW),
        )
        .select_from(Member)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(is_member(), Organisation.prefecture.in_(prefectures))
        .group_by(Organisation.prefecture)
    )
    return {prefecture: (total, active) for prefecture, total, active in rows}


def _newcomers(
    session: Session, prefectures: Sequence[str], now: datetime, zone: ZoneInfo
) -> dict[str, list[Newcomer]]:
    """Members who joined this month (in `zone`): those not yet greeted first, then by date."""
    month = start_of(now.astimezone(zone).date().replace(day=1), zone)
    since = joined()
    rows = session.execute(
        select(Organisation.prefecture, Member.slack_user_id, since, AmbassadorGreeting.claimed_by)
        .select_from(Member)
        .join(Organisation, Organisation.id == Member.organisation_id)
        .outerjoin(AmbassadorGreeting, AmbassadorGreeting.member_id == Member.id)
        .where(is_member(), Organisation.prefecture.in_(prefectures), since >= month, since <= now)
        .order_by(since, Member.slack_user_id)
    )
    found: dict[str, list[Newcomer]] = defaultdict(list)
    for prefecture, user_id, at, claimed_by in rows:
        found[prefecture].append(Newcomer(user_id, _aware(at), claimed_by))
    for arrivals in found.values():
        arrivals.sort(key=lambda n: n.greeted_by is not None)  # stable: dates kept within
    return found


def unanswered_cutoff(today: date, zone: ZoneInfo) -> datetime:
    """A question asked before this instant has gone UNANSWERED_BUSINESS_DAYS 開庁日 or more
    without an answer on `today` (counted by date, as bot/business_days.py counts)."""
    day, counted = today, 0
    while counted < UNANSWERED_BUSINESS_DAYS:
        if is_business_day(day):
            counted += 1
        day -= timedelta(days=1)
    return start_of(day + timedelta(days=1), zone)


def _open_questions(
    session: Session, prefectures: Sequence[str], now: datetime, zone: ZoneInfo
) -> dict[str, list[OpenQuestion]]:
    """Questions of the last QUESTION_WINDOW nobody answered for 3 開庁日, oldest first."""
    today = now.astimezone(zone).date()
    rows = session.scalars(
        select(RegionalQuestion)
        .where(
            RegionalQuestion.prefecture.in_(prefectures),
            RegionalQuestion.answered_at.is_(None),
            RegionalQuestion.asked_at >= now - QUESTION_WINDOW,
            RegionalQuestion.asked_at < unanswered_cutoff(today, zone),
        )
        .order_by(RegionalQuestion.asked_at)
    )
    found: dict[str, list[OpenQuestion]] = defaultdict(list)
    for question in rows:
        asked_at = _aware(question.asked_at)
        found[question.prefecture or ""].append(
            OpenQuestion(
                question.channel_id,
                question.message_ts,
                question.user_id,
                asked_at,
                business_days_between(asked_at.astimezone(zone).date(), today),
            )
        )
    return found


def _aware(at: datetime) -> datetime:
    """An expression column may come back naive (UTC by construction on SQLite)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
