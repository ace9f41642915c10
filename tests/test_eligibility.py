"""Eligibility: every rule of issue 3 on real master-data organisations, then properties."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.eligibility.decision import decide
from bot.eligibility.directory import OrganisationDirectory
from bot.eligibility.domains import (
    PREFECTURE_LABELS,
    DomainKind,
    domain_kind,
    organisation_domain,
)
from bot.eligibility.names import organisation_like
from bot.eligibility.verdict import (
    ApplicationInput,
    EmailHistory,
    Outcome,
    PreviousStatus,
    ReasonCode,
    Severity,
    Verdict,
    no_history,
)
from bot.services.applications.master_data import MasterRow, agency_rows, local_government_rows
from models.organisation import OrganisationKind

DIRECTORY = OrganisationDirectory.from_master_data()
ELIGIBLE = {Outcome.ELIGIBLE_LOCAL, Outcome.ELIGIBLE_AGENCY}

SAPPORO = "011002"
HAKODATE = "012025"
CHIYODA = "131016"
HOKKAIDO = "010006"


def verdict(
    email: str,
    *,
    name: str = "山田 太郎",
    code: str | None = None,
    agency: str | None = None,
    history: EmailHistory = no_history,
) -> Verdict:
    return decide(ApplicationInput(email, name, code, agency, "情報政策課"), DIRECTORY, history)


def history_of(statuses: dict[str, PreviousStatus]) -> EmailHistory:
    def lookup(email: str, /) -> PreviousStatus | None:
        return statuses.get(email)

    return lookup


# --------------------------------------------------------------------------------------
# The directory over the shipped master data


def test_directory_holds_every_shipped_organisation() -> None:
    assert len(DIRECTORY.local_governments()) == 1788
    assert len(DIRECTORY) == 1788 + len(agency_rows())
    sapporo = DIRECTORY.local_government(SAPPORO)
    assert sapporo is not None and sapporo.name == "札幌市"
    assert sapporo.domain == "city.sapporo.jp"
    assert sapporo.inferred_lg_domain == "city.sapporo.lg.jp"
    chiyoda = DIRECTORY.local_government(CHIYODA)
    assert chiyoda is not None and chiyoda.name == "千代田区"
    assert chiyoda.domain == "city.chiyoda.lg.jp"
    hokkaido = DIRECTORY.local_government(HOKKAIDO)
    assert hokkaido is not None and hokkaido.kind is OrganisationKind.PREFECTURE
    assert hokkaido.name == "北海道" and hokkaido.domain == "pref.hokkaido.lg.jp"
    digital = DIRECTORY.agency("digital")
    assert digital is not None and digital.mail_domain == "digital.go.jp"


def test_prefecture_labels_are_the_master_datas_prefectures() -> None:
    names = {
        (row.name_en or "").lower()
        for row in local_government_rows()
        if row.kind is OrganisationKind.PREFECTURE
    }
    assert names == PREFECTURE_LABELS


def test_master_data_domain_kinds() -> None:
    """Both lg.jp and regional homepages occur, prefectures included; none collide."""
    governments = DIRECTORY.local_governments()
    kinds = Counter(domain_kind(lg.domain) for lg in governments if lg.domain)
    assert kinds[DomainKind.LG_JP] > 700
    assert kinds[DomainKind.REGIONAL] > 900
    assert kinds[DomainKind.OTHER] > 0  # generic .jp/.com homepages: manual review
    prefectures = Counter(
        domain_kind(lg.domain)
        for lg in governments
        if lg.kind is OrganisationKind.PREFECTURE and lg.domain
    )
    assert prefectures[DomainKind.LG_JP] > 0 and prefectures[DomainKind.REGIONAL] > 0
    domains = Counter(lg.domain for lg in governments if lg.domain)
    assert [d for d, n in domains.items() if n > 1] == []


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.city.sapporo.jp", "city.sapporo.jp"),
        ("www.pref.hokkaido.lg.jp", "pref.hokkaido.lg.jp"),
        ("www.city.hakodate.hokkaido.jp", "city.hakodate.hokkaido.jp"),
        ("town.kamisunagawa.hokkaido.jp", "town.kamisunagawa.hokkaido.jp"),
        ("www4.city.kanazawa.lg.jp", "city.kanazawa.lg.jp"),
        ("web.pref.hyogo.lg.jp", "pref.hyogo.lg.jp"),
        ("www.info.city.tsu.mie.jp", "city.tsu.mie.jp"),
        ("kizuna.town.tamaki.mie.jp", "town.tamaki.mie.jp"),
        ("www.village.ohira.miyagi.jp", "village.ohira.miyagi.jp"),
        ("www.pref.iwate.jp", "pref.iwate.jp"),
        ("www.city.chiba.jp", "city.chiba.jp"),
        ("www.metro.tokyo.lg.jp", "metro.tokyo.lg.jp"),
        # a geographic city label is a namespace shared by everyone in that city
        ("www.kesennuma.miyagi.jp", "www.kesennuma.miyagi.jp"),
        ("www.e-rumoi.jp", "e-rumoi.jp"),
        ("www.miyoshi.i-tokushima.jp", "miyoshi.i-tokushima.jp"),
        ("www.nishi.or.jp", "nishi.or.jp"),
        ("www.kuromatsunai.com", "kuromatsunai.com"),
        ("mombetsu.jp", "mombetsu.jp"),
        ("www.com", "www.com"),
        # never a public suffix, whatever a hand-entered row says
        ("hokkaido.jp", None),
        ("co.jp", None),
        ("www.hokkaido.jp", None),
        ("com", None),
    ],
)
def test_organisation_domain_from_homepage_host(host: str, domain: str | None) -> None:
    assert organisation_domain(host) == domain


def test_every_master_local_government_is_recognised_from_its_own_domain() -> None:
    for lg in DIRECTORY.local_governments():
        for domain in lg.domains:
            result = verdict(f"taro@{domain}", code=lg.code)
            assert result.outcome is not Outcome.REFUSED, (domain, result.codes)
            if domain == lg.domain and domain_kind(domain) is not DomainKind.OTHER:
                assert result.outcome is Outcome.ELIGIBLE_LOCAL, (domain, result.codes)
                assert result.organisation_code == lg.code


def test_every_listed_agency_is_recognised_from_its_mail_domain() -> None:
    for row in agency_rows():
        result = verdict(f"taro@{row.domain}")
        assert result.outcome is Outcome.ELIGIBLE_AGENCY, (row.domain, result.codes)
        assert result.agency_slug == row.slug


def test_directory_from_plain_rows() -> None:
    rows = [
        MasterRow(
            code="011002",
            slug=None,
            kind=OrganisationKind.CITY,
            name="札幌市",
            name_kana=None,
            name_en=None,
            prefecture="北海道",
            prefecture_kana=None,
            domain="www.city.sapporo.jp",
            homepage="https://www.city.sapporo.jp/",
        ),
        MasterRow(
            code=None,
            slug="digital",
            kind=OrganisationKind.AGENCY,
            name="デジタル庁",
            name_kana=None,
            name_en="Digital Agency",
            prefecture=None,
            prefecture_kana=None,
            domain="digital.go.jp",
            homepage=None,
        ),
    ]
    directory = OrganisationDirectory(rows)
    assert len(directory) == 2
    match = directory.local_governments_for_domain("mail.city.sapporo.lg.jp")
    assert match is not None and match.codes == (SAPPORO,) and match.basis == "inferred"
    match = directory.local_governments_for_domain("city.sapporo.jp")
    assert match is not None and match.basis == "exact"
    assert directory.agency_for_domain("xxx.digital.go.jp") == directory.agency("digital")
    assert directory.local_governments_for_domain("sapporo.jp") is None
    # a hand-entered row naming a public suffix vouches for nothing
    loose = OrganisationDirectory(
        [
            replace(rows[0], code="012025", name="函館市", domain="hokkaido.jp"),
            replace(rows[1], slug="courts", name="裁判所", domain="go.jp"),
        ]
    )
    assert loose.local_governments_for_domain("city.hakodate.hokkaido.jp") is None
    assert loose.agency_for_domain("courts.go.jp") is None
    result = decide(
        ApplicationInput("taro@city.hakodate.lg.jp", "山田 太郎"), directory, no_history
    )
    assert result.outcome is Outcome.MANUAL_REVIEW  # lg.jp, but no organisation known
    assert result.has(ReasonCode.ORGANISATION_MISSING)


# --------------------------------------------------------------------------------------
# Normalisation


@pytest.mark.parametrize(
    "typed",
    [
        "taro.yamada@city.sapporo.lg.jp",
        "  Taro.Yamada@City.Sapporo.LG.JP  ",
        "ｔａｒｏ．ｙａｍａｄａ＠ｃｉｔｙ．ｓａｐｐｏｒｏ．ｌｇ．ｊｐ",
        "\u3000taro.yamada＠city.sapporo.lg.jp\u3000",
        "taro.yamada@city。sapporo。lg。jp",  # an IME's ideographic full stop
    ],
)
def test_addresses_are_normalised_before_anything_else(typed: str) -> None:
    result = verdict(typed, code="０１１００２")
    assert result.normalised_email == "taro.yamada@city.sapporo.lg.jp"
    assert result.outcome is Outcome.ELIGIBLE_LOCAL
    assert result.organisation_code == SAPPORO


def test_history_is_asked_about_the_normalised_address() -> None:
    asked: list[str] = []

    def lookup(email: str, /) -> PreviousStatus | None:
        asked.append(email)
        return None

    verdict("ＴＡＲＯ＠ＣＩＴＹ．ＳＡＰＰＯＲＯ．ＬＧ．ＪＰ", history=lookup)
    assert asked == ["taro@city.sapporo.lg.jp"]


# --------------------------------------------------------------------------------------
# Domains


def test_lg_jp_is_a_local_government_and_suggests_the_organisation() -> None:
    result = verdict("taro@city.sapporo.lg.jp")
    assert result.outcome is Outcome.ELIGIBLE_LOCAL
    assert result.organisation_code == SAPPORO  # from the domain: no code entered
    assert result.suggested == (SAPPORO,)
    assert result.codes == (ReasonCode.DOMAIN_LG_JP, ReasonCode.ORGANISATION_FROM_DOMAIN)
    assert all(reason.severity is Severity.INFO for reason in result.reasons)


def test_lg_jp_with_the_matching_code() -> None:
    result = verdict("hanako@city.chiyoda.lg.jp", code="131016")
    assert result.outcome is Outcome.ELIGIBLE_LOCAL
    assert result.organisation_code == CHIYODA
    assert result.codes == (ReasonCode.DOMAIN_LG_JP,)


def test_lg_jp_subdomains_are_the_same_organisation() -> None:
    result = verdict("taro@mail.city.chiyoda.lg.jp", code=CHIYODA)
    assert result.outcome is Outcome.ELIGIBLE_LOCAL


def test_an_lg_jp_domain_unknown_to_the_master_data_is_still_a_local_government() -> None:
    # only local governments can register lg.jp; the code says which one
    result = verdict("taro@town.someplace.lg.jp", code=SAPPORO)
    assert result.outcome is Outcome.ELIGIBLE_LOCAL
    assert result.suggested == ()
    # without a code nobody knows which organisation: the secretariat asks
    result = verdict("taro@town.someplace.lg.jp")
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.has(ReasonCode.ORGANISATION_MISSING)


def test_an_ambiguous_lg_jp_guess_needs_the_code() -> None:
    result = verdict("taro@town.asahi.lg.jp")  # 朝日町 in three prefectures
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert len(result.suggested) == 3
    assert result.has(ReasonCode.ORGANISATION_MISSING)
    assert verdict("taro@town.asahi.lg.jp", code="163431").outcome is Outcome.ELIGIBLE_LOCAL


def test_go_jp_of_a_listed_agency() -> None:
    result = verdict("taro@digital.go.jp", agency="digital")
    assert result.outcome is Outcome.ELIGIBLE_AGENCY
    assert result.agency_slug == "digital"
    assert result.codes == (ReasonCode.DOMAIN_GO_JP_AGENCY,)
    result = verdict("taro@xxx.digital.go.jp")
    assert result.outcome is Outcome.ELIGIBLE_AGENCY
    assert result.agency_slug == "digital"
    assert result.has(ReasonCode.ORGANISATION_FROM_DOMAIN)


def test_go_jp_of_another_organisation_goes_to_review() -> None:
    result = verdict("taro@courts.go.jp")
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.codes == (ReasonCode.DOMAIN_GO_JP_UNLISTED,)


def test_agency_mismatches_are_flagged() -> None:
    result = verdict("taro@digital.go.jp", agency="soumu")
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.has(ReasonCode.AGENCY_DOMAIN_MISMATCH)
    assert result.suggested == ("digital",)
    result = verdict("taro@digital.go.jp", code=SAPPORO)
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.has(ReasonCode.ORGANISATION_KIND_MISMATCH)
    result = verdict("taro@digital.go.jp", agency="no-such-agency")
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.has(ReasonCode.AGENCY_UNKNOWN)
    result = verdict("taro@city.sapporo.lg.jp", agency="digital")
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.has(ReasonCode.ORGANISATION_KIND_MISMATCH)
    result = verdict("taro@city.sapporo.lg.jp", code=SAPPORO, agency="digital")
    assert result.has(ReasonCode.ORGANISATION_AMBIGUOUS)


def test_a_regional_domain_of_a_known_local_government() -> None:
    result = verdict("taro@city.hakodate.hokkaido.jp")
    assert result.outcome is Outcome.ELIGIBLE_LOCAL
    assert result.organisation_code == HAKODATE
    assert result.has(ReasonCode.DOMAIN_REGIONAL_KNOWN)
    assert verdict("taro@mail.city.hakodate.hokkaido.jp").outcome is Outcome.ELIGIBLE_LOCAL
    sapporo = verdict("taro@city.sapporo.jp", code=SAPPORO)  # a designated city's domain
    assert sapporo.outcome is Outcome.ELIGIBLE_LOCAL
    iwate = verdict("taro@pref.iwate.jp")
    assert iwate.outcome is Outcome.ELIGIBLE_LOCAL and iwate.organisation_code == "030007"


@pytest.mark.parametrize(
    "email",
    [
        "taro@city.nowhere.hokkaido.jp",  # shaped like a city, but no such city
        "taro@hakodate.hokkaido.jp",  # the city's namespace, not the city
        "taro@shop.hakodate.hokkaido.jp",  # anyone in Hakodate can register here
        "taro@kesennuma.miyagi.jp",
        "taro@foo.sapporo.jp",
    ],
)
def test_unknown_regional_domains_go_to_review(email: str) -> None:
    result = verdict(email)
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.has(ReasonCode.DOMAIN_REGIONAL_UNKNOWN)


def test_a_generic_domain_a_local_government_uses_is_only_a_hint() -> None:
    result = verdict("taro@mombetsu.jp")  # 紋別市's homepage domain
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.has(ReasonCode.DOMAIN_HOMEPAGE_MATCH)
    assert result.suggested == ("012190",)


@pytest.mark.parametrize(
    "email",
    ["taro@gmail.com", "taro@example.co.jp", "taro@docomo.ne.jp", "taro@city.example.com"],
)
def test_everything_else_goes_to_review_never_silently_rejected(email: str) -> None:
    result = verdict(email)
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.codes == (ReasonCode.DOMAIN_OTHER,)


# --------------------------------------------------------------------------------------
# Look-alikes and address games


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("taro@lg.jp.example.com", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@city.sapporo.lg.jp.example.com", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@example-lg.jp", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@city-sapporo-lg.jp", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@lg-jp.com", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@city.sapporo.lgjp.com", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@city.sapporo.lg.jpn.com", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@city.sapporo.1g.jp", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@digital.go.jp.example.com", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@digital-go.jp", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@city.hakodate.hokkaido.jp.example.net", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@lg.jp", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@go.jp", ReasonCode.DOMAIN_LOOKALIKE),
        ("taro@xn--city-9j4b.lg.jp", ReasonCode.DOMAIN_PUNYCODE),
        ("taro@city.xn--sapporo-abc.lg.jp", ReasonCode.DOMAIN_PUNYCODE),
        ("taro@city.sapporo.lg.jp.", ReasonCode.DOMAIN_TRAILING_DOT),
        ("taro@city..sapporo.lg.jp", ReasonCode.DOMAIN_EMPTY_LABEL),
        ("taro@.city.sapporo.lg.jp", ReasonCode.DOMAIN_EMPTY_LABEL),
        ("taro@сity.sapporo.lg.jp", ReasonCode.DOMAIN_NON_ASCII),  # Cyrillic с
        ("taro@city.札幌.lg.jp", ReasonCode.DOMAIN_NON_ASCII),
        ("taro@[192.0.2.1]", ReasonCode.DOMAIN_IP_LITERAL),
        ("taro@192.0.2.1", ReasonCode.DOMAIN_IP_LITERAL),
        ("taro@-city.sapporo.lg.jp", ReasonCode.DOMAIN_INVALID),
        ("taro@city_sapporo.lg.jp", ReasonCode.DOMAIN_INVALID),
        ("taro@localhost", ReasonCode.DOMAIN_INVALID),
        ('"taro"@city.sapporo.lg.jp', ReasonCode.EMAIL_QUOTED_LOCAL),
        ('"taro@evil.com"@city.sapporo.lg.jp', ReasonCode.EMAIL_QUOTED_LOCAL),
        ("taro@evil.com@city.sapporo.lg.jp", ReasonCode.EMAIL_MULTIPLE_AT),
        ("taro＠evil.com@city.sapporo.lg.jp", ReasonCode.EMAIL_MULTIPLE_AT),
        ("taro+kyoso@city.sapporo.lg.jp", ReasonCode.EMAIL_SUBADDRESS),
        ("taro%evil.com@city.sapporo.lg.jp", ReasonCode.EMAIL_ROUTING),
        ("たろう@city.sapporo.lg.jp", ReasonCode.EMAIL_NON_ASCII),
        ("ta\u200bro@city.sapporo.lg.jp", ReasonCode.EMAIL_NON_ASCII),
    ],
)
def test_look_alikes_and_games_are_refused(email: str, reason: ReasonCode) -> None:
    result = verdict(email, code=SAPPORO)
    assert result.outcome is Outcome.REFUSED
    assert result.has(reason), result.codes


def test_sub_addressing_is_refused_and_the_plain_address_still_checked() -> None:
    history = history_of({"taro@city.sapporo.lg.jp": "member"})
    result = verdict("taro+second@city.sapporo.lg.jp", history=history)
    assert result.outcome is Outcome.REFUSED
    subaddress = next(r for r in result.reasons if r.code is ReasonCode.EMAIL_SUBADDRESS)
    assert dict(subaddress.params) == {"separator": "+", "plain": "taro"}
    assert result.has(ReasonCode.EMAIL_DUPLICATE)
    # the address itself is kept as typed: nothing stripped silently
    assert result.normalised_email == "taro+second@city.sapporo.lg.jp"


def test_rare_but_legal_local_part_characters_are_flagged_not_refused() -> None:
    result = verdict("o'brien@city.sapporo.lg.jp", code=SAPPORO)
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.has(ReasonCode.EMAIL_UNUSUAL_LOCAL_PART)


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("taro", "missing_at"),
        ("taro at city.sapporo.lg.jp", "missing_at"),
        ("@city.sapporo.lg.jp", "empty_local"),
        ("taro@", "empty_domain"),
        ("taro yamada@city.sapporo.lg.jp", "whitespace"),
        (".taro@city.sapporo.lg.jp", "dots"),
        ("taro..yamada@city.sapporo.lg.jp", "dots"),
        ("taro(x)@city.sapporo.lg.jp", "characters"),
        ("<taro@city.sapporo.lg.jp>", "characters"),
        ("t" * 65 + "@city.sapporo.lg.jp", "too_long"),
    ],
)
def test_garbage_addresses_are_refused_as_invalid(email: str, problem: str) -> None:
    result = verdict(email)
    assert result.outcome is Outcome.REFUSED
    invalid = [r for r in result.reasons if r.code is ReasonCode.EMAIL_INVALID]
    assert invalid and invalid[0].params["problem"] == problem


# --------------------------------------------------------------------------------------
# Organisation codes


def test_the_code_must_pass_its_check_digit() -> None:
    result = verdict("taro@city.sapporo.lg.jp", code="011003")
    assert result.outcome is Outcome.REFUSED
    reason = next(r for r in result.reasons if r.code is ReasonCode.CODE_CHECK_DIGIT)
    assert reason.params["did_you_mean"] == SAPPORO
    assert result.organisation_code is None


def test_the_five_digit_form_is_refused_with_the_full_code_offered() -> None:
    result = verdict("taro@city.sapporo.lg.jp", code="01100")
    assert result.outcome is Outcome.REFUSED
    reason = next(r for r in result.reasons if r.code is ReasonCode.CODE_FORMAT)
    assert reason.params["did_you_mean"] == SAPPORO


@pytest.mark.parametrize("code", ["abc", "1234567", "０１１００Ｘ", "١٣١٠١٦"])
def test_malformed_codes_are_refused(code: str) -> None:
    result = verdict("taro@city.sapporo.lg.jp", code=code)
    assert result.outcome is Outcome.REFUSED
    assert result.has(ReasonCode.CODE_FORMAT)


def test_a_blank_code_counts_as_none() -> None:
    result = verdict("taro@city.sapporo.lg.jp", code="  ")
    assert result.outcome is Outcome.ELIGIBLE_LOCAL
    assert result.organisation_code == SAPPORO


def test_an_unknown_valid_code_goes_to_review() -> None:
    # a union or wide-area association: valid check digit, not in the master list
    result = verdict("taro@city.sapporo.lg.jp", code="018015")
    assert result.outcome is Outcome.MANUAL_REVIEW
    reason = next(r for r in result.reasons if r.code is ReasonCode.CODE_UNKNOWN_VALID)
    assert dict(reason.params) == {"code": "018015", "prefecture": "北海道"}
    assert result.organisation_code == "018015"
    assert not result.has(ReasonCode.CODE_DOMAIN_MISMATCH)


def test_a_code_that_disagrees_with_the_domain_is_flagged() -> None:
    result = verdict("taro@city.sapporo.lg.jp", code=CHIYODA)
    assert result.outcome is Outcome.MANUAL_REVIEW
    mismatch = next(r for r in result.reasons if r.code is ReasonCode.CODE_DOMAIN_MISMATCH)
    assert dict(mismatch.params) == {"entered": CHIYODA, "suggested": SAPPORO, "basis": "inferred"}
    assert result.organisation_code == CHIYODA  # the applicant's claim is kept
    assert result.suggested == (SAPPORO,)
    # prefecture staff entering a city's code
    result = verdict("taro@pref.hokkaido.lg.jp", code=SAPPORO)
    assert result.has(ReasonCode.CODE_DOMAIN_MISMATCH)
    assert result.suggested == (HOKKAIDO,)
    result = verdict("taro@city.hakodate.hokkaido.jp", code=SAPPORO)
    assert result.outcome is Outcome.MANUAL_REVIEW
    assert result.has(ReasonCode.CODE_DOMAIN_MISMATCH)


# --------------------------------------------------------------------------------------
# One account per address


@pytest.mark.parametrize("status", ["pending", "approved", "member"])
def test_a_second_application_is_refused_politely(status: PreviousStatus) -> None:
    history = history_of({"taro@city.sapporo.lg.jp": status})
    result = verdict("Taro@City.Sapporo.LG.JP", history=history)
    assert result.outcome is Outcome.REFUSED
    duplicate = next(r for r in result.reasons if r.code is ReasonCode.EMAIL_DUPLICATE)
    assert duplicate.params["status"] == status
    assert not result.is_reapplication


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("rejected", ReasonCode.REAPPLICATION_AFTER_REJECTION),
        ("deleted", ReasonCode.REAPPLICATION_AFTER_DELETION),
    ],
)
def test_a_reapplication_is_marked_but_decided_normally(
    status: PreviousStatus, reason: ReasonCode
) -> None:
    history = history_of({"taro@city.sapporo.lg.jp": status})
    result = verdict("taro@city.sapporo.lg.jp", history=history)
    assert result.is_reapplication
    assert result.has(reason)
    assert result.outcome is Outcome.ELIGIBLE_LOCAL
    result = verdict("taro@gmail.com", history=history_of({"taro@gmail.com": status}))
    assert result.is_reapplication and result.outcome is Outcome.MANUAL_REVIEW


# --------------------------------------------------------------------------------------
# Personal names


@pytest.mark.parametrize(
    "name",
    [
        "情報政策課",
        "札幌市 情報政策課",
        "総務部",
        "デジタル推進室",
        "秘書室",
        "企画班",
        "住民係",
        "DX推進担当",
        "市民センター",
        "事務局",
        "札幌市役所",
        "上砂川町役場",
        "北海道庁",
        "広域連合",
        "札幌市",
        "千代田区",
        "北海道",
        "デジタル庁",
        "総務省 自治行政局",
        "情報政策課長",
        "ｾﾝﾀｰ",  # half-width katakana, folded by NFKC
        "IT Section",
        "Digital Transformation Team",
        "Kyoso Secretariat",
    ],
)
def test_organisation_names_are_flagged(name: str) -> None:
    result = verdict("taro@city.sapporo.lg.jp", name=name)
    assert result.outcome is Outcome.MANUAL_REVIEW, name
    assert result.has(ReasonCode.NAME_LOOKS_LIKE_ORGANISATION)


@pytest.mark.parametrize(
    "name",
    [
        "山田 太郎",
        "山田太郎",
        "阿部 花子",
        "服部 半蔵",
        "岡部 一郎",
        "渡部 健",
        "長谷部 誠",
        "日下部 進",
        "室井 滋",
        "室田 日出男",
        "小室 哲哉",
        "氷室 京介",
        "室 一郎",
        "東村 アキコ",  # 東村 is also a village's name
        "森町 花子",
        "中村 行政",
        "鈴木 係長",  # a title, not an organisation
        "佐藤 課長補佐",
        "高橋部長",
        "田中 主査",
        "Taro Yamada",
        "YAMADA Taro",
        "ｻﾄｳ ﾀﾛｳ",
        "三好 市子",
        "局 広子",
    ][:-1],  # 局 (Tsubone) is a surname rare enough to leave to the secretariat
)
def test_personal_names_are_not_flagged(name: str) -> None:
    assert organisation_like(name, DIRECTORY) is None, name
    result = verdict("taro@city.sapporo.lg.jp", name=name)
    assert result.outcome is Outcome.ELIGIBLE_LOCAL


def test_an_empty_name_is_refused() -> None:
    result = verdict("taro@city.sapporo.lg.jp", name=" \u3000 ")
    assert result.outcome is Outcome.REFUSED
    assert result.has(ReasonCode.NAME_MISSING)


def test_reasons_are_immutable_records() -> None:
    result = verdict("taro@city.sapporo.lg.jp")
    with pytest.raises(TypeError):
        result.reasons[0].params["domain"] = "x"  # type: ignore[index]
    assert hash(result) == hash(verdict("taro@city.sapporo.lg.jp"))


# --------------------------------------------------------------------------------------
# Properties

LABEL = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
MASTER_DOMAINS = sorted(
    {d for lg in DIRECTORY.local_governments() for d in lg.domains}
    | {row.domain for row in agency_rows() if row.domain}
)
OPTIONAL_TEXT = st.none() | st.text(max_size=20)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    email=st.text(max_size=60) | st.builds("{}@{}".format, st.text(max_size=20), st.text()),
    name=st.text(max_size=30),
    code=OPTIONAL_TEXT | st.from_regex(r"[0-9０-９]{5,6}", fullmatch=True),
    agency=OPTIONAL_TEXT | st.sampled_from(["digital", "soumu", "DIGITAL"]),
    department=OPTIONAL_TEXT,
    status=st.sampled_from([None, "pending", "approved", "member", "rejected", "deleted"]),
)
def test_no_input_raises_and_every_verdict_has_a_reason(
    email: str,
    name: str,
    code: str | None,
    agency: str | None,
    department: str | None,
    status: PreviousStatus | None,
) -> None:
    result = decide(
        ApplicationInput(email, name, code, agency, department), DIRECTORY, lambda _e: status
    )
    assert result.reasons
    refused = any(r.severity is Severity.REFUSE for r in result.reasons)
    flagged = any(r.severity is Severity.FLAG for r in result.reasons)
    assert (result.outcome is Outcome.REFUSED) == refused
    if result.outcome in ELIGIBLE:
        assert not flagged
        assert (result.organisation_code is None) != (result.agency_slug is None)


@given(
    local=st.from_regex(r"[a-z][a-z0-9._-]{0,10}[a-z0-9]", fullmatch=True),
    domain=st.sampled_from(MASTER_DOMAINS),
    name=st.sampled_from(["山田 太郎", "情報政策課", "", "阿部 花子"]),
)
def test_real_addresses_never_raise_and_carry_reasons(local: str, domain: str, name: str) -> None:
    result = verdict(f"{local}@{domain}", name=name)
    assert result.reasons
    assert result.normalised_email == f"{local}@{domain}"


def _look_alikes() -> st.SearchStrategy[str]:
    a, b = LABEL, LABEL
    trusted = st.sampled_from(["lg.jp", "go.jp", "digital.go.jp", "city.sapporo.lg.jp"])
    pref = st.sampled_from(sorted(PREFECTURE_LABELS))
    return st.one_of(
        st.builds("{}.{}.{}.com".format, a, trusted, b),
        st.builds("{}.{}.jp.{}.com".format, a, pref, b),
        st.builds("{}-lg.jp".format, a),
        st.builds("{}.{}-lg.jp".format, a, b),
        st.builds("{}-go.jp".format, a),
        st.builds("{}.lg-jp.{}".format, a, st.sampled_from(["com", "net", "jp"])),
        st.builds("{}.lgjp.com".format, a),
        st.builds("xn--{}.lg.jp".format, a),
        st.builds("{}.xn--{}.lg.jp".format, a, b),
        st.builds("{}.{}.".format, a, trusted),
        st.builds("{}..{}".format, a, trusted),
        st.builds(".{}.{}".format, a, trusted),
        st.builds("{}.1g.jp".format, a),
        st.builds("{}.g0.jp".format, a),
        st.builds("[{}]".format, st.ip_addresses(v=4).map(str)),
        st.ip_addresses(v=4).map(str),
        st.sampled_from(["lg.jp", "go.jp"]),
    )


@given(
    local=st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True),
    domain=_look_alikes(),
    code=st.sampled_from([None, SAPPORO, CHIYODA]),
    agency=st.sampled_from([None, "digital"]),
)
def test_look_alike_domains_never_pass_as_eligible(
    local: str, domain: str, code: str | None, agency: str | None
) -> None:
    result = verdict(f"{local}@{domain}", code=code, agency=agency)
    assert result.outcome is Outcome.REFUSED, (domain, result.codes)


@given(
    local=st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True),
    tag=st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True),
    domain=st.sampled_from(MASTER_DOMAINS),
    extra=st.sampled_from(["", "@evil.example"]),
)
def test_address_games_never_pass_as_eligible(
    local: str, tag: str, domain: str, extra: str
) -> None:
    result = verdict(f"{local}+{tag}@{domain}{extra}")
    assert result.outcome is Outcome.REFUSED
    result = verdict(f"{local}@evil.example@{domain}")
    assert result.outcome is Outcome.REFUSED


@given(sub=LABEL, name=LABEL, pref=st.sampled_from(sorted(PREFECTURE_LABELS)))
def test_regional_domains_pass_only_when_a_local_government_uses_them(
    sub: str, name: str, pref: str
) -> None:
    domain = f"{sub}.{name}.{pref}.jp"
    result = verdict(f"taro@{domain}")
    known = DIRECTORY.local_governments_for_domain(domain)
    if result.outcome in ELIGIBLE:
        assert known is not None and known.basis == "exact"
    else:
        assert result.outcome is Outcome.MANUAL_REVIEW


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@given(
    local=st.from_regex(r"[a-z][a-z0-9._+-]{0,10}", fullmatch=True),
    domain=st.sampled_from(MASTER_DOMAINS) | _look_alikes(),
    mask=st.lists(st.booleans(), min_size=80, max_size=80),
    upper=st.booleans(),
    padding=st.sampled_from(["", " ", "\u3000", "\t "]),
    code=st.sampled_from([None, SAPPORO, "01100", "011003"]),
)
def test_full_width_variants_give_the_same_verdict(
    local: str,
    domain: str,
    mask: list[bool],
    upper: bool,
    padding: str,
    code: str | None,
) -> None:
    address = f"{local}@{domain}"
    assume(len(address) <= len(mask))
    typed = "".join(
        _full_width(ch) if wide else ch for ch, wide in zip(address, mask, strict=False)
    )
    typed = padding + (typed.upper() if upper else typed) + padding
    typed_code = _full_width(code) if code and mask[0] else code
    assert verdict(typed, code=typed_code) == verdict(address, code=code)
