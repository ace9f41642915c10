"""Tests of the test harness itself: the Slack emulator and the signed-request sender."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.request import Request, urlopen
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from tests.support.slack_emulator import SlackEmulator, spec
from tests.support.slack_sender import SlackSender, sign

BOT_TOKEN = "xoxb-test"
SIGNING_SECRET = "test-signing-secret"


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=BOT_TOKEN) as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=emu.api_url)


def api_error(fn: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        fn()
    data = info.value.response.data
    assert isinstance(data, dict)
    return data


def wait_for(predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


# ---- Web API ------------------------------------------------------------------------------


def test_post_message_then_history(emu: SlackEmulator, client: WebClient) -> None:
    general = emu.add_channel("general", is_general=True, members=[emu.bot_user_id])
    first = client.chat_postMessage(channel=general["id"], text="おはよう")
    second = client.chat_postMessage(
        channel="#general",
        text="fallback",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}],
    )
    assert float(second["ts"]) > float(first["ts"])
    assert second["channel"] == general["id"]

    history = client.conversations_history(channel=general["id"], limit=1)
    assert [m["text"] for m in history["messages"]] == ["fallback"]
    assert history["has_more"] is True
    cursor = history["response_metadata"]["next_cursor"]
    older = client.conversations_history(channel=general["id"], cursor=cursor)
    assert [m["text"] for m in older["messages"]] == ["おはよう"]

    # slack_sdk sends chat.* as JSON: blocks arrive as a list, not a JSON string.
    call = emu.calls_to("chat.postMessage")[1]
    assert call.headers["content-type"].startswith("application/json")
    assert call.json_param("blocks")[0]["type"] == "section"
    assert emu.messages(general["id"])[1]["blocks"][0]["text"]["text"] == "*hi*"
    emu.assert_spec_clean()


def test_dm_to_user_id_and_message_rules(emu: SlackEmulator, client: WebClient) -> None:
    alice = emu.add_user(name="alice", email="Alice@Example.jp")
    posted = client.chat_postMessage(channel=alice["id"], text="ようこそ")
    assert posted["channel"].startswith("D")
    assert client.conversations_open(users=alice["id"])["channel"]["id"] == posted["channel"]
    assert [m["text"] for m in emu.dm_messages(alice["id"])] == ["ようこそ"]

    secret = emu.add_channel("secret", is_private=True)
    assert (
        api_error(lambda: client.chat_postMessage(channel=secret["id"], text="x"))["error"]
        == "not_in_channel"
    )
    assert (
        api_error(lambda: client.chat_postMessage(channel="C404", text="x"))["error"]
        == "channel_not_found"
    )
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too, before sending
        assert api_error(lambda: client.chat_postMessage(channel=alice["id"]))["error"] == "no_text"

    # A bot may delete its own messages only; an admin user token may delete any.
    room = emu.add_channel("room", members=[emu.bot_user_id, alice["id"]])
    emu.add_token("xoxp-alice", scopes=["chat:write"], user_id=alice["id"])
    hers = WebClient(token="xoxp-alice", base_url=emu.api_url).chat_postMessage(
        channel=room["id"], text="mine"
    )
    err = api_error(lambda: client.chat_delete(channel=room["id"], ts=hers["ts"]))
    assert err["error"] == "cant_delete_message"
    boss = emu.add_user(name="boss", is_admin=True)
    emu.add_token("xoxp-admin", scopes=["chat:write"], user_id=boss["id"])
    WebClient(token="xoxp-admin", base_url=emu.api_url).chat_delete(
        channel=room["id"], ts=hers["ts"]
    )
    assert emu.messages(room["id"]) == []
    err = api_error(lambda: client.chat_delete(channel=room["id"], ts=hers["ts"]))
    assert err["error"] == "message_not_found"
    assert client.users_lookupByEmail(email="alice@example.JP")["user"]["id"] == alice["id"]


def test_conversations_create_name_rules(emu: SlackEmulator, client: WebClient) -> None:
    created = client.conversations_create(name="地域-交流_2024")
    assert created["channel"]["name"] == "地域-交流_2024"
    assert created["channel"]["is_member"] is True
    cases = {
        "": "invalid_name_required",
        "a" * 81: "invalid_name_maxlength",
        "Upper": "invalid_name_specials",
        "has space": "invalid_name_specials",
        "dot.name": "invalid_name_specials",
        "全角　スペース": "invalid_name_specials",
        "---": "invalid_name_punctuation",
        "地域-交流_2024": "name_taken",
    }
    for name, error in cases.items():
        response = api_error(functools.partial(client.conversations_create, name=name))
        assert response["error"] == error
    assert client.conversations_create(name="a" * 80)["ok"]
    emu.assert_spec_clean()


def test_channel_lifecycle(emu: SlackEmulator, client: WebClient) -> None:
    alice = emu.add_user(name="alice")
    bob = emu.add_user(name="bob")
    general = emu.add_channel("general", is_general=True, members=[emu.bot_user_id, alice["id"]])
    room = client.conversations_create(name="room")["channel"]
    client.conversations_invite(channel=room["id"], users=[alice["id"], bob["id"]])
    again = api_error(lambda: client.conversations_invite(channel=room["id"], users=bob["id"]))
    assert again["error"] == "already_in_channel"
    assert (
        api_error(lambda: client.conversations_invite(channel=room["id"], users="U404"))["error"]
        == "user_not_found"
    )
    assert (
        api_error(lambda: client.conversations_invite(channel=room["id"], users=emu.bot_user_id))[
            "error"
        ]
        == "cant_invite_self"
    )
    members = client.conversations_members(channel=room["id"], limit=2)
    assert len(members["members"]) == 2 and members["response_metadata"]["next_cursor"]

    client.conversations_setPurpose(channel=room["id"], purpose="交流")
    assert client.conversations_info(channel=room["id"])["channel"]["purpose"]["value"] == "交流"
    root = client.chat_postMessage(channel=room["id"], text="root")
    client.chat_postMessage(channel=room["id"], text="reply", thread_ts=root["ts"])
    assert [m["text"] for m in client.conversations_history(channel=room["id"])["messages"]] == [
        "root"
    ]
    replies = client.conversations_replies(channel=room["id"], ts=root["ts"])["messages"]
    assert [m["text"] for m in replies] == ["root", "reply"]
    client.chat_postEphemeral(channel=room["id"], user=alice["id"], text="only you")
    assert emu.ephemeral_messages(user_id=alice["id"])[0]["text"] == "only you"
    stranger = emu.add_user(name="stranger")
    assert (
        api_error(
            lambda: client.chat_postEphemeral(channel=room["id"], user=stranger["id"], text="x")
        )["error"]
        == "user_not_in_channel"
    )

    client.conversations_archive(channel=room["id"])
    assert (
        api_error(lambda: client.conversations_archive(channel=room["id"]))["error"]
        == "already_archived"
    )
    assert (
        api_error(lambda: client.chat_postMessage(channel=room["id"], text="x"))["error"]
        == "is_archived"
    )
    assert (
        api_error(lambda: client.conversations_archive(channel=general["id"]))["error"]
        == "cant_archive_general"
    )
    listed = client.conversations_list(exclude_archived=True, limit=1000)["channels"]
    assert [c["name"] for c in listed] == ["general"]
    client.conversations_unarchive(channel=room["id"])
    assert (
        api_error(lambda: client.conversations_unarchive(channel=room["id"]))["error"]
        == "not_archived"
    )
    emu.assert_spec_clean()


def test_users_list_cursor_paging_450_users(emu: SlackEmulator, client: WebClient) -> None:
    for i in range(450):
        emu.add_user(name=f"user{i:03d}", email=f"user{i:03d}@example.jp")
    seen: list[str] = []
    pages = 0
    # limit above Slack's cap of 200 is clamped; SlackResponse iterates over next_cursor.
    for page in client.users_list(limit=500, include_locale=True):
        pages += 1
        assert len(page["members"]) <= 200
        seen.extend(m["id"] for m in page["members"])
    assert pages == 3
    assert len(seen) == len(set(seen)) == 452  # 450 + Slackbot + the app's bot user
    member = client.users_info(user=seen[-1], include_locale=True)["user"]
    assert member["locale"] == "ja-JP"
    assert member["profile"]["email"] == "user449@example.jp"
    assert "locale" not in client.users_info(user=seen[-1])["user"]
    err = api_error(lambda: client.users_list(cursor="bm90LWEtY3Vyc29y"))
    assert err["error"] == "invalid_cursor"


def test_invalid_auth_and_not_authed(emu: SlackEmulator) -> None:
    bad = WebClient(token="xoxb-unknown", base_url=emu.api_url)
    assert api_error(bad.auth_test)["error"] == "invalid_auth"
    anonymous = WebClient(base_url=emu.api_url)
    assert api_error(anonymous.auth_test)["error"] == "not_authed"
    assert [c.response["error"] for c in emu.calls_to("auth.test")] == [
        "invalid_auth",
        "not_authed",
    ]


def test_missing_scope(emu: SlackEmulator) -> None:
    emu.add_token("xoxb-narrow", scopes=["users:read"], user_id=emu.bot_user_id, kind="bot")
    narrow = WebClient(token="xoxb-narrow", base_url=emu.api_url)
    with pytest.raises(SlackApiError) as info:
        narrow.users_lookupByEmail(email="nobody@example.jp")
    assert info.value.response["error"] == "missing_scope"
    assert info.value.response["needed"] == "users:read.email"
    assert info.value.response["provided"] == "users:read"
    assert info.value.response.headers["x-oauth-scopes"] == "users:read"
    assert info.value.response.headers["x-accepted-oauth-scopes"] == "users:read.email"
    # Without users:read.email, emails are left out of user objects.
    user = emu.add_user(name="bob", email="bob@example.jp")
    assert "email" not in narrow.users_info(user=user["id"])["user"]["profile"]


def test_team_access_logs_needs_paid_plan(emu: SlackEmulator) -> None:
    admin = emu.add_user(name="admin", is_admin=True)
    emu.set_access_log(admin["id"], date_last=1_700_000_000)
    emu.add_token("xoxp-free", scopes=["admin"], user_id=admin["id"])
    emu.add_token("xoxp-paid", scopes=["admin"], user_id=admin["id"], paid=True)
    free = WebClient(token="xoxp-free", base_url=emu.api_url)
    assert api_error(free.team_accessLogs)["error"] == "paid_only"
    paid = WebClient(token="xoxp-paid", base_url=emu.api_url)
    logins = paid.team_accessLogs(limit=10)["logins"]
    assert logins[0]["user_id"] == admin["id"]
    assert logins[0]["date_last"] == 1_700_000_000
    assert (
        api_error(lambda: paid.admin_users_remove(team_id=emu.team_id, user_id=admin["id"]))[
            "error"
        ]
        == "missing_scope"
    )
    emu.assert_spec_clean()


def test_rate_limit_retry_after_honoured(emu: SlackEmulator) -> None:
    emu.add_channel("general", is_general=True, members=[emu.bot_user_id])
    emu.rate_limit("chat.postMessage", times=1, retry_after=1)
    retrying = WebClient(
        token=BOT_TOKEN,
        base_url=emu.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    started = time.monotonic()
    assert retrying.chat_postMessage(channel="#general", text="hi")["ok"]
    assert time.monotonic() - started >= 1.0
    calls = emu.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].response == {"ok": False, "error": "ratelimited"}
    assert calls[1].time - calls[0].time >= 1.0


def test_server_error_retried(emu: SlackEmulator) -> None:
    emu.server_error("conversations.list", status=503)
    retrying = WebClient(
        token=BOT_TOKEN,
        base_url=emu.api_url,
        retry_handlers=[
            ServerErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.05)
            )
        ],
    )
    assert retrying.conversations_list()["ok"]
    assert [c.status for c in emu.calls_to("conversations.list")] == [503, 200]


def test_injected_errors_latency_and_enforced_limit(emu: SlackEmulator, client: WebClient) -> None:
    emu.fail("team.info", "fatal_error")
    assert api_error(client.team_info)["error"] == "fatal_error"
    assert client.team_info()["team"]["id"] == "T0KYOSO"

    emu.latency("api.test", 0.2)
    started = time.monotonic()
    client.api_test()
    assert time.monotonic() - started >= 0.2

    emu.enforce_rate_limit("dnd.info", per_minute=3, window_seconds=2.0)
    for _ in range(3):
        client.dnd_info()
    with pytest.raises(SlackApiError) as info:
        client.dnd_info()
    assert info.value.response.status_code == 429
    assert 1 <= int(info.value.response.headers["Retry-After"]) <= 2


def test_concurrent_posts_get_unique_increasing_ts(emu: SlackEmulator, client: WebClient) -> None:
    room = emu.add_channel("room", members=[emu.bot_user_id])

    def post_many() -> None:
        for _ in range(10):
            client.chat_postMessage(channel=room["id"], text="x")

    threads = [threading.Thread(target=post_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps = [m["ts"] for m in emu.messages(room["id"])]
    assert len(set(stamps)) == 80
    assert stamps == sorted(stamps, key=float)


@pytest.mark.skipif(
    not (spec.specs_dir() / spec.SPEC_FILE).is_file(), reason="Slack's API specs folder is absent"
)
def test_spec_violation_detected(emu: SlackEmulator, client: WebClient) -> None:
    emu.add_channel("general", is_general=True, members=[emu.bot_user_id])
    client.chat_postMessage(channel="#general", text="fine")
    emu.assert_spec_clean()
    client.api_call(
        "chat.postMessage", json={"channel": "#general", "text": "x", "invented_param": 1}
    )
    api_error(lambda: client.api_call("chat.fly", params={"to": "moon"}))
    assert emu.calls_to("chat.fly")[0].response["error"] == "unknown_method"
    assert any("invented_param" in v for v in emu.spec_violations)
    assert any("chat.fly" in v for v in emu.spec_violations)
    with pytest.raises(AssertionError, match="invented_param"):
        emu.assert_spec_clean()


def test_spec_check_skipped_without_specs(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_API_SPECS_DIR", str(tmp_path))
    monkeypatch.setattr(spec, "_warned", False)
    with pytest.warns(UserWarning, match="spec check skipped"):
        assert spec.load_spec_index() is None
    assert "spec check skipped" in capsys.readouterr().err


def test_views_files_and_response_url(emu: SlackEmulator, client: WebClient) -> None:
    alice = emu.add_user(name="alice")
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    }
    client.views_publish(user_id=alice["id"], view=home)
    published = emu.published_home(alice["id"])
    assert published is not None
    assert published["blocks"][0]["text"]["text"] == "x"
    modal = {
        "type": "modal",
        "callback_id": "apply",
        "title": {"type": "plain_text", "text": "申請"},
    }
    opened = client.views_open(trigger_id="1.2.abc", view=modal)["view"]
    client.views_update(view_id=opened["id"], hash=opened["hash"], view={**modal, "blocks": []})
    assert [v["callback_id"] for v in emu.opened_views()] == ["apply"]
    err = api_error(lambda: client.views_update(view_id=opened["id"], hash="stale", view=modal))
    assert err["error"] == "hash_conflict"
    too_long = {**modal, "title": {"type": "plain_text", "text": "x" * 25}}
    assert (
        api_error(lambda: client.views_open(trigger_id="t", view=too_long))["error"]
        == "invalid_arguments"
    )

    room = emu.add_channel("room", members=[emu.bot_user_id])
    client.files_upload_v2(channel=room["id"], content="a,b\n1,2\n", filename="r.csv", title="R")
    (uploaded,) = emu.files()
    assert (uploaded["name"], uploaded["title"], uploaded["size"]) == ("r.csv", "R", 8)
    assert uploaded["channels"] == [room["id"]]
    assert emu.messages(room["id"])[0]["files"][0]["id"] == uploaded["id"]

    url = emu.new_response_url()
    body = json.dumps({"text": "done", "response_type": "ephemeral"}).encode()
    req = Request(url, data=body, headers={"Content-Type": "application/json"})
    with urlopen(req, timeout=5) as resp:
        assert resp.status == 200
    assert emu.responses(url) == [{"text": "done", "response_type": "ephemeral"}]
    emu.assert_spec_clean()


# ---- signed requests into a Bolt app ------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def bolt_url(emu: SlackEmulator) -> Iterator[str]:
    app = App(
        signing_secret=SIGNING_SECRET,
        token_verification_enabled=False,
        client=WebClient(token=BOT_TOKEN, base_url=emu.api_url),
    )

    @app.event("team_join")
    def welcome(event: dict[str, Any], client: WebClient) -> None:
        client.chat_postMessage(channel=event["user"]["id"], text="ようこそ")

    @app.command("/kyoso")
    def kyoso(
        ack: Callable[..., None], respond: Callable[..., None], command: dict[str, Any]
    ) -> None:
        ack()
        respond(f"echo: {command['text']}")

    @app.action("join")
    def join(ack: Callable[..., None], body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_postMessage(
            channel=body["user"]["id"], text=f"joined {body['actions'][0]['value']}"
        )

    @app.view("apply")
    def apply(ack: Callable[..., None], view: dict[str, Any]) -> None:
        value = view["state"]["values"]["name"]["input"]["value"]
        if not value:
            ack(response_action="errors", errors={"name": "required"})
        else:
            ack()

    server: WSGIServer = make_server(
        "127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/slack/events"
    finally:
        server.shutdown()
        server.server_close()


def test_signature_format() -> None:
    # Slack's documented example request and signature.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        b"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook"
        b"-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977"
        b"00885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d"
        b"10d2c447fce8b6703c"
    )
    assert (
        sign("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body)
        == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


def test_signed_requests_accepted_tampered_rejected(emu: SlackEmulator, bolt_url: str) -> None:
    sender = SlackSender(events_url=bolt_url, signing_secret=SIGNING_SECRET, emulator=emu)
    newcomer = emu.add_user(name="newcomer", email="new@example.jp")
    user = {"id": newcomer["id"], "name": "newcomer", "team_id": emu.team_id}

    assert sender.event({"type": "team_join", "user": user}).status == 200
    assert wait_for(lambda: emu.dm_messages(newcomer["id"]))[0]["text"] == "ようこそ"
    retried = sender.event({"type": "team_join", "user": user}, retry_num=1)
    assert retried.status == 200
    wait_for(lambda: len(emu.dm_messages(newcomer["id"])) == 2)  # Bolt does not dedupe
    assert sender.event({"type": "team_join", "user": user}, tamper=True).status == 401
    stale = sender.event({"type": "team_join", "user": user}, timestamp=time.time() - 600)
    assert stale.status == 401
    assert sender.raw(b"{}", {"Content-Type": "application/json"}).status == 401
    assert sender.url_verification("abc").json() == {"challenge": "abc"}

    emu.add_channel("general", is_general=True, members=[emu.bot_user_id, newcomer["id"]])
    general = emu.channel_by_name("general")
    assert general is not None
    assert (
        sender.command("/kyoso", "help", user_id=newcomer["id"], channel_id=general["id"]).status
        == 200
    )
    responses = wait_for(emu.all_responses)
    assert responses[0][1]["text"] == "echo: help"

    clicked = sender.block_action(
        "join",
        "event-1",
        user_id=newcomer["id"],
        channel_id=general["id"],
        message={"ts": "1700000000.000100", "text": "join?"},
    )
    assert clicked.status == 200
    wait_for(lambda: len(emu.dm_messages(newcomer["id"])) >= 3)
    assert emu.dm_messages(newcomer["id"])[-1]["text"] == "joined event-1"

    empty = sender.view_submission(
        "apply",
        values={"name": {"input": {"type": "plain_text_input", "value": ""}}},
        user_id=newcomer["id"],
    )
    assert empty.json() == {"response_action": "errors", "errors": {"name": "required"}}
    filled = sender.view_submission(
        "apply",
        values={"name": {"input": {"type": "plain_text_input", "value": "山田"}}},
        user_id=newcomer["id"],
    )
    assert filled.status == 200 and filled.body_text == ""
    emu.assert_spec_clean()
