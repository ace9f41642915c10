"""End to end over signed HTTP: the ambassador's App Home section for 岩手県 (coverage and the
municipalities with no member, newcomers greeted or not, a question unanswered for 3 business
days, a search that found nothing), the outreach CSV in their DM, refusals, a term that ended,
and the whole Home within Block Kit's limits with 1,788 organisations and 15,000 members."""

from __future__ import annotations

import itertools
import json
import logging
import random
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.ambassadors import (
    AmbassadorSection,
    Newcomer,
    OpenQuestion,
    PrefectureOverview,
    SearchGap,
    UncoveredMunicipality,
)
from bot.regions import PREFECTURES
from bot.services.ambassadors.overview import unanswered_cutoff
from bot.services.dashboard.home import home_page
from bot.services.knowledge.gaps import log_gap
from bot.services.statistics.coverage import LOCAL_GOVERNMENT_KINDS
from bot.views.ambassadors.home import ambassador_blocks
from bot.views.dashboard.home import home_view
from models import (
    AmbassadorAppointment,
    AmbassadorGreeting,
    AppointmentStatus,
    AuditEntry,
    Channel,
    ChannelCategory,
    ChannelStatus,
    GreetingStatus,
    Member,
    MemberStatus,
    Organisation,
    RegionalQuestion,
    Role,
)
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender
from tests.test_exports import read_like_excel
from tests.test_statistics import JST, add_member, ago, jst, org_id

log = logging.getLogger(__name__)

AMBASSADOR, FORMER, MEMBER, SECRETARY = "U0AMB", "U0FORMER", "U0MEM", "U0SEC"
NEWCOMER_GREETED, NEWCOMER_WAITING, ASKER, HELPER = "U0NEW1", "U0NEW2", "U0ASK", "U0HELP"
IWATE_CHANNEL = "C0IWATE"
MORIOKA, MIYAKO, HANAMAKI, SAPPORO = "032018", "032026", "032051", "011002"
_ids = itertools.count(1)


def _appoint(
    session: Session,
    member: Member,
    *,
    prefectures: list[str] | None = None,
    region: str | None = None,
    ends_on: date = date(2027, 3, 31),
    status: AppointmentStatus = AppointmentStatus.ACTIVE,
) -> None:
    session.add(
        AmbassadorAppointment(
            public_id=f"AMB{next(_ids):05d}",
            member_id=member.id,
            status=status,
            prefectures=prefectures or [],
            region=region,
            starts_on=date(2026, 4, 1),
            ends_on=ends_on,
            appointed_by=SECRETARY,
            coverage_at_start={},
            created_at=ago(days=200),
            updated_at=ago(days=200),
        )
    )
    session.flush()


def _greeting(session: Session, member: Member, *, claimed_by: str | None) -> None:
    session.add(
        AmbassadorGreeting(
            member_id=member.id,
            status=GreetingStatus.CLAIMED if claimed_by else GreetingStatus.OPEN,
            prefecture="岩手県",
            mentioned=[AMBASSADOR],
            claimed_by=claimed_by,
            claimed_at=ago(days=3) if claimed_by else None,
            created_at=ago(days=4),
            updated_at=ago(days=3),
        )
    )


@pytest.fixture(autouse=True)
def _iwate(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    for user_id in (AMBASSADOR, FORMER, MEMBER, SECRETARY, ASKER, HELPER):
        emulator.add_user(user_id, name=user_id.lower(), locale="ja-JP")
    with session_factory.begin() as session:
        morioka = org_id(session, code=MORIOKA)
        ambassador = add_member(
            session,
            AMBASSADOR,
            organisation_id=morioka,
            joined_at=ago(days=400),
            last_seen_at=ago(days=1),
            roles=(Role.AMBASSADOR,),
        )
        _appoint(session, ambassador, prefectures=["岩手県"])
        former = add_member(
            session,
            FORMER,
            organisation_id=morioka,
            joined_at=ago(days=700),
            roles=(Role.AMBASSADOR,),  # the role not yet taken back: the term decides
        )
        _appoint(session, former, prefectures=["岩手県"], ends_on=date(2026, 11, 23))
        add_member(session, "U0OLD", organisation_id=morioka, joined_at=jst(2026, 10, 1, 9))
        for user_id in (ASKER, HELPER):
            add_member(
                session,
                user_id,
                organisation_id=morioka,
                joined_at=ago(days=300),
                last_seen_at=ago(days=5),
            )
        greeted = add_member(
            session,
            NEWCOMER_GREETED,
            organisation_id=org_id(session, code=MIYAKO),
            joined_at=jst(2026, 11, 10, 9),
            last_seen_at=ago(days=2),
        )
        _greeting(session, greeted, claimed_by=AMBASSADOR)
        waiting = add_member(
            session,
            NEWCOMER_WAITING,
            organisation_id=org_id(session, code=HANAMAKI),
            joined_at=jst(2026, 11, 20, 9),
        )
        _greeting(session, waiting, claimed_by=None)
        sapporo = org_id(session, code=SAPPORO)
        add_member(session, MEMBER, organisation_id=sapporo, joined_at=jst(2026, 11, 2, 9))
        add_member(session, SECRETARY, organisation_id=sapporo, roles=(Role.SECRETARIAT,))
        session.add(
            Channel(
                slack_channel_id=IWATE_CHANNEL,
                name="デジ_re_岩手県",
                category=ChannelCategory.RE,
                status=ChannelStatus.ACTIVE,
                prefecture="岩手県",
                created_at=ago(days=365),
                updated_at=ago(days=365),
            )
        )
        log_gap(session, clock=clock, query="除雪車 共同調達", prefecture="岩手県")
        log_gap(session, clock=clock, query="牡蠣 養殖 補助", prefecture="宮城県")


def _ts(at: datetime) -> str:
    return f"{at.timestamp():.6f}"


def _message(
    slack: SlackSender, user: str, at: datetime, text: str, **extra: Any
) -> tuple[str, dict[str, Any]]:
    ts = _ts(at)
    event = {
        "type": "message",
        "channel": IWATE_CHANNEL,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        **extra,
    }
    assert slack.event(event).status == 200
    return ts, event


def _questions(session_factory: SessionFactory) -> dict[str, RegionalQuestion]:
    with session_factory() as session:
        return {q.message_ts: q for q in session.scalars(select(RegionalQuestion))}


def _open_home(slack: SlackSender, user_id: str) -> None:
    response = slack.event(
        {"type": "app_home_opened", "user": user_id, "tab": "home", "channel": "D0" + user_id}
    )
    assert response.status == 200


def _home(emulator: SlackEmulator, user_id: str, containing: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        home = emulator.published_home(user_id)
        return home if home and containing in json.dumps(home, ensure_ascii=False) else None

    found = wait_for(probe, timeout=30)
    _within_limits(found)
    return found


def _within_limits(home: dict[str, Any]) -> None:
    assert len(home["blocks"]) <= 100
    for block in home["blocks"]:
        assert len((block.get("text") or {}).get("text", "")) <= 3000
        for field in block.get("fields") or []:
            assert len(field["text"]) <= 2000


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _ask_questions(slack: SlackSender, session_factory: SessionFactory) -> dict[str, str]:
    """Wednesday 11/18 (3 開庁日 before Tuesday 11/24: Monday 11/23 is 勤労感謝の日) and Thursday
    11/19 (only 2 開庁日); one Wednesday question answered, one only followed up by its asker."""
    open_ts, event = _message(
        slack, ASKER, jst(2026, 11, 18, 10), "除雪車の入札はどうしていますか？"
    )
    slack.event(event, retry_num=1)  # Slack retries: still one question
    answered_ts, _ = _message(slack, ASKER, jst(2026, 11, 18, 11), "防災無線の更新、教えてください")
    young_ts, _ = _message(slack, ASKER, jst(2026, 11, 19, 9), "公用車の共同利用はできるでしょうか")
    _message(slack, ASKER, jst(2026, 11, 19, 12), "研修の報告です。資料を共有します")  # no question
    _message(slack, HELPER, jst(2026, 11, 19, 13), "参加しました", subtype="channel_join")
    _message(slack, "U0BOT", jst(2026, 11, 19, 14), "これは何ですか？", bot_id="B0BOT")
    wait_for(lambda: len(_questions(session_factory)) == 3, timeout=10)
    _message(slack, ASKER, jst(2026, 11, 19, 15), "補足です", thread_ts=open_ts)
    _message(slack, HELPER, jst(2026, 11, 20, 10), "うちは共同発注です", thread_ts=answered_ts)
    wait_for(lambda: _questions(session_factory)[answered_ts].answered_at is not None, timeout=10)
    return {"open": open_ts, "answered": answered_ts, "young": young_ts}


def test_questions_are_recorded_without_their_text(
    slack: SlackSender, session_factory: SessionFactory
) -> None:
    asked = _ask_questions(slack, session_factory)
    time.sleep(0.5)  # a stray listener would have written by now
    questions = _questions(session_factory)
    assert set(questions) == set(asked.values())
    question = questions[asked["open"]]
    assert (question.user_id, question.prefecture, question.answered_at) == (
        ASKER,
        "岩手県",
        None,  # the asker's own follow-up is no answer
    )
    assert questions[asked["answered"]].answered_at == jst(2026, 11, 20, 10).astimezone(UTC)
    # Only when and by whom: the table has no column a text could go into.
    assert not {"text", "body", "excerpt"} & set(RegionalQuestion.__table__.columns.keys())


def test_the_cutoff_counts_business_days_and_holidays() -> None:
    # Tuesday 11/24 2026: Monday 11/23 is a holiday, so Wednesday is the latest day 3 開庁日
    # old (Thursday has only Friday and Tuesday after it).
    assert unanswered_cutoff(date(2026, 11, 24), JST) == jst(2026, 11, 19, 0)
    assert unanswered_cutoff(date(2026, 11, 26), JST) == jst(2026, 11, 24, 0)


def test_an_ambassador_sees_their_prefecture(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    asked = _ask_questions(slack, session_factory)
    _open_home(slack, AMBASSADOR)
    home = _home(emulator, AMBASSADOR, "アンバサダー: 担当の都道府県")
    blocks = home["blocks"]
    assert blocks[0]["text"]["text"] == "アンバサダー: 担当の都道府県"  # above their own page
    iwate = next(b["text"]["text"] for b in blocks if "*岩手県*" in _text(b))
    assert "会員 7 人（30日以内に活動 4 人）" in iwate  # 3 not seen lately
    assert "市町村のカバー率 3 / 33（9.1%）" in iwate and "県庁: 未参加" in iwate
    assert "今月の新規参加 2 人（あいさつ済み 1 人）" in iwate
    assert f"⏳ <@{NEWCOMER_WAITING}>" in iwate
    assert f"✅ <@{NEWCOMER_GREETED}>（<@{AMBASSADOR}>）" in iwate
    assert "U0OLD" not in iwate and MEMBER not in iwate
    assert "3 開庁日以上回答のない質問 1 件" in iwate
    assert asked["open"].replace(".", "") in iwate and f"<#{IWATE_CHANNEL}>" in iwate
    assert asked["answered"].replace(".", "") not in iwate
    assert asked["young"].replace(".", "") not in iwate
    assert "（3 開庁日）" in iwate and f"<@{ASKER}>" in iwate
    assert "会員のいない市町村 30 件" in iwate
    assert "<https://www.city.ofunato.iwate.jp/|大船渡市>" in iwate
    assert "city.morioka" not in iwate and "city.miyako" not in iwate
    assert "「除雪車 共同調達」1 回" in iwate and "牡蠣" not in iwate
    export = [b for b in blocks if ids.AMBASSADORS_EXPORT_UNCOVERED in _text(b)]
    assert export and "未参加の自治体を CSV で" in _text(export)
    assert "/kyoso help" in _text(blocks[-2:])  # their own page follows


def test_the_export_arrives_in_the_ambassadors_dm(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    _open_home(slack, AMBASSADOR)
    home = _home(emulator, AMBASSADOR, "アンバサダー")
    slack.block_action(ids.AMBASSADORS_EXPORT_UNCOVERED, "uncovered", user_id=AMBASSADOR, view=home)
    files = wait_for(lambda: [f for f in emulator.files() if f["completed"]])
    assert len(files) == 1
    exported = files[0]
    assert exported["channels"] == [emulator.im_channel_id(AMBASSADOR)]
    assert exported["name"].startswith("kyoso-uncovered-") and exported["name"].endswith(".csv")
    rows = read_like_excel(exported["content"])
    assert rows[0] == ["団体コード", "都道府県", "自治体名", "ふりがな", "ホームページ"]
    assert len(rows) == 1 + 30
    assert rows[1] == [
        "032034",
        "岩手県",
        "大船渡市",
        "オオフナトシ",
        "https://www.city.ofunato.iwate.jp/",
    ]
    codes = [r[0] for r in rows[1:]]
    assert codes == sorted(codes) and not {MORIOKA, MIYAKO, HANAMAKI, "030007"} & set(codes)
    assert all(r[1] == "岩手県" for r in rows[1:])
    with session_factory() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export.ambassador_uncovered")
        ).one()
    assert entry.actor == AMBASSADOR and entry.details["rows"] == 30


def test_a_member_sees_no_section_and_cannot_export(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    _open_home(slack, MEMBER)
    home = _home(emulator, MEMBER, "共創プラットフォームへようこそ")
    assert "アンバサダー: 担当" not in _text(home)
    assert ids.AMBASSADORS_EXPORT_UNCOVERED not in _text(home)
    slack.block_action(ids.AMBASSADORS_EXPORT_UNCOVERED, "uncovered", user_id=MEMBER, view=home)
    refusal = wait_for(lambda: emulator.dm_messages(MEMBER))
    assert "アンバサダーと事務局のみ" in refusal[-1]["text"]
    time.sleep(0.3)
    assert emulator.files() == [] and not emulator.calls_to("files.getUploadURLExternal")
    with session_factory() as session:
        exported = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("export.%"))
        )
    assert exported == 0


def test_a_term_that_ended_shows_nothing(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    _open_home(slack, FORMER)
    home = _home(emulator, FORMER, "共創プラットフォームへようこそ")
    assert "アンバサダー: 担当" not in _text(home) and "岩手県*" not in _text(home)
    # The role lingers until the appointments flow takes it back: the guard lets the click
    # through, and the export finds no prefecture served today.
    slack.block_action(ids.AMBASSADORS_EXPORT_UNCOVERED, "uncovered", user_id=FORMER, view=home)
    told = wait_for(lambda: emulator.dm_messages(FORMER))
    assert "担当している都道府県がない" in told[-1]["text"]
    assert emulator.files() == []


# --- the whole country seeded --------------------------------------------------------------------


def _seed_members(session: Session, count: int) -> None:
    """`count` members spread over most local governments (a few left uncovered each)."""
    rng = random.Random(15)
    organisations = session.scalars(
        select(Organisation.id).where(
            Organisation.kind.in_(LOCAL_GOVERNMENT_KINDS), Organisation.retired_at.is_(None)
        )
    ).all()
    assert len(organisations) == 1788
    covered = rng.sample(list(organisations), k=1500)
    rows = [
        {
            "slack_user_id": f"U9{n:07d}",
            "organisation_id": covered[n % len(covered)],
            "status": MemberStatus.ACTIVE,
            "is_bot": False,
            "joined_at": ago(days=rng.randint(0, 900)),
            "last_seen_at": ago(days=rng.randint(0, 120)),
            "created_at": ago(days=900),
            "updated_at": DEFAULT_NOW,
        }
        for n in range(count)
    ]
    session.execute(insert(Member), rows)


def test_a_region_fits_with_the_whole_country_seeded(
    slack: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    with session_factory.begin() as session:
        _seed_members(session, 15_000)
        secretary = session.scalars(select(Member).where(Member.slack_user_id == SECRETARY)).one()
        _appoint(session, secretary, region="hokkaido_tohoku")
        member = session.scalars(select(Member).where(Member.slack_user_id == MEMBER)).one()
        _appoint(session, member, region="hokkaido_tohoku")
        hokkaido = session.scalar(
            select(func.count()).where(
                Organisation.prefecture == "北海道",
                Organisation.kind.in_(LOCAL_GOVERNMENT_KINDS[1:]),
                Organisation.retired_at.is_(None),
            )
        )
    assert hokkaido == 179

    started = time.perf_counter()
    with session_factory() as session:
        page = home_page(session, MEMBER, language="ja", now=DEFAULT_NOW, zone=JST)
    built = time.perf_counter() - started
    log.info("ambassador Home for 北海道・東北 with 15,000 members built in %.3f s", built)
    print(f"ambassador Home (北海道・東北, 15,000 members) built in {built:.3f} s")
    assert page.ambassador is not None and len(page.ambassador.prefectures) == 7
    assert built < 5.0
    for language in ("ja", "en"):
        _within_limits(home_view(page, language, DEFAULT_NOW).to_dict())  # type: ignore[arg-type]

    for user_id in (MEMBER, SECRETARY):
        _open_home(slack, user_id)
        home = _home(emulator, user_id, "アンバサダー: 担当の都道府県")
        text = _text(home)
        for prefecture in ("北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"):
            assert f"*{prefecture}*" in text, prefecture
        assert "会員のいない市町村" in text and "ほか" in text
        assert "/kyoso help" in _text(home["blocks"][-2:])  # nothing cut off the end
    assert "事務局ダッシュボード" in _text(emulator.published_home(SECRETARY))


def test_every_prefecture_in_a_tight_budget_stays_within_limits() -> None:
    """An appointment for every region, long lists, little room left on the Home."""

    def overview(prefecture: str) -> PrefectureOverview:
        return PrefectureOverview(
            prefecture=prefecture,
            name_en=None,
            members=15_000,
            active=9_000,
            municipalities=179,
            municipalities_covered=19,
            government_covered=True,
            uncovered=tuple(
                UncoveredMunicipality(f"{n:06d}", "とても長い名前の町" * 3, "https://" + "a" * 90)
                for n in range(30)
            ),
            newcomers=tuple(Newcomer(f"U{n:010d}", DEFAULT_NOW, "U0AMB") for n in range(10)),
            newcomers_total=400,
            newcomers_greeted=200,
            questions=tuple(
                OpenQuestion("C0IWATE", "1763500000.000100", "U0ASK", DEFAULT_NOW, 9)
                for _ in range(5)
            ),
            questions_total=40,
            gaps=tuple(SearchGap("検索語" * 60, 3) for _ in range(5)),
        )

    for count, budget in ((1, 100), (7, 100), (47, 100), (47, 30)):
        section = AmbassadorSection(tuple(overview(p) for p in PREFECTURES[:count]))
        for language in ("ja", "en"):
            blocks = ambassador_blocks(
                section, language, DEFAULT_NOW, workspace_url="https://x.slack.com/", budget=budget
            )
            rendered = [b.to_dict() for b in blocks]  # slack_sdk checks its own limits too
            assert len(rendered) <= budget
            assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in rendered)
            if count + 4 > budget:
                assert "CSV" in _text(rendered[-3])
