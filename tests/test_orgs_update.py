"""`kyoso orgs update FILE.csv [--dry-run]`: a new release of the local-government code list
(built here from the shipped file: a merger, a rename, a new code, a removal, a domain
change) reported and applied; a dry run and malformed files change nothing; statistics and
eligibility follow; the shipped master-data sync does not undo it afterwards."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, update

from bot.cli import main
from bot.clock import FixedClock
from bot.codes import check_digit
from bot.db import SessionFactory, make_session_factory
from bot.services.applications.master_data import sync_master_data
from bot.services.applications.organisations import current_directory
from bot.services.statistics import coverage
from models import (
    Application,
    ApplicationSource,
    ApplicationStatus,
    AuditEntry,
    Channel,
    ChannelCategory,
    ChannelStatus,
    Member,
    MemberStatus,
    Organisation,
    OrganisationSource,
)
from tests.support.kyoso_server import RunningKyoso
from tests.support.web_client import WebClient

HAKODATE, HOKUTO, OTARU, SAPPORO, SHIMAMAKI = "012025", "012360", "012033", "011002", "013919"
NEW_CODE = "01999" + str(check_digit("01999"))  # 北海みらい市, not in the shipped list
RELEASED = datetime(2027, 4, 1, 0, 0, tzinfo=UTC)  # after the shipped list's date
_COLUMNS = ("code", "merged_into_id", "retired_at", "source", "updated_at", "name", "name_kana")


@pytest.fixture(autouse=True)
def shipped_organisations(engine: Engine) -> Iterator[None]:
    """Set up before and torn down after `session_factory` (which keeps master rows): puts
    the organisations table back as the shipped data left it for the tests that follow."""
    factory = make_session_factory(engine)
    with factory() as session:
        snapshot = [
            {c.key: getattr(o, c.key) for c in Organisation.__table__.columns}
            for o in session.scalars(select(Organisation))
        ]
    yield
    with factory.begin() as session:
        session.execute(update(Organisation), snapshot)
        session.execute(
            delete(Organisation).where(Organisation.id.not_in([row["id"] for row in snapshot]))
        )


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> pytest.MonkeyPatch:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return monkeypatch


def _shipped() -> list[dict[str, str]]:
    text = resources.files("bot.data").joinpath("local-governments.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _write(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or [*rows[0].keys(), "merged_into"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _release(tmp_path: Path) -> Path:
    """A merger (北斗市 into 函館市), a rename (小樽市), a new code, a removal (島牧村) and a
    domain change (札幌市)."""
    rows = []
    for row in _shipped():
        row = {**row, "merged_into": ""}
        if row["code"] == SHIMAMAKI:
            continue
        if row["code"] == HOKUTO:
            row["merged_into"] = HAKODATE
        if row["code"] == OTARU:
            row.update(name="おたる市", name_kana="オタルシ", name_en="Otaru")
        if row["code"] == SAPPORO:
            row["homepage"] = "https://www.city.sapporo.lg.jp/"
        rows.append(row)
    rows.append(
        {
            "code": NEW_CODE,
            "kind": "city",
            "prefecture": "北海道",
            "name": "北海みらい市",
            "prefecture_kana": "ホッカイドウ",
            "name_kana": "ホッカイミライシ",
            "name_en": "",
            "homepage": "https://www.city.hokkaimirai.lg.jp/",
            "lat": "",
            "lng": "",
            "merged_into": "",
        }
    )
    return _write(tmp_path / "release.csv", rows)


def _org(session_factory: SessionFactory, code: str) -> Organisation:
    with session_factory() as session:
        found = session.scalar(select(Organisation).where(Organisation.code == code))
        assert found is not None, code
        session.expunge(found)
        return found


def _state(session_factory: SessionFactory) -> list[tuple[Any, ...]]:
    with session_factory() as session:
        columns = [getattr(Organisation, c) for c in _COLUMNS]
        return [tuple(r) for r in session.execute(select(*columns).order_by(Organisation.id))]


def _member(session_factory: SessionFactory, user_id: str, code: str, name: str) -> None:
    now = RELEASED.replace(year=2026)
    organisation_id = _org(session_factory, code).id
    with session_factory.begin() as session:
        session.add(
            Member(
                slack_user_id=user_id,
                real_name=name,
                organisation_id=organisation_id,
                status=MemberStatus.ACTIVE,
                is_bot=False,
                created_at=now,
                updated_at=now,
            )
        )


def _people_and_things(session_factory: SessionFactory) -> None:
    """A member in 北斗市 (merged) and in 島牧村 (removed), an open application and a
    channel of 北斗市."""
    _member(session_factory, "U0HOKUTO", HOKUTO, "北斗 花子")
    _member(session_factory, "U0SHIMA", SHIMAMAKI, "島牧 太郎")
    hokuto = _org(session_factory, HOKUTO).id
    now = RELEASED.replace(year=2026)
    with session_factory.begin() as session:
        session.add(
            Application(
                public_id="a1b2c3d4e5f60718",
                email="jiro@city.hokuto.hokkaido.jp",
                email_normalized="jiro@city.hokuto.hokkaido.jp",
                name="北斗 次郎",
                organisation_id=hokuto,
                language="ja",
                rules_version="1",
                source=ApplicationSource.WEB,
                status=ApplicationStatus.PENDING,
                outcome="eligible_local",
                submitted_at=now,
            )
        )
        session.add(
            Channel(
                slack_channel_id="C0HOKUTO",
                name="hokuto-dx",
                category=ChannelCategory.RE,
                status=ChannelStatus.ACTIVE,
                facilitating_organisation_id=hokuto,
                created_at=now,
                updated_at=now,
            )
        )


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["orgs", "update", *args], clock=FixedClock(RELEASED))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _hokkaido(session_factory: SessionFactory) -> Any:
    with session_factory() as session:
        prefectures, _ = coverage.by_prefecture(session)
    return next(p for p in prefectures if p.name == "北海道")


# --------------------------------------------------------------------------------------


def test_a_dry_run_reports_the_difference_and_changes_nothing(
    cli_env: pytest.MonkeyPatch,
    tmp_path: Path,
    session_factory: SessionFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _people_and_things(session_factory)
    before = _state(session_factory)
    code, out, err = _run(capsys, str(_release(tmp_path)), "--dry-run")
    assert code == 0, err
    assert "ドライラン" in out and "dry run" in out
    assert "追加 1 件、名称変更 1 件、合併 1 件、削除 1 件、ドメイン変更 1 件" in out
    assert "1 added, 1 renamed, 1 merged, 1 removed, 1 domain changes" in out
    assert f"{HOKUTO} 北海道北斗市 → 北海道函館市" in out
    assert f"{OTARU} 北海道小樽市 → 北海道おたる市" in out
    assert f"{NEW_CODE} 北海道北海みらい市" in out
    assert "<@U0SHIMA> 島牧 太郎" in out  # the removed village's member, for the secretariat
    assert "メンバー 1 人、審査中の申請 1 件、チャンネル 1 件" in out
    assert _state(session_factory) == before
    hokuto = _org(session_factory, HOKUTO).id
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        hokuto_member = session.scalar(select(Member).where(Member.slack_user_id == "U0HOKUTO"))
        assert hokuto_member is not None
        assert hokuto_member.organisation_id == hokuto


def test_the_update_applies_and_statistics_sync_and_eligibility_follow(
    cli_env: pytest.MonkeyPatch,
    tmp_path: Path,
    session_factory: SessionFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _people_and_things(session_factory)
    coverage_before = _hokkaido(session_factory)
    assert coverage_before.covered == 2  # 北斗市 and 島牧村

    code, out, err = _run(capsys, str(_release(tmp_path)))
    assert code == 0, err
    assert "反映しました" in out and "is applied" in out
    assert "追加 1 件、名称変更 1 件、合併 1 件、削除 1 件、ドメイン変更 1 件" in out

    hakodate, hokuto = _org(session_factory, HAKODATE), _org(session_factory, HOKUTO)
    shimamaki = _org(session_factory, SHIMAMAKI)
    assert hokuto.merged_into_id == hakodate.id and hokuto.retired_at == RELEASED
    assert _org(session_factory, SHIMAMAKI).retired_at == RELEASED
    assert _org(session_factory, SHIMAMAKI).merged_into_id is None
    otaru = _org(session_factory, OTARU)
    assert (otaru.name, otaru.name_en, otaru.source) == ("おたる市", "Otaru", "release")
    sapporo = _org(session_factory, SAPPORO)
    assert sapporo.domain == "www.city.sapporo.lg.jp"
    added = _org(session_factory, NEW_CODE)
    assert added.source is OrganisationSource.RELEASE and added.name == "北海みらい市"
    with session_factory() as session:
        member = session.scalar(select(Member).where(Member.slack_user_id == "U0HOKUTO"))
        application = session.scalar(select(Application))
        channel = session.scalar(select(Channel))
        assert member is not None and application is not None and channel is not None
        assert member.organisation_id == hakodate.id
        assert application.organisation_id == hakodate.id
        assert channel.facilitating_organisation_id == hakodate.id
        removed_member = session.scalar(select(Member).where(Member.slack_user_id == "U0SHIMA"))
        assert removed_member is not None  # kept as is, listed for the secretariat
        assert removed_member.organisation_id == shimamaki.id
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {
        "organisation.added",
        "organisation.changed",
        "organisation.merged",
        "organisation.removed",
        "member.organisation_merged",
    } <= actions

    # Statistics: retired codes are not counted; the merged one's member counts for 函館市.
    after = _hokkaido(session_factory)
    assert after.local_governments == coverage_before.local_governments - 2 + 1
    assert after.covered == 1  # 函館市 (島牧村 is retired, 北斗市 merged)

    # Eligibility decides against the table now: the new code is known, the retired ones not.
    with session_factory() as session:
        directory = current_directory(session)
        assert directory.local_government(NEW_CODE) is not None
        assert directory.local_government(HOKUTO) is None
        assert directory.local_government(SHIMAMAKI) is None

    # The shipped master-data sync (every `kyoso db upgrade`) does not undo the release.
    with session_factory.begin() as session:
        result = sync_master_data(session, clock=FixedClock(RELEASED.replace(month=5)))
    assert result.kept == 4 and result.updated == 0  # 北斗市, 島牧村, 小樽市, 札幌市
    assert _org(session_factory, OTARU).name == "おたる市"
    assert _org(session_factory, HOKUTO).retired_at == RELEASED
    assert _org(session_factory, SAPPORO).homepage == "https://www.city.sapporo.lg.jp/"

    # The same release again: nothing left to change.
    code, out, _ = _run(capsys, str(_release(tmp_path)))
    assert code == 0 and "団体の表はこの版と同じです。" in out


def test_eligibility_accepts_the_new_code_on_the_page(
    kyoso: RunningKyoso,
    cli_env: pytest.MonkeyPatch,
    tmp_path: Path,
    session_factory: SessionFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(capsys, str(_release(tmp_path)))[0] == 0
    client = WebClient(kyoso.base_url)
    form = client.get("/apply", prefecture="北海道")
    assert NEW_CODE in [value for value, _, _ in form.options("lg_code")]
    response = client.post(
        "/apply",
        {
            "action": "submit",
            "lang": "ja",
            "name": "未来 花子",
            "email": "hanako@city.hokkaimirai.lg.jp",
            "org_kind": "lg",
            "prefecture": "北海道",
            "lg_code": NEW_CODE,
            "code": "",
            "agency": "",
            "department": "企画課",
            "rules": "yes",
            "website": "",
            "had_account": "no",
            "csrf_token": form.field("csrf_token") or "",
            "rules_version": form.field("rules_version") or "",
        },
    )
    assert response.status == 303, response.plain
    added = _org(session_factory, NEW_CODE).id
    with session_factory() as session:
        application = session.scalar(select(Application))
        assert application is not None
        assert application.organisation_id == added
        assert application.outcome == "eligible_local"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("bad_check_digit", "団体コード「011003」が正しくありません"),
        ("unknown_successor", "合併先 012033 が、この版の団体にありません"),
        ("duplicate", "団体コード 011002 が複数の行"),
        ("missing_column", "必要な列がありません: homepage"),
    ],
)
def test_a_malformed_file_is_refused_and_nothing_changes(
    cli_env: pytest.MonkeyPatch,
    tmp_path: Path,
    session_factory: SessionFactory,
    capsys: pytest.CaptureFixture[str],
    change: str,
    message: str,
) -> None:
    rows = [{**row, "merged_into": ""} for row in _shipped()]
    columns = None
    if change == "bad_check_digit":
        rows[1]["code"] = "011003"
    elif change == "unknown_successor":  # merges into a code the release drops
        rows = [r for r in rows if r["code"] != OTARU]
        next(r for r in rows if r["code"] == HOKUTO)["merged_into"] = OTARU
    elif change == "duplicate":
        rows.append(dict(rows[1]))
    else:
        columns = [c for c in rows[0] if c != "homepage"]
    before = _state(session_factory)
    code, out, err = _run(capsys, str(_write(tmp_path / "bad.csv", rows, columns)))
    assert code == 2 and out == ""
    assert message in err and "Nothing was changed." in err
    assert _state(session_factory) == before
