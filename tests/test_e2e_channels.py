"""Channels end to end over HTTP: request, inline errors, review, provisioning in resumable
steps, the registry's events, listing, editing, dormant channels and facilitator tools."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot import ids
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.domain.channels import SlackChannel
from bot.services import members
from bot.services.channels import dormancy, facilitation, registry
from bot.services.channels import review as request_review
from bot.views.channels import review as review_views
from models import (
    AuditEntry,
    Channel,
    ChannelRequest,
    ChannelRequestStatus,
    ChannelStatus,
    ChannelSummary,
    DormancyOutcome,
    DormancyReview,
    Organisation,
    Role,
)
from scheduler import channel_jobs
from scheduler.jobs import JobContext, find_job
from tests.support.kyoso_server import (
    SIGNING_SECRET,
    RunningKyoso,
    make_settings,
    serve_kyoso,
    wait_for,
)
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackResponse, SlackSender

SECRETARY, REQUESTER, FACILITATOR, MEMBER = "U0SEC", "U0REQ", "U0FAC", "U0MEM"
ANNOUNCE = "C0ANNOUNCE"
NAME = "デジ_pj_子育て支援"


@pytest.fixture(autouse=True)
def _people(emulator: SlackEmulator, session_factory: SessionFactory, clock: FixedClock) -> None:
    for user_id in (SECRETARY, REQUESTER, FACILITATOR, MEMBER):
        emulator.add_user(user_id, name=user_id.lower(), locale="ja-JP")
    emulator.add_channel("お知らせ", channel_id=ANNOUNCE, members=[emulator.bot_user_id])
    with session_factory.begin() as session:
        for user_id in (SECRETARY, REQUESTER, FACILITATOR, MEMBER):
            members.ensure_member(session, clock=clock, slack_user_id=user_id)
        members.grant_role(
            session, clock=clock, slack_user_id=SECRETARY, role=Role.SECRETARIAT, actor="cli"
        )


@pytest.fixture
def running(
    emulator: SlackEmulator,
    database_url: str,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> Iterator[RunningKyoso]:
    settings = make_settings(emulator.api_url, database_url, KYOSO_ANNOUNCE_CHANNEL=ANNOUNCE)
    with serve_kyoso(settings, session_factory=session_factory, clock=clock) as running:
        yield running


@pytest.fixture
def sender(running: RunningKyoso, emulator: SlackEmulator) -> SlackSender:
    return SlackSender(running.events_url, SIGNING_SECRET, emulator)


@pytest.fixture
def digital_agency(session_factory: SessionFactory) -> int:
    with session_factory() as session:
        found = session.scalar(select(Organisation.id).where(Organisation.slug == "digital"))
    assert found is not None
    return found


def _values(
    *,
    kind: str | None = "pj",
    name: str = "子育て支援",
    purpose: str = "子育て支援策の情報交換",
    reason: str = "各自治体の取り組みを共有したい",
    organisation: int | None = None,
    facilitators: tuple[str, ...] = (FACILITATOR,),
    prefecture: str | None = None,
    end_date: str | None = None,
    distinct: bool = False,
) -> dict[str, Any]:
    def one(value: dict[str, Any]) -> dict[str, Any]:
        return {ids.CHANNEL_INPUT: value}

    return {
        ids.CHANNEL_KIND_BLOCK: one(
            {"type": "radio_buttons", "selected_option": {"value": kind} if kind else None}
        ),
        ids.CHANNEL_NAME_BLOCK: one({"type": "plain_text_input", "value": name}),
        ids.CHANNEL_PURPOSE_BLOCK: one({"type": "plain_text_input", "value": purpose}),
        ids.CHANNEL_ORGANISATION_BLOCK: one(
            {
                "type": "static_select",
                "selected_option": {"value": str(organisation)} if organisation else None,
            }
        ),
        ids.CHANNEL_FACILITATORS_BLOCK: one(
            {"type": "multi_users_select", "selected_users": list(facilitators)}
        ),
        ids.CHANNEL_PREFECTURE_BLOCK: one(
            {
                "type": "static_select",
                "selected_option": {"value": prefecture} if prefecture else None,
            }
        ),
        ids.CHANNEL_REASON_BLOCK: one({"type": "plain_text_input", "value": reason}),
        ids.CHANNEL_END_DATE_BLOCK: one({"type": "datepicker", "selected_date": end_date}),
        ids.CHANNEL_DISTINCT_BLOCK: one(
            {"type": "checkboxes", "selected_options": [{"value": "yes"}] if distinct else []}
        ),
    }


def _open_request_modal(sender: SlackSender, emulator: SlackEmulator, user: str) -> dict[str, Any]:
    before = len(emulator.opened_views())
    assert sender.command("/kyoso", "channel", user_id=user, channel_id="C0REVIEW").status == 200
    view = wait_for(lambda: emulator.opened_views()[before:])[-1]
    assert view["callback_id"] == ids.CHANNEL_REQUEST_MODAL
    return view


def _submit(sender: SlackSender, view: dict[str, Any], user: str, **values: Any) -> SlackResponse:
    return sender.view_submission(
        ids.CHANNEL_REQUEST_MODAL, values=_values(**values), user_id=user, view_id=view["id"]
    )


def _request(session_factory: SessionFactory) -> ChannelRequest:
    with session_factory() as session:
        return session.scalars(select(ChannelRequest)).one()


def _review_message(emulator: SlackEmulator) -> dict[str, Any]:
    messages = [m for m in emulator.messages("C0REVIEW") if "チャンネル開設申請" in _rendered(m)]
    assert messages, "no review message"
    return messages[-1]


def _rendered(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


def _click(
    sender: SlackSender, emulator: SlackEmulator, action_id: str, value: str, user: str
) -> SlackResponse:
    return sender.block_action(
        action_id,
        value,
        user_id=user,
        channel_id="C0REVIEW",
        message=_review_message(emulator),
        block_id=ids.CHANNEL_REVIEW_BLOCK,
    )


def _actions(session_factory: SessionFactory, prefix: str) -> list[str]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.startswith(prefix))
                .order_by(AuditEntry.id)
            )
        )


def _submitted_request(
    sender: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory, organisation: int
) -> str:
    view = _open_request_modal(sender, emulator, REQUESTER)
    response = _submit(sender, view, REQUESTER, organisation=organisation)
    assert response.status == 200 and response.body_text in ("", "{}"), response.body_text
    wait_for(lambda: "channel_approve" in json.dumps(emulator.messages("C0REVIEW")))
    return _request(session_factory).public_id


# --- request → inline errors → corrected → approval → provisioned ---------------------------------


def test_request_with_inline_errors_then_approval_provisions_everything(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    digital_agency: int,
) -> None:
    # A channel made outside Kyoso reaches the registry through its event.
    emulator.add_channel("デジ_pj_こそだて", channel_id="C0KOSO", members=[MEMBER])
    created = {"id": "C0KOSO", "name": "デジ_pj_こそだて", "created": 1700000000, "creator": MEMBER}
    assert sender.event({"type": "channel_created", "channel": created}).status == 200
    wait_for(lambda: _registered(session_factory, "C0KOSO"))

    view = _open_request_modal(sender, emulator, REQUESTER)
    rendered = json.dumps(view["blocks"], ensure_ascii=False)
    assert "デジ_pj_" in rendered and "デジタル庁" in rendered and "北海道" in rendered

    # Slack's rules, the kind's requirements, all at once, each under its own field.
    bad = _submit(
        sender, view, REQUESTER, name="Kosodate Shien", purpose="  ", reason="", facilitators=()
    )
    assert bad.status == 200
    errors = bad.json()["errors"]
    assert bad.json()["response_action"] == "errors"
    assert set(errors) == {
        ids.CHANNEL_NAME_BLOCK,
        ids.CHANNEL_PURPOSE_BLOCK,
        ids.CHANNEL_REASON_BLOCK,
        ids.CHANNEL_FACILITATORS_BLOCK,
        ids.CHANNEL_ORGANISATION_BLOCK,
    }
    assert "小文字" in errors[ids.CHANNEL_NAME_BLOCK]
    assert "デジ_pj_kosodate-shien" in errors[ids.CHANNEL_NAME_BLOCK]  # a usable spelling

    # Another kind's prefix.
    prefix = _submit(sender, view, REQUESTER, name="デジ_re_北海道", organisation=digital_agency)
    assert "別の種類" in prefix.json()["errors"][ids.CHANNEL_NAME_BLOCK]

    # A kana variant of an existing channel: shown by name, and linked in a DM to join it.
    variant = _submit(sender, view, REQUESTER, name="コソダテ", organisation=digital_agency)
    assert "#デジ_pj_こそだて" in variant.json()["errors"][ids.CHANNEL_NAME_BLOCK]
    dm = wait_for(lambda: emulator.dm_messages(REQUESTER))
    assert "<#C0KOSO>" in json.dumps(dm[-1]["blocks"], ensure_ascii=False)
    # Ticking "this one is different" does not override the same name written differently.
    again = _submit(
        sender, view, REQUESTER, name="こそ-だて", organisation=digital_agency, distinct=True
    )
    assert again.json()["response_action"] == "errors"
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ChannelRequest)) == 0
    assert emulator.calls_to("conversations.create") == []

    good = _submit(sender, view, REQUESTER, organisation=digital_agency)
    assert good.status == 200 and good.body_text in ("", "{}")
    request = _request(session_factory)
    assert (request.name, request.status) == (NAME, ChannelRequestStatus.PENDING)
    review = wait_for(lambda: "channel_approve" in json.dumps(emulator.messages("C0REVIEW")))
    assert review
    shown = _rendered(_review_message(emulator))
    assert NAME in shown and "デジタル庁" in shown and f"<@{FACILITATOR}>" in shown
    assert "受け付けました" in emulator.dm_messages(REQUESTER)[-1]["text"]

    assert _click(sender, emulator, ids.CHANNEL_APPROVE, request.public_id, SECRETARY).status == 200
    done = wait_for(lambda: _status(session_factory) is ChannelRequestStatus.PROVISIONED)
    assert done
    created_calls = emulator.calls_to("conversations.create")
    assert [c.params["name"] for c in created_calls] == [NAME]
    channel_id = created_calls[0].response["channel"]["id"]
    channel = emulator.channel(channel_id)
    assert channel is not None
    assert channel["purpose"]["value"] == "子育て支援策の情報交換"
    assert "政策テーマ" in channel["topic"]["value"] and "デジタル庁" in channel["topic"]["value"]
    assert {REQUESTER, FACILITATOR} <= set(channel["members"])
    first = emulator.messages(channel_id)[0]
    assert "参加のルール" in _rendered(first) and "子育て支援策の情報交換" in _rendered(first)
    assert emulator.pins(channel_id) == [first["ts"]]
    announcement = emulator.messages(ANNOUNCE)[-1]
    assert f"<#{channel_id}>" in _rendered(announcement)
    # The registry knows the channel, its kind and its facilitators.
    with session_factory() as session:
        row = session.scalars(select(Channel).where(Channel.slack_channel_id == channel_id)).one()
        assert (row.category.value, row.facilitating_organisation_id) == ("pj", digital_agency)
        assert facilitation.facilitator_ids(session, row) == [FACILITATOR]
    # The requester is told each decision; the review message shows every step done.
    told = [m["text"] for m in emulator.dm_messages(REQUESTER)]
    assert any("承認されました" in text for text in told)
    wait_for(lambda: any("できました" in text for text in _dm_texts(emulator, REQUESTER)))
    wait_for(lambda: "を作成しました" in _rendered(_review_message(emulator)))
    assert ids.CHANNEL_APPROVE not in _rendered(_review_message(emulator))
    assert _actions(session_factory, "channel_request.") == [
        "channel_request.submitted",
        "channel_request.approved",
        "channel_request.channel_created",
        "channel_request.purpose_done",
        "channel_request.invite_done",
        "channel_request.welcome_done",
        "channel_request.announce_done",
        "channel_request.provisioned",
    ]

    # A second click decides nothing and creates nothing.
    _click(sender, emulator, ids.CHANNEL_APPROVE, request.public_id, SECRETARY)
    refusal = wait_for(
        lambda: [b for _, b in emulator.all_responses() if "すでに処理" in b["text"]]
    )
    assert "作成済み" in refusal[0]["text"]
    assert len(emulator.calls_to("conversations.create")) == 1


def _dm_texts(emulator: SlackEmulator, user: str) -> list[str]:
    return [m.get("text", "") for m in emulator.dm_messages(user)]


def _registered(session_factory: SessionFactory, channel_id: str) -> Channel | None:
    with session_factory() as session:
        return registry.find_channel(session, channel_id)


def _status(session_factory: SessionFactory) -> ChannelRequestStatus:
    with session_factory() as session:
        return session.scalars(select(ChannelRequest.status)).one()


def test_a_member_pressing_approve_is_refused_and_nothing_changes(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    digital_agency: int,
) -> None:
    public_id = _submitted_request(sender, emulator, session_factory, digital_agency)
    calls = len(emulator.calls_to("chat.update"))
    for action in (ids.CHANNEL_APPROVE, ids.CHANNEL_RETRY, ids.CHANNEL_REJECT, ids.CHANNEL_RETURN):
        _click(sender, emulator, action, public_id, MEMBER)
    refusals = wait_for(lambda: len(emulator.all_responses()) >= 4 and emulator.all_responses())
    assert all("事務局メンバーのみ" in body["text"] for _, body in refusals)
    assert _status(session_factory) is ChannelRequestStatus.PENDING
    assert emulator.calls_to("conversations.create") == []
    assert len(emulator.calls_to("chat.update")) == calls
    assert len(emulator.calls_to("views.open")) == 1  # the request form only: no reason modal
    assert _actions(session_factory, "channel_request.") == ["channel_request.submitted"]
    # The reason modal (as Slack sends it back, with its blocks) cannot be submitted by a
    # member either: the refusal shows under its field.
    modal = review_views.decision_modal(
        callback_id=ids.CHANNEL_REJECT_MODAL, public_id=public_id, language="ja", kind="reject"
    ).to_dict()
    values = {ids.CHANNEL_DECISION_BLOCK: {ids.CHANNEL_INPUT: {"value": "x"}}}
    response = sender.view_submission(
        ids.CHANNEL_REJECT_MODAL,
        values=values,
        user_id=MEMBER,
        private_metadata=modal["private_metadata"],
        blocks=modal["blocks"],
    )
    assert response.json()["response_action"] == "errors"
    assert "事務局メンバーのみ" in response.json()["errors"][ids.CHANNEL_DECISION_BLOCK]
    assert _status(session_factory) is ChannelRequestStatus.PENDING


# --- name_taken: handled, explained, retried once the name is free -------------------------------


def test_name_taken_is_explained_and_retry_completes_after_the_name_is_freed(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    digital_agency: int,
    running: RunningKyoso,
    clock: FixedClock,
) -> None:
    public_id = _submitted_request(sender, emulator, session_factory, digital_agency)
    # Someone made a channel of that name in Slack meanwhile (the registry has not seen it).
    squatter = emulator.add_channel(NAME, members=[MEMBER])
    _click(sender, emulator, ids.CHANNEL_APPROVE, public_id, SECRETARY)
    wait_for(lambda: _request(session_factory).last_error == "create:name_taken")
    explained = wait_for(
        lambda: (
            "name_taken" in _rendered(_review_message(emulator))
            and _rendered(_review_message(emulator))
        )
    )
    assert "名前を空けてから「再試行」" in explained and ids.CHANNEL_RETRY in explained
    assert _status(session_factory) is ChannelRequestStatus.APPROVED
    assert emulator.calls_to("conversations.setPurpose") == []

    # The catch-up job leaves it for a person: a retry would fail the same way.
    ctx = JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=running.kyoso.deps.client,
        settings=running.kyoso.deps.settings,
    )
    assert "provision_failed" not in find_job("channels-catch-up").run(ctx)
    assert len(emulator.calls_to("conversations.create")) == 1

    # Retrying while the name is still taken fails again, and says so.
    _click(sender, emulator, ids.CHANNEL_RETRY, public_id, SECRETARY)
    wait_for(lambda: len(emulator.calls_to("conversations.create")) == 2)
    # Told twice now: after the approval and after this retry (whose lease is then released).
    wait_for(
        lambda: sum("まだ完了していません" in b["text"] for _, b in emulator.all_responses()) == 2
    )

    # The secretariat frees the name; the retry completes every step, once.
    with emulator.state.lock:
        emulator.state.channels[squatter["id"]]["name"] = "旧-子育て支援"
    _click(sender, emulator, ids.CHANNEL_RETRY, public_id, SECRETARY)
    wait_for(lambda: _status(session_factory) is ChannelRequestStatus.PROVISIONED)
    created = [c for c in emulator.calls_to("conversations.create") if c.response["ok"]]
    assert len(created) == 1
    for method in ("conversations.setPurpose", "conversations.setTopic", "pins.add"):
        assert len(emulator.calls_to(method)) == 1, method
    assert len(emulator.messages(ANNOUNCE)) == 1
    wait_for(lambda: "を作成しました" in _rendered(_review_message(emulator)))
    failures = _actions(session_factory, "channel_request.provisioning_failed")
    assert failures == ["channel_request.provisioning_failed"] * 2


def test_a_passing_error_stops_provisioning_and_the_job_completes_what_is_missing(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    digital_agency: int,
    running: RunningKyoso,
    clock: FixedClock,
) -> None:
    public_id = _submitted_request(sender, emulator, session_factory, digital_agency)
    emulator.fail("conversations.invite", "internal_error")
    _click(sender, emulator, ids.CHANNEL_APPROVE, public_id, SECRETARY)
    wait_for(lambda: _request(session_factory).last_error == "invite:internal_error")
    request = _request(session_factory)
    assert request.slack_channel_id and request.purpose_set_at and not request.invited_at
    ctx = JobContext.with_slack(
        session_factory=session_factory,
        clock=clock,
        client=running.kyoso.deps.client,
        settings=running.kyoso.deps.settings,
    )
    assert find_job("channels-catch-up").run(ctx) == {
        "posted": 0,
        "failed": 0,
        "provision_provisioned": 1,
    }
    assert _status(session_factory) is ChannelRequestStatus.PROVISIONED
    # Nothing done before the failure was done again.
    assert len(emulator.calls_to("conversations.create")) == 1
    assert len(emulator.calls_to("conversations.setPurpose")) == 1
    channel = emulator.channel(request.slack_channel_id)
    assert channel is not None and {REQUESTER, FACILITATOR} <= set(channel["members"])
    assert len(emulator.messages(ANNOUNCE)) == 1
    assert find_job("channels-catch-up").run(ctx) == {"posted": 0, "failed": 0}


def test_an_interrupted_create_is_adopted_not_duplicated(
    clock: FixedClock,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    digital_agency: int,
    sender: SlackSender,
    running: RunningKyoso,
) -> None:
    """A run died between Slack's answer and the mark: the next run adopts its own channel."""
    clock.set(datetime.now(UTC))  # Slack's `created` is wall-clock time
    public_id = _submitted_request(sender, emulator, session_factory, digital_agency)
    with session_factory.begin() as session:
        request_review.approve(
            session, clock=running.kyoso.deps.clock, public_id=public_id, actor=SECRETARY
        )
    client = WebClient(token="xoxb-test", base_url=emulator.api_url)
    made = client.conversations_create(name=NAME)["channel"]
    assert sender.event({"type": "channel_created", "channel": made}).status == 200
    wait_for(lambda: _registered(session_factory, made["id"]))
    result = running.kyoso.deps.gateway.channels.provisioning.provision(public_id)
    assert result.status == "provisioned"
    assert _request(session_factory).slack_channel_id == made["id"]


# --- return for changes, resubmission, rejection --------------------------------------------------


def _decide_with_modal(
    sender: SlackSender, emulator: SlackEmulator, action: str, public_id: str, text: str
) -> SlackResponse:
    before = len(emulator.opened_views())
    _click(sender, emulator, action, public_id, SECRETARY)
    view = wait_for(lambda: emulator.opened_views()[before:])[-1]
    values = {ids.CHANNEL_DECISION_BLOCK: {ids.CHANNEL_INPUT: {"value": text}}}
    return sender.view_submission(
        view["callback_id"], values=values, user_id=SECRETARY, view_id=view["id"]
    )


def test_return_for_changes_then_the_requester_edits_and_resubmits(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    digital_agency: int,
) -> None:
    public_id = _submitted_request(sender, emulator, session_factory, digital_agency)
    response = _decide_with_modal(
        sender, emulator, ids.CHANNEL_RETURN, public_id, "目的をもう少し具体的に"
    )
    assert response.body_text in ("", "{}")
    assert _status(session_factory) is ChannelRequestStatus.RETURNED
    dm = wait_for(
        lambda: [
            m
            for m in emulator.dm_messages(REQUESTER)
            if "修正のお願い" in m["text"] or "修正のお願い" in _rendered(m)
        ]
    )[-1]
    assert "目的をもう少し具体的に" in _rendered(dm) and ids.CHANNEL_RESUBMIT in _rendered(dm)
    wait_for(lambda: "修正を依頼しました" in _rendered(_review_message(emulator)))
    assert ids.CHANNEL_APPROVE not in _rendered(_review_message(emulator))

    # Someone else cannot open it.
    sender.block_action(
        ids.CHANNEL_RESUBMIT, public_id, user_id=MEMBER, channel_id="D0X", message=dm
    )
    wait_for(lambda: any("申請者だけ" in b["text"] for _, b in emulator.all_responses()))

    before = len(emulator.opened_views())
    sender.block_action(
        ids.CHANNEL_RESUBMIT, public_id, user_id=REQUESTER, channel_id="D0X", message=dm
    )
    view = wait_for(lambda: emulator.opened_views()[before:])[-1]
    prefilled = json.dumps(view["blocks"], ensure_ascii=False)
    assert (
        "子育て支援" in prefilled
        and FACILITATOR in prefilled
        and "申請の修正" in json.dumps(view["title"], ensure_ascii=False)
    )
    response = _submit(
        sender, view, REQUESTER, organisation=digital_agency, purpose="保育所入所手続のDX事例の共有"
    )
    assert response.body_text in ("", "{}"), response.body_text
    assert _status(session_factory) is ChannelRequestStatus.PENDING
    assert _request(session_factory).purpose == "保育所入所手続のDX事例の共有"
    wait_for(lambda: "再申請しました" in _rendered(_review_message(emulator)))
    assert ids.CHANNEL_APPROVE in _rendered(_review_message(emulator))
    # The same modal cannot resubmit twice.
    twice = _submit(sender, view, REQUESTER, organisation=digital_agency)
    assert "すでに処理" in json.dumps(twice.json(), ensure_ascii=False)
    assert _actions(session_factory, "channel_request.") == [
        "channel_request.submitted",
        "channel_request.returned",
        "channel_request.resubmitted",
    ]


def test_reject_needs_a_reason_and_tells_the_requester(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    digital_agency: int,
) -> None:
    public_id = _submitted_request(sender, emulator, session_factory, digital_agency)
    empty = _decide_with_modal(sender, emulator, ids.CHANNEL_REJECT, public_id, "  ")
    assert empty.json() == {
        "response_action": "errors",
        "errors": {ids.CHANNEL_DECISION_BLOCK: "コメントを入力してください。"},
    }
    done = _decide_with_modal(
        sender, emulator, ids.CHANNEL_REJECT, public_id, "既存の <#C1> で扱えます"
    )
    assert done.body_text in ("", "{}")
    assert _status(session_factory) is ChannelRequestStatus.REJECTED
    dm = wait_for(lambda: [m for m in emulator.dm_messages(REQUESTER) if "見送り" in _rendered(m)])
    assert "既存の &lt;#C1&gt; で扱えます" in _rendered(dm[-1])  # member text is escaped
    wait_for(lambda: "が却下しました" in _rendered(_review_message(emulator)))
    assert emulator.calls_to("conversations.create") == []
    with session_factory() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "channel_request.rejected")
        ).one()
    assert (entry.actor, entry.reason) == (SECRETARY, "既存の <#C1> で扱えます")


# --- the registry's events -----------------------------------------------------------------------


def test_channel_events_keep_the_registry_exactly_once(
    sender: SlackSender, emulator: SlackEmulator, session_factory: SessionFactory
) -> None:
    emulator.add_channel("デジ_re_北海道", channel_id="C0HOK", purpose="道内の情報交換")
    created = {"id": "C0HOK", "name": "デジ_re_北海道", "created": 1700000000, "creator": MEMBER}
    for retry in (None, 1):
        sender.event(
            {"type": "channel_created", "channel": created}, event_id="EvCREATE", retry_num=retry
        )
    channel = wait_for(lambda: _registered(session_factory, "C0HOK"))
    assert channel.category.value == "re" and channel.status is ChannelStatus.ACTIVE
    sender.event(
        {"type": "channel_rename", "channel": {"id": "C0HOK", "name": "デジ_all_北海道"}},
        event_id="EvRENAME",
    )
    wait_for(lambda: (_registered(session_factory, "C0HOK") or channel).name == "デジ_all_北海道")
    assert _registered(session_factory, "C0HOK").category.value == "all"  # type: ignore[union-attr]
    for _ in range(2):
        sender.event(
            {"type": "channel_archive", "channel": "C0HOK", "user": MEMBER}, event_id="EvARCH"
        )
    wait_for(
        lambda: _registered(session_factory, "C0HOK").status is ChannelStatus.ARCHIVED  # type: ignore[union-attr]
    )
    sender.event({"type": "channel_unarchive", "channel": "C0HOK", "user": MEMBER})
    wait_for(
        lambda: _registered(session_factory, "C0HOK").status is ChannelStatus.ACTIVE  # type: ignore[union-attr]
    )
    wait_for(lambda: len(_actions(session_factory, "channel.")) == 4)
    assert _actions(session_factory, "channel.") == [
        "channel.created",
        "channel.renamed",
        "channel.archived",
        "channel.unarchived",
    ]
    # An event about a channel never seen: Slack is asked for the rest.
    emulator.add_channel("雑談", channel_id="C0CHAT", is_archived=True)
    sender.event({"type": "channel_archive", "channel": "C0CHAT", "user": MEMBER})
    found = wait_for(lambda: _registered(session_factory, "C0CHAT"))
    assert (found.name, found.category.value) == ("雑談", "other")


# --- /kyoso channels -----------------------------------------------------------------------------


def _register(
    session_factory: SessionFactory, clock: FixedClock, channel_id: str, name: str, **kw: Any
) -> None:
    with session_factory.begin() as session:
        registry.apply_slack_channel(
            session,
            clock=clock,
            slack_channel=SlackChannel(id=channel_id, name=name, **kw),
        )


def test_channels_list_by_kind_with_paging_within_block_kit_limits(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    for i in range(160):
        kind = ("all", "pj", "re")[i % 3]
        _register(
            session_factory,
            clock,
            f"C0L{i:04d}",
            f"デジ_{kind}_テーマ{i:03d}",
            purpose="<b>説明</b> " + "長い説明" * 40,
        )
    _register(session_factory, clock, "C0GONE", "デジ_pj_おわり", is_archived=True)
    sender.command("/kyoso", "channels", user_id=MEMBER, channel_id="C0REVIEW")
    first = wait_for(lambda: emulator.all_responses())[-1][1]
    assert len(first["blocks"]) <= 50
    text = json.dumps(first["blocks"], ensure_ascii=False)
    assert "160 件" in text and "全体" in text and "政策テーマ" in text and "地域" in text
    assert "<#C0L0000>" in text and "<#C0GONE>" not in text and "&lt;b&gt;" in text
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in first["blocks"])
    next_button = next(
        e
        for b in first["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.CHANNELS_PAGE_NEXT
    )
    sender.block_action(
        ids.CHANNELS_PAGE_NEXT,
        next_button["value"],
        user_id=MEMBER,
        channel_id="C0REVIEW",
        message={"ts": "1.0", "blocks": first["blocks"]},
    )
    second = wait_for(lambda: [b for _, b in emulator.all_responses() if b.get("replace_original")])
    assert "61〜120 件目" in json.dumps(second[-1]["blocks"], ensure_ascii=False)

    sender.command("/kyoso", "channels テーマ００７", user_id=MEMBER, channel_id="C0REVIEW")
    filtered = wait_for(
        lambda: [
            b
            for _, b in emulator.all_responses()
            if "テーマ007" in json.dumps(b, ensure_ascii=False)
            and "「" in json.dumps(b, ensure_ascii=False)
        ]
    )
    shown = json.dumps(filtered[-1]["blocks"], ensure_ascii=False)
    assert "<#C0L0007>" in shown and "<#C0L0008>" not in shown


# --- editing a channel ---------------------------------------------------------------------------


def test_facilitators_edit_purpose_and_facilitators_members_cannot(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    emulator.add_channel("デジ_pj_防災", channel_id="C0BOSAI", members=[emulator.bot_user_id])
    _register(session_factory, clock, "C0BOSAI", "デジ_pj_防災", purpose="防災")
    with session_factory.begin() as session:
        facilitation.update_channel(
            session,
            clock=clock,
            slack_channel_id="C0BOSAI",
            actor=SECRETARY,
            purpose="防災",
            facilitators=[FACILITATOR],
            end_date=None,
        )
    sender.command("/kyoso", "channel edit", user_id=MEMBER, channel_id="C0BOSAI")
    refusal = wait_for(lambda: emulator.all_responses())[-1][1]
    assert "ファシリテーターと事務局だけ" in refusal["text"]

    before = len(emulator.opened_views())
    sender.command(
        "/kyoso", "channel edit <#C0BOSAI|デジ_pj_防災>", user_id=FACILITATOR, channel_id="D0X"
    )
    view = wait_for(lambda: emulator.opened_views()[before:])[-1]
    assert view["callback_id"] == ids.CHANNEL_EDIT_MODAL
    values = {
        ids.CHANNEL_PURPOSE_BLOCK: {ids.CHANNEL_INPUT: {"value": "防災・減災の取り組み"}},
        ids.CHANNEL_FACILITATORS_BLOCK: {
            ids.CHANNEL_INPUT: {"selected_users": [FACILITATOR, REQUESTER]}
        },
        ids.CHANNEL_END_DATE_BLOCK: {ids.CHANNEL_INPUT: {"selected_date": None}},
    }
    # A member submitting a forged edit is refused on arrival.
    forged = sender.view_submission(
        ids.CHANNEL_EDIT_MODAL, values=values, user_id=MEMBER, view_id=view["id"]
    )
    assert forged.json()["response_action"] == "errors"
    ok = sender.view_submission(
        ids.CHANNEL_EDIT_MODAL, values=values, user_id=FACILITATOR, view_id=view["id"]
    )
    assert ok.body_text in ("", "{}")
    wait_for(lambda: emulator.calls_to("conversations.setPurpose"))
    assert emulator.channel("C0BOSAI")["purpose"]["value"] == "防災・減災の取り組み"  # type: ignore[index]
    with session_factory() as session:
        channel = registry.get_channel(session, "C0BOSAI")
        assert channel.purpose == "防災・減災の取り組み"
        assert sorted(facilitation.facilitator_ids(session, channel)) == sorted(
            [FACILITATOR, REQUESTER]
        )
    assert _actions(session_factory, "channel.updated") == ["channel.updated"] * 2


# --- facilitator tools ---------------------------------------------------------------------------


def test_summary_shortcut_pins_and_records_for_facilitators_only(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    emulator.add_channel("デジ_pj_防災", channel_id="C0BOSAI", members=[emulator.bot_user_id])
    _register(session_factory, clock, "C0BOSAI", "デジ_pj_防災")
    with session_factory.begin() as session:
        facilitation.update_channel(
            session,
            clock=clock,
            slack_channel_id="C0BOSAI",
            actor=SECRETARY,
            purpose="防災",
            facilitators=[FACILITATOR],
            end_date=None,
        )
    client = WebClient(token="xoxb-test", base_url=emulator.api_url)
    posted = client.chat_postMessage(channel="C0BOSAI", text="本日の議論のまとめ")
    message = {"type": "message", "user": MEMBER, "ts": posted["ts"], "text": "本日の議論のまとめ"}
    sender.message_shortcut(
        ids.CHANNEL_SUMMARY_SHORTCUT, message=message, channel_id="C0BOSAI", user_id=MEMBER
    )
    wait_for(lambda: any("ファシリテーター" in b["text"] for _, b in emulator.all_responses()))
    assert emulator.pins("C0BOSAI") == []
    for _ in range(2):
        sender.message_shortcut(
            ids.CHANNEL_SUMMARY_SHORTCUT, message=message, channel_id="C0BOSAI", user_id=FACILITATOR
        )
    wait_for(lambda: any("すでに" in b["text"] for _, b in emulator.all_responses()))
    assert emulator.pins("C0BOSAI") == [posted["ts"]]
    with session_factory() as session:
        summary = session.scalars(select(ChannelSummary)).one()
    assert (summary.channel_id, summary.author_id, summary.recorded_by) == (
        "C0BOSAI",
        MEMBER,
        FACILITATOR,
    )
    assert summary.permalink and "C0BOSAI" in summary.permalink
    assert _actions(session_factory, "channel.summary") == ["channel.summary_recorded"]


def test_point_shortcut_suggests_a_registry_channel_in_the_thread(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
) -> None:
    emulator.add_channel("デジ_all_雑談", channel_id="C0CHAT", members=[emulator.bot_user_id])
    _register(session_factory, clock, "C0CHAT", "デジ_all_雑談")
    _register(session_factory, clock, "C0BOSAI", "デジ_pj_防災", purpose="防災・減災")
    with session_factory.begin() as session:
        facilitation.update_channel(
            session,
            clock=clock,
            slack_channel_id="C0CHAT",
            actor=SECRETARY,
            purpose="雑談",
            facilitators=[FACILITATOR],
            end_date=None,
        )
    client = WebClient(token="xoxb-test", base_url=emulator.api_url)
    posted = client.chat_postMessage(channel="C0CHAT", text="避難所の運営について")
    message = {
        "type": "message",
        "user": MEMBER,
        "ts": posted["ts"],
        "text": "避難所の運営について",
    }
    sender.message_shortcut(
        ids.CHANNEL_POINT_SHORTCUT, message=message, channel_id="C0CHAT", user_id=FACILITATOR
    )
    view = wait_for(lambda: emulator.opened_views())[-1]
    assert view["callback_id"] == ids.CHANNEL_POINT_MODAL
    # The select searches the registry as the facilitator types (block_suggestion).
    suggestion = {
        "type": "block_suggestion",
        "user": {"id": FACILITATOR},
        "team": {"id": emulator.team_id},
        "api_app_id": emulator.app_id,
        "token": "legacy-verification-token",
        "action_id": ids.CHANNEL_POINT_TARGET,
        "block_id": ids.CHANNEL_POINT_TARGET_BLOCK,
        "value": "防災",
        "view": view,
    }
    options = sender._send_payload(suggestion).json()["options"]
    assert [o["value"] for o in options] == ["C0BOSAI"]
    values = {
        ids.CHANNEL_POINT_TARGET_BLOCK: {
            ids.CHANNEL_POINT_TARGET: {"selected_option": {"value": "C0BOSAI"}}
        },
        ids.CHANNEL_POINT_NOTE_BLOCK: {ids.CHANNEL_INPUT: {"value": "詳しい方がいます"}},
    }
    forged = sender.view_submission(
        ids.CHANNEL_POINT_MODAL, values=values, user_id=MEMBER, view_id=view["id"]
    )
    assert forged.json()["response_action"] == "errors"
    ok = sender.view_submission(
        ids.CHANNEL_POINT_MODAL, values=values, user_id=FACILITATOR, view_id=view["id"]
    )
    assert ok.body_text in ("", "{}")
    reply = wait_for(lambda: [m for m in emulator.messages("C0CHAT") if m.get("thread_ts")])[-1]
    assert reply["thread_ts"] == posted["ts"]
    assert "<#C0BOSAI>" in reply["text"] and f"<@{MEMBER}>" in reply["text"]
    assert "詳しい方がいます" in reply["text"]
    wait_for(lambda: _actions(session_factory, "channel.pointed") == ["channel.pointed"])


# --- dormant channels: ask → remind once → listed → archive click --------------------------------


def test_dormant_channel_asked_reminded_listed_and_archived_with_one_click(
    sender: SlackSender,
    emulator: SlackEmulator,
    session_factory: SessionFactory,
    clock: FixedClock,
    running: RunningKyoso,
) -> None:
    now = clock.now()
    old = now - timedelta(days=200)
    emulator.add_channel("デジ_pj_休眠", channel_id="C0QUIET", members=[emulator.bot_user_id])
    emulator.add_channel("デジ_pj_無人", channel_id="C0ORPHAN", members=[emulator.bot_user_id])
    emulator.add_channel("デジ_pj_活発", channel_id="C0BUSY", members=[emulator.bot_user_id])
    emulator.add_channel("general", channel_id="C0GENERAL", is_general=True)
    emulator.add_user("U0LEFT", name="left", deleted=True)
    _register(session_factory, clock, "C0QUIET", "デジ_pj_休眠", created=old)
    _register(session_factory, clock, "C0ORPHAN", "デジ_pj_無人", created=old)
    _register(session_factory, clock, "C0BUSY", "デジ_pj_活発", created=old)
    _register(session_factory, clock, "C0GENERAL", "general", created=old, is_general=True)
    with session_factory.begin() as session:
        for channel_id, people in (("C0QUIET", [FACILITATOR]), ("C0ORPHAN", ["U0LEFT"])):
            facilitation.update_channel(
                session,
                clock=clock,
                slack_channel_id=channel_id,
                actor=SECRETARY,
                purpose="x",
                facilitators=people,
                end_date=None,
            )
        for channel_id, at in (
            ("C0QUIET", now - timedelta(days=120)),
            ("C0BUSY", now - timedelta(days=3)),
        ):
            dormancy.record_activity(session, slack_channel_id=channel_id, at=at)
    assert find_job("channels-dormancy")  # the registry's job; here its function, unpaced

    def run_round() -> dict[str, Any]:
        return channel_jobs.dormancy_round(
            running.kyoso.deps.gateway.channels,
            history_pace_seconds=0,
            users_pace_seconds=0,
        )

    # Week 0: the facilitator is asked by DM; the orphaned channel goes to the secretariat.
    first = run_round()
    assert first["asked"] == 2 and first["facilitators_left"] >= 1
    ask = [m for m in emulator.dm_messages(FACILITATOR) if ids.DORMANCY_KEEP in _rendered(m)]
    assert len(ask) == 1 and "<#C0QUIET>" in _rendered(ask[0])
    review_posts = [m for m in emulator.messages("C0REVIEW") if "C0ORPHAN" in _rendered(m)]
    assert review_posts and "<@U0LEFT>" in _rendered(review_posts[0])
    left_report = [m for m in emulator.messages("C0REVIEW") if "退会したチャンネル" in _rendered(m)]
    assert len(left_report) == 1
    assert run_round().get("asked", 0) == 0  # asked once

    # The secretariat keeps the orphaned channel from the review channel.
    orphan_review = _review_id(session_factory, "C0ORPHAN")
    sender.block_action(
        ids.DORMANCY_KEEP,
        str(orphan_review),
        user_id=SECRETARY,
        channel_id="C0REVIEW",
        message=review_posts[0],
    )
    wait_for(lambda: _outcome(session_factory, "C0ORPHAN") is DormancyOutcome.KEEP)

    # Week 1: one reminder, never two.
    clock.advance(timedelta(days=7))
    assert run_round()["reminded"] == 1
    assert run_round().get("reminded", 0) == 0
    reminders = [m for m in emulator.dm_messages(FACILITATOR) if "再送" in m["text"]]
    assert len(reminders) == 1

    # A member cannot answer for the channel.
    review_id = _review_id(session_factory, "C0QUIET")
    sender.block_action(
        ids.DORMANCY_ARCHIVE, str(review_id), user_id=MEMBER, channel_id="D0X", message=ask[0]
    )
    wait_for(lambda: any("ファシリテーター" in b["text"] for _, b in emulator.all_responses()))
    assert _outcome(session_factory, "C0QUIET") is DormancyOutcome.ASKED

    # Week 2: no answer → listed for the secretariat with an archive button.
    clock.advance(timedelta(days=7))
    assert run_round()["listed"] == 1
    listing = [m for m in emulator.messages("C0REVIEW") if ids.DORMANCY_ARCHIVE_NOW in _rendered(m)]
    assert len(listing) == 1 and "<#C0QUIET>" in _rendered(listing[0])
    assert "C0BUSY" not in _rendered(listing[0]) and "C0GENERAL" not in _rendered(listing[0])
    assert _outcome(session_factory, "C0QUIET") is DormancyOutcome.LISTED

    # A member's click is refused; the secretariat's archives once however many clicks.
    def archive_click(user: str) -> None:
        sender.block_action(
            ids.DORMANCY_ARCHIVE_NOW,
            str(review_id),
            user_id=user,
            channel_id="C0REVIEW",
            message=listing[0],
        )

    archive_click(MEMBER)
    wait_for(lambda: any("事務局メンバーのみ" in b["text"] for _, b in emulator.all_responses()))
    assert not emulator.channel("C0QUIET")["is_archived"]  # type: ignore[index]
    archive_click(SECRETARY)
    wait_for(lambda: emulator.channel("C0QUIET")["is_archived"])  # type: ignore[index]
    wait_for(lambda: _outcome(session_factory, "C0QUIET") is DormancyOutcome.ARCHIVED)
    archive_click(SECRETARY)
    wait_for(lambda: any("アーカイブ済み" in b["text"] for _, b in emulator.all_responses()))
    assert len([c for c in emulator.calls_to("conversations.archive") if c.response["ok"]]) == 1
    with session_factory() as session:
        assert registry.get_channel(session, "C0QUIET").status is ChannelStatus.ARCHIVED
    updated = wait_for(
        lambda: [m for m in emulator.messages("C0REVIEW") if "がアーカイブしました" in _rendered(m)]
    )
    assert ids.DORMANCY_ARCHIVE_NOW not in _rendered(updated[0])
    assert _actions(session_factory, "dormancy.") == [
        "dormancy.asked",
        "dormancy.asked",
        "dormancy.keep",
        "dormancy.reminded",
        "dormancy.listed",
    ]
    assert _actions(session_factory, "channel.archived") == ["channel.archived"]


def _review_id(session_factory: SessionFactory, channel_id: str) -> int:
    with session_factory() as session:
        return session.scalars(
            select(DormancyReview.id)
            .join(Channel, Channel.id == DormancyReview.channel_id)
            .where(Channel.slack_channel_id == channel_id)
        ).one()


def _outcome(session_factory: SessionFactory, channel_id: str) -> DormancyOutcome:
    with session_factory() as session:
        return session.scalars(
            select(DormancyReview.outcome)
            .join(Channel, Channel.id == DormancyReview.channel_id)
            .where(Channel.slack_channel_id == channel_id)
        ).one()
