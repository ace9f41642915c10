"""The registration page over real HTTP against the running app, as a browser without
JavaScript uses it; the eligibility texts; the pieces (tokens, rate limit, lookup)."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db import SessionFactory
from bot.eligibility.decision import decide
from bot.eligibility.directory import OrganisationDirectory
from bot.eligibility.verdict import ApplicationInput, ReasonCode, no_history
from bot.i18n import LANGUAGES, catalogue, t
from bot.i18n.reasons import CASE_PARAMS, OPTIONAL_PARAMS, reason_key, reason_text
from bot.proxies import TrustedProxies
from bot.services.applications import organisations as lookup
from bot.services.rules import BUILTIN_VERSION
from handlers.registration.csrf import CSRF_COOKIE, CsrfTokens
from handlers.registration.limits import RateLimiter, client_address
from models import Application, ApplicationSource, AuditEntry, OutboundEmail, RulesVersion
from tests.support.kyoso_server import RunningKyoso, wait_for
from tests.support.slack_emulator import SlackEmulator
from tests.support.web_client import Page, WebClient

SAPPORO = "011002"


def _applications(session_factory: SessionFactory) -> list[Application]:
    with session_factory() as session:
        return list(session.scalars(select(Application).order_by(Application.id)))


def _count(session_factory: SessionFactory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Application)) or 0


def _valid(**overrides: str) -> dict[str, str]:
    fields = {
        "action": "submit",
        "lang": "ja",
        "name": "山田 花子",
        "email": "ｈａｎａｋｏ．ｙａｍａｄａ＠city.sapporo.lg.jp",  # full width, as people type
        "org_kind": "lg",
        "prefecture": "北海道",
        "lg_code": SAPPORO,
        "code": "",
        "agency": "",
        "department": "総務局 情報システム部",
        "rules": "yes",
        "website": "",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def _form(client: WebClient, lang: str = "ja") -> Page:
    page = client.get("/apply", lang=lang)
    assert page.status == 200
    return page


def _submit(client: WebClient, lang: str = "ja", **overrides: str) -> Page:
    page = _form(client, lang)
    token = page.field("csrf_token")
    assert token
    return client.post(
        "/apply",
        {
            **_valid(lang=lang),
            "csrf_token": token,
            "rules_version": page.field("rules_version") or "",
        }
        | overrides,
    )


# --------------------------------------------------------------------------------------
# Showing the page


def test_the_page_is_japanese_by_default(kyoso: RunningKyoso) -> None:
    client = WebClient(kyoso.base_url)
    page = client.get("/apply")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html; charset=utf-8")
    assert '<html lang="ja">' in page.text
    assert "参加申請" in page.text and "利用規約" in page.text
    assert "機密性3" in page.plain  # the key rules are on the page itself
    # every field has a label
    for field_id in ("name", "email", "prefecture", "lg_code", "code", "agency", "department"):
        assert f'<label for="{field_id}">' in page.text, field_id
        assert f'id="{field_id}"' in page.text
    assert '<label for="rules">' in page.text
    # the switch to English, and nothing fetched from another host (LGWAN blocks CDNs)
    assert 'href="/apply?lang=en"' in page.text and ">English</a>" in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert '<meta name="viewport"' in page.text
    # all 47 prefectures, in code order
    prefectures = [value for value, _, _ in page.options("prefecture") if value]
    assert len(prefectures) == 47
    assert prefectures[0] == "北海道" and prefectures[-1] == "沖縄県"
    assert len([v for v, _, _ in page.options("agency") if v]) >= 30
    assert client.cookie(CSRF_COOKIE)
    assert page.field("rules_version") == BUILTIN_VERSION


def test_the_page_in_english(kyoso: RunningKyoso) -> None:
    page = WebClient(kyoso.base_url).get("/apply", lang="en")
    assert page.status == 200
    assert '<html lang="en">' in page.text
    assert "Apply to join" in page.text and "usage rules" in page.text
    assert 'href="/apply?lang=ja"' in page.text and ">日本語</a>" in page.text
    assert "参加申請" not in page.text
    assert ("digital", "Digital Agency（デジタル庁）", False) in page.options("agency")
    assert page.field("lang") == "en"


def test_static_files_are_served_locally(kyoso: RunningKyoso) -> None:
    client = WebClient(kyoso.base_url)
    css = client.get("/apply/static/registration/apply.css")
    js = client.get("/apply/static/registration/apply.js")
    assert css.status == 200 and "text/css" in css.headers["Content-Type"]
    assert js.status == 200 and "javascript" in js.headers["Content-Type"]


def test_a_prefecture_link_lists_its_local_governments(kyoso: RunningKyoso) -> None:
    page = WebClient(kyoso.base_url).get("/apply", prefecture="北海道")
    options = page.options("lg_code")
    labels = {value: label for value, label, _ in options}
    assert labels[SAPPORO] == "札幌市（011002）"
    assert labels["010006"] == "北海道（都道府県）（010006）"
    assert "472018" not in labels  # 那覇市 is in Okinawa
    assert len([v for v in labels if v]) == 180  # the prefecture and its 179 municipalities
    assert ("北海道", "北海道", True) in page.options("prefecture")
    # the language switch keeps the prefecture
    assert "/apply?lang=en&amp;prefecture=" in page.text


def test_lookup_without_javascript_keeps_what_was_typed(
    kyoso: RunningKyoso, session_factory: SessionFactory
) -> None:
    client = WebClient(kyoso.base_url)
    page = client.post(
        "/apply",
        _valid(action="lookup", prefecture="沖縄県", lg_code="", org_query="なは", rules=""),
    )
    assert page.status == 200
    assert page.field("name") == "山田 花子"
    assert page.field("department") == "総務局 情報システム部"
    assert page.field("org_query") == "なは"
    assert [(v, label) for v, label, _ in page.options("lg_code") if v] == [
        ("472018", "那覇市（472018）")
    ]
    assert "autofocus" in page.text  # the list takes the focus
    assert _count(session_factory) == 0  # a lookup stores nothing

    # a name without a prefecture searches the whole country
    page = client.post("/apply", _valid(action="lookup", prefecture="", org_query="札幌"))
    assert SAPPORO in [v for v, _, _ in page.options("lg_code")]


# --------------------------------------------------------------------------------------
# Submitting


def test_a_valid_application_is_stored_and_sent_to_review(
    kyoso: RunningKyoso, session_factory: SessionFactory, emulator: SlackEmulator
) -> None:
    client = WebClient(kyoso.base_url)
    response = _submit(client)
    assert response.status == 303, response.plain
    location = response.headers["Location"]
    match = re.fullmatch(r"/apply/done/([0-9a-f]{16})\?lang=ja", location)
    assert match, location
    public_id = match.group(1)

    [application] = _applications(session_factory)
    assert application.public_id == public_id
    assert application.source is ApplicationSource.WEB
    assert application.email_normalized == "hanako.yamada@city.sapporo.lg.jp"
    assert application.name == "山田 花子"
    assert application.department == "総務局 情報システム部"
    assert application.outcome == "eligible_local"
    assert application.rules_version == BUILTIN_VERSION
    assert application.organisation_id is not None
    assert application.language == "ja"

    done = client.get(location)
    assert done.status == 200
    assert public_id in done.text
    assert "申請を受け付けました" in done.text
    # Tuesday 24 November 2026: three 開庁日 later is Friday the 27th
    assert "3開庁日以内（2026年11月27日（金）まで）" in done.plain
    assert "hanako" not in done.text  # the done page shows no personal data

    messages = wait_for(lambda: emulator.messages("C0REVIEW"))
    assert len(messages) == 1
    assert "山田 花子" in str(messages[0]) and f"'value': '{public_id}'" in str(messages[0])
    with session_factory() as session:
        [email] = session.scalars(select(OutboundEmail)).all()
    assert email.key == f"application:{public_id}:received"
    assert email.to_address == "hanako.yamada@city.sapporo.lg.jp"
    assert public_id in email.body

    # reloading the done page submits nothing again
    assert client.get(location).status == 200
    assert _count(session_factory) == 1


def test_the_done_page_in_english_and_an_unknown_id(kyoso: RunningKyoso) -> None:
    client = WebClient(kyoso.base_url)
    response = _submit(client, lang="en")
    assert response.status == 303
    done = client.get(response.headers["Location"])
    assert "Application received" in done.text
    assert "within 3 business days (by Friday 27 November 2026)" in done.plain
    missing = client.get("/apply/done/0123456789abcdef", lang="en")
    assert missing.status == 404 and "Page not found" in missing.text


def test_an_agency_application(kyoso: RunningKyoso, session_factory: SessionFactory) -> None:
    response = _submit(
        WebClient(kyoso.base_url),
        email="jiro.suzuki@digital.go.jp",
        org_kind="agency",
        agency="digital",
        lg_code="",
    )
    assert response.status == 303
    [application] = _applications(session_factory)
    assert application.outcome == "eligible_agency"


def test_a_duplicate_is_refused_politely_and_nothing_is_stored(
    kyoso: RunningKyoso, session_factory: SessionFactory
) -> None:
    client = WebClient(kyoso.base_url)
    assert _submit(client).status == 303
    again = _submit(client, email="Hanako.Yamada@City.Sapporo.LG.JP", name="山田 花子")
    assert again.status == 422
    assert (
        "このメールアドレス（hanako.yamada@city.sapporo.lg.jp）での申請をすでにお受けしており"
        in again.plain
    )
    assert "入力内容をご確認ください" in again.text
    assert 'aria-invalid="true"' in again.text
    # what was typed is still there
    assert again.field("email") == "Hanako.Yamada@City.Sapporo.LG.JP"
    assert again.field("department") == "総務局 情報システム部"
    assert [v for v, _, selected in again.options("lg_code") if selected] == [SAPPORO]
    assert _count(session_factory) == 1


def test_a_refusal_in_english(kyoso: RunningKyoso, session_factory: SessionFactory) -> None:
    page = _submit(
        WebClient(kyoso.base_url), lang="en", email="taro@city.sapporo.lg.jp.example.com"
    )
    assert page.status == 422
    assert 'resembles "lg.jp"' in page.plain
    assert _count(session_factory) == 0


def test_a_wrong_check_digit_suggests_the_code(
    kyoso: RunningKyoso, session_factory: SessionFactory
) -> None:
    page = _submit(WebClient(kyoso.base_url), lg_code="", code="０１１００３")  # full width
    assert page.status == 422
    assert "検査数字（6桁目）が合いません" in page.plain
    assert "「011002（北海道札幌市）」ではありませんか" in page.plain
    assert page.field("code") == "０１１００３"
    assert _count(session_factory) == 0


def test_a_code_and_a_different_choice_conflict(
    kyoso: RunningKyoso, session_factory: SessionFactory
) -> None:
    page = _submit(WebClient(kyoso.base_url), code="472018")
    assert page.status == 422
    assert "一覧で選んだ団体（札幌市（011002））と、入力した団体コード（472018）が異なります" in (
        page.plain
    )
    assert _count(session_factory) == 0


def test_required_fields_and_the_rules_confirmation(
    kyoso: RunningKyoso, session_factory: SessionFactory
) -> None:
    client = WebClient(kyoso.base_url)
    page = _submit(client, rules="")
    assert page.status == 422
    assert "利用規約を読み、同意の欄にチェックを入れてください。" in page.plain
    assert '<a href="#rules">' in page.text

    page = _submit(client, name="", email="", department="", lg_code="")
    assert page.status == 422
    for text in (
        "氏名を入力してください",
        "メールアドレスを入力してください",
        "部署を入力してください",
    ):
        assert text in page.plain
    assert "所属の団体を一覧から選ぶか、団体コードを入力してください" in page.plain
    assert _count(session_factory) == 0


def test_a_post_without_a_valid_token_is_refused(
    kyoso: RunningKyoso, session_factory: SessionFactory, emulator: SlackEmulator
) -> None:
    client = WebClient(kyoso.base_url)
    _form(client)
    page = client.post("/apply", _valid(csrf_token="forged.1700000000.deadbeef"))
    assert page.status == 400
    assert "ページの有効期限が切れたか" in page.plain
    assert page.field("name") == "山田 花子"  # nothing typed is lost
    assert page.field("csrf_token")  # a fresh token to try again with

    # a valid token from another visitor does not match this visitor's cookie
    other = _form(WebClient(kyoso.base_url)).field("csrf_token") or ""
    assert client.post("/apply", _valid(csrf_token=other)).status == 400
    # no cookie at all (a cross-site post, or cookies blocked)
    fresh = WebClient(kyoso.base_url)
    assert fresh.post("/apply", _valid(csrf_token=other)).status == 400

    assert _count(session_factory) == 0
    assert emulator.messages("C0REVIEW") == []


def test_a_filled_honeypot_stores_nothing(
    kyoso: RunningKyoso, session_factory: SessionFactory, emulator: SlackEmulator
) -> None:
    page = _submit(WebClient(kyoso.base_url), website="http://spam.example.com")
    assert page.status == 200
    assert "送信しました" in page.text
    assert _count(session_factory) == 0
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert emulator.messages("C0REVIEW") == []


def test_too_many_submissions_are_slowed_down(
    kyoso: RunningKyoso, session_factory: SessionFactory
) -> None:
    client = WebClient(kyoso.base_url)
    token = _form(client).field("csrf_token") or ""
    for _ in range(10):
        assert client.post("/apply", _valid(csrf_token=token, rules="")).status == 422
    page = client.post("/apply", _valid(csrf_token=token))
    assert page.status == 429
    assert int(page.headers["Retry-After"]) > 0
    assert "分ほど待ってから、もう一度お試しください" in page.plain
    assert page.field("name") == "山田 花子"
    # looking organisations up is not a submission
    assert client.post("/apply", _valid(action="lookup", csrf_token=token)).status == 200
    assert _count(session_factory) == 0


def test_published_rules_are_shown_and_recorded(
    kyoso: RunningKyoso, session_factory: SessionFactory, clock: Any
) -> None:
    with session_factory.begin() as session:
        session.add(
            RulesVersion(
                version="2026-10",
                text_ja="第1条 この規約は…",
                text_en="Article 1. These rules…",
                published_at=clock.now() - timedelta(days=30),
                published_by="U0SECRETARY",
            )
        )
    client = WebClient(kyoso.base_url)
    rules = client.get("/apply/rules")
    assert rules.status == 200 and "第1条 この規約は…" in rules.text and "2026-10" in rules.text
    assert "Article 1." in client.get("/apply/rules", lang="en").text
    assert _submit(client).status == 303
    # an edited hidden field cannot claim a version that does not exist
    assert _submit(client, email="b@city.sapporo.lg.jp", rules_version="99").status == 303
    assert [a.rules_version for a in _applications(session_factory)] == ["2026-10", "2026-10"]


def test_the_rules_page_without_published_rules(kyoso: RunningKyoso) -> None:
    page = WebClient(kyoso.base_url).get("/apply/rules")
    assert page.status == 200
    assert f"版: {BUILTIN_VERSION}" in page.plain
    assert "<h2>1. 投稿は個人の意見として</h2>" in page.text  # mrkdwn bold as a heading
    assert "*" not in page.plain
    assert "機密性3" in page.plain


def test_member_text_is_escaped(kyoso: RunningKyoso) -> None:
    page = _submit(WebClient(kyoso.base_url), name="<script>alert(1)</script>", rules="")
    assert page.status == 422
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


# --------------------------------------------------------------------------------------
# The eligibility texts: every reason, both languages, its own params


# The params each ReasonCode carries (bot/eligibility/verdict.py notes them); optional ones too.
_SAMPLE_PARAMS: dict[ReasonCode, list[dict[str, str]]] = {
    ReasonCode.EMAIL_INVALID: [
        {"problem": p}
        for p in (
            "empty",
            "missing_at",
            "empty_local",
            "empty_domain",
            "too_long",
            "characters",
            "dots",
            "whitespace",
        )
    ],
    ReasonCode.EMAIL_NON_ASCII: [{"characters": "U+3042 U+200B"}],
    ReasonCode.EMAIL_QUOTED_LOCAL: [{}],
    ReasonCode.EMAIL_MULTIPLE_AT: [{}],
    ReasonCode.EMAIL_SUBADDRESS: [{"separator": "+", "plain": "taro"}],
    ReasonCode.EMAIL_ROUTING: [{"character": "%"}],
    ReasonCode.EMAIL_UNUSUAL_LOCAL_PART: [{"characters": "#&"}],
    ReasonCode.EMAIL_DUPLICATE: [
        {"status": s, "email": "taro@city.x.lg.jp"} for s in ("pending", "approved", "member")
    ],
    ReasonCode.REAPPLICATION_AFTER_REJECTION: [{}],
    ReasonCode.REAPPLICATION_AFTER_DELETION: [{}],
    ReasonCode.DOMAIN_TRAILING_DOT: [{}],
    ReasonCode.DOMAIN_EMPTY_LABEL: [{}],
    ReasonCode.DOMAIN_IP_LITERAL: [{}],
    ReasonCode.DOMAIN_NON_ASCII: [{"characters": "U+FF4C"}],
    ReasonCode.DOMAIN_PUNYCODE: [{"label": "xn--lg-jp"}],
    ReasonCode.DOMAIN_INVALID: [{"label": "-bad-"}],
    ReasonCode.DOMAIN_LOOKALIKE: [{"imitates": i} for i in ("lg.jp", "go.jp", "hokkaido.jp")],
    ReasonCode.DOMAIN_LG_JP: [{"domain": "city.x.lg.jp"}],
    ReasonCode.DOMAIN_GO_JP_AGENCY: [{"domain": "digital.go.jp", "agency": "digital"}],
    ReasonCode.DOMAIN_GO_JP_UNLISTED: [{"domain": "example.go.jp"}],
    ReasonCode.DOMAIN_REGIONAL_KNOWN: [{"domain": "city.hakodate.hokkaido.jp", "code": "012025"}],
    ReasonCode.DOMAIN_REGIONAL_UNKNOWN: [{"domain": "foo.hokkaido.jp"}],
    ReasonCode.DOMAIN_HOMEPAGE_MATCH: [{"domain": "town.x.com", "codes": "012025 012033"}],
    ReasonCode.DOMAIN_OTHER: [{"domain": "gmail.com"}],
    ReasonCode.CODE_FORMAT: [{"entered": "12ab"}, {"entered": "01100", "did_you_mean": "011002"}],
    ReasonCode.CODE_CHECK_DIGIT: [
        {"entered": "011003"},
        {"entered": "011003", "did_you_mean": "011002"},
    ],
    ReasonCode.CODE_UNKNOWN_VALID: [{"code": "018996"}, {"code": "018996", "prefecture": "北海道"}],
    ReasonCode.CODE_DOMAIN_MISMATCH: [
        {"entered": "011002", "suggested": "012025", "basis": b} for b in ("exact", "inferred")
    ],
    ReasonCode.ORGANISATION_FROM_DOMAIN: [{}, {"code": "011002"}, {"agency": "digital"}],
    ReasonCode.ORGANISATION_MISSING: [{"suggested": ""}, {"suggested": "011002 012025"}],
    ReasonCode.ORGANISATION_KIND_MISMATCH: [
        {"entered": e, "domain": "digital.go.jp"} for e in ("code", "agency")
    ],
    ReasonCode.ORGANISATION_AMBIGUOUS: [{}],
    ReasonCode.AGENCY_UNKNOWN: [{"entered": "nasa"}],
    ReasonCode.AGENCY_DOMAIN_MISMATCH: [{"entered": "soumu", "suggested": "digital"}],
    ReasonCode.NAME_MISSING: [{}],
    ReasonCode.NAME_LOOKS_LIKE_ORGANISATION: [{"matched": "情報政策課"}],
}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_reason_code_has_text_in_both_languages() -> None:
    assert set(_SAMPLE_PARAMS) == set(ReasonCode), "a new ReasonCode needs sample params here"
    for code, samples in _SAMPLE_PARAMS.items():
        for language in LANGUAGES:
            base = f"eligibility.{code.value}"
            assert base in catalogue(language), (language, base)
            for params in samples:
                # the plain catalogue call (what the review message does) always works …
                assert _placeholders(catalogue(language)[base]) <= set(params), (code, params)
                plain = t(base, language, **params)
                # … and the precise text uses what the reason carries
                text = reason_text(code, params, language)
                for rendered in (plain, text):
                    assert "{" not in rendered and rendered.strip(), (code, language)
                # every value is shown, except those that only choose the wording
                selectors = {CASE_PARAMS.get(code), "basis"}
                for name, value in params.items():
                    if value and name not in selectors:
                        assert value in text, (code, language, name)


def test_precise_texts_are_reachable_and_named_consistently() -> None:
    keys = {k for k in catalogue("ja") if k.startswith("eligibility.")}
    reachable = {f"eligibility.{code.value}" for code in ReasonCode}
    for code, samples in _SAMPLE_PARAMS.items():
        for params in samples:
            reachable.add(reason_key(code, params, "ja"))
    assert keys == reachable  # no text that no reason can select
    assert set(CASE_PARAMS) | set(OPTIONAL_PARAMS) <= set(ReasonCode)
    assert reason_text(ReasonCode.EMAIL_INVALID, {"problem": "missing_at"}, "ja").startswith(
        "メールアドレスに「@」がありません"
    )
    assert "011002" in reason_text(
        ReasonCode.CODE_FORMAT, {"entered": "01100", "did_you_mean": "011002"}, "en"
    )


_CORPUS = [
    ("taro@city.sapporo.lg.jp", "山田 太郎", SAPPORO, None),
    ("taro＠city.sapporo.lg.jp", "情報政策課", None, None),
    ("taro+x@city.sapporo.lg.jp", "", "01100", None),
    ("a@b@c", "x", "abc", "digital"),
    ('"a"@example.com', "Dept of IT", "011003", None),
    ("a%b@city.x.lg.jp.example.com", "山田", "018996", None),
    ("hanako@digital.go.jp", "佐藤", SAPPORO, None),
    ("hanako@digital.go.jp", "佐藤", None, "soumu"),
    ("hanako@example.go.jp", "佐藤", None, "nasa"),
    ("x@city.hakodate.hokkaido.jp", "佐藤", "472018", None),
    ("x@foo.hokkaido.jp", "佐藤", None, None),
    ("x@xn--80ak6aa92e.com.", "佐藤", None, None),
    ("x@[127.0.0.1]", "佐藤", None, None),
    ("x@ｃｉｔｙ．ｘ．ｌｇ．ｊｐ", "佐藤", None, None),
    ("x@gmail.com", "佐藤", None, None),
    ("x@city..lg.jp", "佐藤", None, None),
    ("x y@city.x.lg.jp", "佐藤", None, None),
    ("", "佐藤", None, None),
    ("x#y@city.sapporo.lg.jp", "佐藤", "011002", "digital"),
    ("x@city.sapporo.lg.jp", "佐藤", None, "digital"),
]


def test_every_reason_decide_gives_renders() -> None:
    """Real verdicts, not only the samples: whatever params `decide` attaches format."""
    directory = OrganisationDirectory.from_master_data()
    seen: set[ReasonCode] = set()
    for email, name, code, agency in _CORPUS:
        verdict = decide(
            ApplicationInput(email=email, name=name, organisation_code=code, agency_slug=agency),
            directory,
            no_history,
        )
        for reason in verdict.reasons:
            seen.add(reason.code)
            for language in LANGUAGES:
                text = reason_text(reason.code, reason.params, language)
                assert text and "{" not in text
                t(f"eligibility.{reason.code.value}", language, **reason.params)
    assert len(seen) >= 20


# --------------------------------------------------------------------------------------
# The pieces


def test_csrf_tokens() -> None:
    now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    tokens = CsrfTokens.for_secret("secret")
    nonce = tokens.new_nonce()
    token = tokens.token(nonce, now)
    assert tokens.valid(token, nonce, now)
    assert tokens.valid(token, nonce, now + timedelta(hours=3, minutes=59))
    assert not tokens.valid(token, nonce, now + timedelta(hours=4, minutes=1))  # expired
    assert not tokens.valid(token, tokens.new_nonce(), now)  # another visitor's cookie
    assert not tokens.valid(token, None, now)
    assert not tokens.valid(token.replace(token[-4:], "0000"), nonce, now)  # tampered
    assert not tokens.valid("", nonce, now)
    # another installation (another signing secret) does not accept it
    assert not CsrfTokens.for_secret("other").valid(token, nonce, now)
    # the same secret in another instance does
    assert CsrfTokens.for_secret("secret").valid(token, nonce, now)


def test_rate_limiter_windows() -> None:
    now = [1000.0]
    limiter = RateLimiter(limit=3, window_seconds=600, monotonic=lambda: now[0])
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    wait = limiter.hit("a")
    assert wait == pytest.approx(600)
    assert limiter.hit("b") is None  # per client
    now[0] += 601
    assert limiter.hit("a") is None


class _Request:
    def __init__(self, remote_addr: str, forwarded: str | None = None) -> None:
        self.remote_addr = remote_addr
        self.headers = {"X-Forwarded-For": forwarded} if forwarded else {}


def test_the_client_address_behind_a_proxy() -> None:
    proxies = TrustedProxies.parse("10.0.0.0/8")
    direct = _Request("133.242.0.5")
    assert client_address(direct, proxies) == "133.242.0.5"  # type: ignore[arg-type]
    # a trusted proxy names the client
    behind = _Request("10.0.0.2", "198.51.100.1, 203.0.113.9")
    assert client_address(behind, proxies) == "203.0.113.9"  # type: ignore[arg-type]
    # a client on the Internet cannot choose its own key
    spoofed = _Request("133.242.0.5", "1.2.3.4")
    assert client_address(spoofed, proxies) == "133.242.0.5"  # type: ignore[arg-type]
    # with no proxy configured, not even a private peer is believed
    assert client_address(behind, TrustedProxies()) == "10.0.0.2"  # type: ignore[arg-type]


def test_organisation_lookup(session_factory: SessionFactory) -> None:
    with session_factory() as session:
        prefectures = lookup.prefectures(session)
        assert len(prefectures) == 47 and prefectures[12].name == "東京都"
        tokyo = lookup.local_governments(session, prefecture="東京都")
        assert any(o.name == "千代田区" for o in tokyo)
        # hiragana, katakana, half-width katakana and full-width all find 札幌市
        for fragment in ("さっぽろ", "サッポロ", "ｻｯﾎﾟﾛ", "札幌", " 札 幌 "):
            found = lookup.local_governments(session, prefecture="北海道", fragment=fragment)
            assert [o.code for o in found] == [SAPPORO], fragment
        # LIKE wildcards are literal
        assert lookup.local_governments(session, prefecture=None, fragment="%") == []
        assert lookup.local_governments(session, prefecture=None, fragment=None) == []
        everywhere = lookup.local_governments(session, prefecture=None, fragment="府中")
        assert {o.prefecture for o in everywhere} >= {"東京都", "広島県"}
        assert lookup.local_government(session, "０１１００２") is not None
        assert lookup.local_government(session, "999999") is None
        assert [o.code for o in lookup.local_governments_named(session, "北海道札幌市")] == [
            SAPPORO
        ]
        assert [o.code for o in lookup.local_governments_named(session, "札幌市")] == [SAPPORO]
        assert [o.code for o in lookup.local_governments_named(session, "東京都庁")] == ["130001"]
        fuchu = lookup.local_governments_named(session, "府中市")
        assert len(fuchu) == 2  # Tokyo's and Hiroshima's: ambiguous without the prefecture
        assert len(lookup.local_governments_named(session, "府中市", prefecture="東京都")) == 1
        assert [a.slug for a in lookup.agencies_named(session, "デジタル庁")] == ["digital"]
        assert [a.slug for a in lookup.agencies_named(session, "digital agency")] == ["digital"]
        assert lookup.agency(session, "ＤＩＧＩＴＡＬ") is not None


def test_a_failure_gets_a_polite_page(kyoso: RunningKyoso, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(lookup, "prefectures", broken)
    page = WebClient(kyoso.base_url).get("/apply", lang="en")
    assert page.status == 500
    assert "Something went wrong" in page.text and "database gone" not in page.text
    assert '<html lang="en">' in page.text
