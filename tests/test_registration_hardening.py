"""The registration page behind a reverse proxy and against hostile input, over real HTTP
(SQLite by default, PostgreSQL with TEST_DATABASE_URL): who shares a rate limit, what a
forged post costs, and what NUL or control characters in any field do."""

from __future__ import annotations

import itertools
import urllib.parse
from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.proxies import TrustedProxies
from bot.settings_errors import describe_settings_error
from models import Application
from tests.support.kyoso_server import RunningKyoso, make_settings, serve_kyoso
from tests.support.slack_emulator import SlackEmulator
from tests.support.web_client import Page, WebClient

SAPPORO = "011002"
_addresses = (f"203.0.113.{n}" for n in itertools.count(1))


def _serve(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
    proxies: str,
) -> Iterator[RunningKyoso]:
    settings = make_settings(emulator.api_url, database_url, KYOSO_TRUSTED_PROXIES=proxies)
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


@pytest.fixture
def behind_proxy(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    """Kyoso with the test client's loopback address as its one trusted proxy."""
    yield from _serve(emulator, database_url, session_factory, clock, "127.0.0.1")


@pytest.fixture
def behind_one_hop(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    yield from _serve(emulator, database_url, session_factory, clock, "1")


def _fields(**overrides: str) -> dict[str, str]:
    fields = {
        "action": "submit",
        "lang": "ja",
        "name": "山田 花子",
        "email": "hanako.yamada@city.sapporo.lg.jp",
        "org_kind": "lg",
        "prefecture": "北海道",
        "org_query": "",
        "lg_code": SAPPORO,
        "code": "",
        "agency": "",
        "department": "総務局 情報システム部",
        "rules": "yes",
        "website": "",
    }
    return fields | overrides


def _post(client: WebClient, forwarded_for: str | None = None, **overrides: str) -> Page:
    """The form as a browser fetches and posts it (the proxy adds X-Forwarded-For)."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    form = client.get("/apply")
    assert form.status == 200
    fields = _fields(
        csrf_token=form.field("csrf_token") or "",
        rules_version=form.field("rules_version") or "",
    )
    return client.post("/apply", fields | overrides, headers=headers)


def _names(session_factory: SessionFactory) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(select(Application.name).order_by(Application.id)))


# --------------------------------------------------------------------------------------
# Behind a proxy


def test_a_trusted_proxy_keeps_applicants_apart(behind_proxy: RunningKyoso) -> None:
    noisy, other = WebClient(behind_proxy.base_url), WebClient(behind_proxy.base_url)
    for _ in range(10):
        assert _post(noisy, "198.51.100.7", rules="").status == 422
    assert _post(noisy, "198.51.100.7", rules="").status == 429
    # another applicant behind the same proxy is not locked out
    assert _post(other, "198.51.100.8", rules="").status == 422
    # a client cannot escape its limit by sending its own header: the proxy appends the
    # address it saw, and that rightmost entry is the one believed
    assert _post(noisy, "192.0.2.1, 198.51.100.7", rules="").status == 429


def test_a_hop_count_reads_the_address_the_proxy_added(behind_one_hop: RunningKyoso) -> None:
    noisy, other = WebClient(behind_one_hop.base_url), WebClient(behind_one_hop.base_url)
    for _ in range(10):
        assert _post(noisy, "198.51.100.7", rules="").status == 422
    assert _post(noisy, "192.0.2.1, 198.51.100.7", rules="").status == 429
    assert _post(other, "198.51.100.8", rules="").status == 422


def test_forwarded_for_from_an_untrusted_peer_is_ignored(kyoso: RunningKyoso) -> None:
    """Without KYOSO_TRUSTED_PROXIES anyone could send the header: it names nobody."""
    client = WebClient(kyoso.base_url)
    for n in range(10):
        assert _post(client, f"198.51.100.{n}", rules="").status == 422
    assert _post(client, "198.51.100.99", rules="").status == 429


def test_a_forged_token_uses_up_nobodys_quota(
    behind_proxy: RunningKyoso, session_factory: SessionFactory
) -> None:
    client = WebClient(behind_proxy.base_url)
    for _ in range(15):
        page = _post(client, "198.51.100.7", csrf_token="forged.1700000000.deadbeef")
        assert page.status == 400
    assert _names(session_factory) == []
    # the same client's real submission still goes through
    assert _post(client, "198.51.100.7").status == 303
    assert _names(session_factory) == ["山田 花子"]


def test_the_proxy_setting_is_parsed_and_explained() -> None:
    assert TrustedProxies.parse("").client("10.0.0.1", "1.2.3.4") == "10.0.0.1"
    listed = TrustedProxies.parse(" 10.0.0.0/8, 2001:db8::/32 ,192.0.2.7")
    assert listed.client("10.1.2.3", "198.51.100.1, 10.9.9.9") == "198.51.100.1"
    assert listed.client("2001:db8::5", "[2001:db8::9]:443") == "2001:db8::9"
    assert listed.client("10.1.2.3", "") == "10.1.2.3"
    assert listed.client("10.1.2.3", "not-an-address") == "10.1.2.3"
    two = TrustedProxies.parse("2")
    assert two.client("10.0.0.1", "192.0.2.1, 198.51.100.1, 10.0.0.9") == "198.51.100.1"
    assert two.client("10.0.0.1", "198.51.100.1") == "10.0.0.1"  # came past fewer proxies
    for bad in ("0", "99", "10.0.0.0/33", "proxy.example.jp", "10.0.0.1,,"):
        with pytest.raises(ValueError):
            TrustedProxies.parse(bad)
    with pytest.raises(ValidationError) as error:
        make_settings("http://127.0.0.1:9/api/", "sqlite://", KYOSO_TRUSTED_PROXIES="lb.local")
    message = describe_settings_error(error.value)
    assert "KYOSO_TRUSTED_PROXIES の値が正しくありません" in message
    assert "KYOSO_TRUSTED_PROXIES is malformed" in message


# --------------------------------------------------------------------------------------
# NUL and control characters


_HOSTILE = ("\x00", "山田\x00花子", "\x1b[2J", "\u202e花子", "a\r\nb")
_FORM_FIELDS = (
    "lang",
    "name",
    "email",
    "org_kind",
    "prefecture",
    "org_query",
    "lg_code",
    "code",
    "agency",
    "department",
    "rules",
    "rules_version",
    "csrf_token",
    "action",
)


def test_nul_and_controls_in_any_field_never_fail(
    behind_proxy: RunningKyoso, session_factory: SessionFactory
) -> None:
    client = WebClient(behind_proxy.base_url)
    for field in _FORM_FIELDS:
        for hostile in _HOSTILE:
            page = _post(client, next(_addresses), **{field: hostile})
            assert page.status in (200, 303, 400, 422), (field, hostile, page.status)
            assert "\x00" not in page.text
    for name in _names(session_factory):
        assert name.isprintable(), name


@pytest.mark.parametrize(
    "query",
    [
        {"prefecture": "北海道\x00"},
        {"prefecture": "\x00"},
        {"org_query": "札幌\x00"},
        {"org_query": "\x1b\u202e"},
        {"lang": "en\x00"},
    ],
)
def test_nul_in_the_query_string_never_fails(kyoso: RunningKyoso, query: dict[str, str]) -> None:
    page = WebClient(kyoso.base_url).get("/apply", **query)
    assert page.status == 200
    assert "\x00" not in page.text


def test_nul_in_paths_is_a_polite_not_found(kyoso: RunningKyoso) -> None:
    client = WebClient(kyoso.base_url)
    for public_id in ("\x00", "abc\x00def", "\u202e0011"):
        page = client.get("/apply/done/" + urllib.parse.quote(public_id))
        assert page.status == 404
        assert "見つかりません" in page.plain or "not found" in page.plain.lower()


def test_control_characters_are_not_stored(
    kyoso: RunningKyoso, session_factory: SessionFactory
) -> None:
    client = WebClient(kyoso.base_url)
    page = _post(
        client,
        name="\u202e山田\x1b[31m\x00 花子\u2066\t",
        department="総務局\x07\n情報システム部\u200f",
    )
    assert page.status == 303, page.plain
    with session_factory() as session:
        [application] = session.scalars(select(Application)).all()
    assert application.name == "山田[31m 花子"
    assert application.department == "総務局 情報システム部"


def test_a_mangled_cookie_or_token_is_refused_not_failed(kyoso: RunningKyoso) -> None:
    client = WebClient(kyoso.base_url)
    for token in ("a.²³.b", "é.1.é", "x" * 5000):
        assert _post(client, csrf_token=token).status == 400
