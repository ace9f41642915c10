"""Every channel builder renders in Japanese and English within Block Kit's limits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from bot.channel_names import Likeness
from bot.domain.channels import (
    LIST_PAGE_SIZE,
    DormantItem,
    HistoryLine,
    Listed,
    ListingPage,
    RequestDraft,
    RequestItem,
    Similar,
    Step,
)
from bot.i18n import LANGUAGES, Language
from bot.views.channels import dormancy as dormancy_views
from bot.views.channels import facilitation as facilitation_views
from bot.views.channels import listing as listing_views
from bot.views.channels import provisioning as provisioning_views
from bot.views.channels import requests as request_views
from bot.views.channels import review as review_views
from bot.views.channels.metadata import RequestModalMetadata
from models import ChannelCategory

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
LONG = "とても長い説明<&>" * 200


def _item(status: str, **kw: object) -> RequestItem:
    values: dict[str, object] = {
        "public_id": "abc123",
        "requester": "U0REQ",
        "name": "デジ_pj_" + "あ" * 74,
        "category": ChannelCategory.PJ,
        "purpose": LONG,
        "reason": LONG,
        "prefecture": None,
        "organisation": "デジタル庁",
        "facilitators": tuple(f"U0F{i}" for i in range(10)),
        "end_date": date(2027, 3, 31),
        "created_at": NOW,
        "status": status,
        "similar": (Similar("デジ_pj_こそだて", Likeness.VARIANT, "C0KOSO"),),
    }
    values.update(kw)
    return RequestItem(**values)  # type: ignore[arg-type]


def _check(blocks: list[object], limit: int = 50) -> str:
    rendered = [b.to_dict() for b in blocks]  # type: ignore[attr-defined]
    assert len(rendered) <= limit
    for block in rendered:
        text = block.get("text", {})
        assert len(text.get("text", "")) <= 3000
    return json.dumps(rendered, ensure_ascii=False)


@pytest.mark.parametrize("language", LANGUAGES)
def test_modals_render(language: Language) -> None:
    modal = request_views.request_modal(
        language,
        organisations=[(i, "省庁" * 40) for i in range(120)],
        prefectures=["北海道", "沖縄県"],
        draft=RequestDraft(
            category=ChannelCategory.RE,
            suffix="北海道",
            prefecture="北海道",
            facilitator_ids=("U0A",),
            end_date=date(2027, 1, 1),
        ),
        public_id="abc",
    )
    data = modal.to_dict()
    assert len(data["title"]["text"]) <= 24 and len(data["blocks"]) <= 100
    assert RequestModalMetadata.load(data["private_metadata"]).public_id == "abc"
    for kind in ("return", "reject"):
        review_views.decision_modal(
            callback_id="x", public_id="p", language=language, kind=kind
        ).to_dict()
    facilitation_views.edit_modal(
        slack_channel_id="C1",
        name="デジ_pj_x",
        purpose=None,
        facilitators=(),
        end_date=None,
        language=language,
    ).to_dict()
    facilitation_views.point_modal(
        channel_id="C1", message_ts="1.0", author="U1", language=language
    ).to_dict()


@pytest.mark.parametrize("language", LANGUAGES)
def test_review_messages_for_every_state(language: Language) -> None:
    history = [HistoryLine("returned", "U0SEC", NOW, LONG)] * 3
    for status in ("pending", "returned", "rejected"):
        _check(review_views.review_blocks(_item(status), language, history=history))
    failing = _item(
        "approved",
        done=frozenset({Step.CREATE}),
        failure=("purpose", "name_taken"),
        slack_channel_id="C0NEW",
    )
    shown = _check(review_views.review_blocks(failing, language))
    assert "channel_retry" in shown
    for error in [*sorted(review_views.EXPLAINED_ERRORS), "weird_error"]:
        assert review_views.failure_text("create", error, "デジ_pj_x", language)
    done = _item("provisioned", done=frozenset(Step), slack_channel_id="C0NEW")
    assert "<#C0NEW>" in _check(review_views.review_blocks(done, language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_messages_render(language: Language) -> None:
    for kind in ("approved", "returned", "rejected", "provisioned"):
        _check(
            request_views.decision_dm_blocks(
                kind, public_id="p", name="n", language=language, reason=LONG, slack_channel_id="C1"
            )
        )
    _check(
        provisioning_views.welcome_blocks(
            purpose=LONG, facilitators=(), requester="U1", language=language
        )
    )
    _check(
        provisioning_views.announcement_blocks(
            slack_channel_id="C1", category=ChannelCategory.ALL, purpose=LONG, language=language
        )
    )
    topic = provisioning_views.topic_text(
        category=ChannelCategory.PJ,
        organisation="組織" * 200,
        end_date=date(2027, 1, 1),
        language=language,
    )
    assert len(topic) <= 250
    similar = [Similar(f"n{i}", Likeness.CLOSE, f"C{i}") for i in range(5)]
    _check(request_views.similar_blocks([*similar, Similar("r", Likeness.SAME)], language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_listing_pages_stay_within_limits(language: Language) -> None:
    channels = [
        Listed(f"C{i:05d}", f"デジ_pj_{i}", list(ChannelCategory)[i % 4], LONG, None)
        for i in range(LIST_PAGE_SIZE)
    ]
    page = ListingPage(
        word="",
        offset=60,
        total=300,
        channels=channels,
        counts={k: 75 for k in ChannelCategory},
        managed=channels[:8],
    )
    shown = _check(listing_views.listing_blocks(page, language))
    assert "channels_page_previous" in shown and "channels_page_next" in shown
    assert listing_views.parse_page_value(listing_views.page_value("防災", 60)) == ("防災", 60)
    assert listing_views.parse_page_value("garbage") == ("", 0)
    empty = ListingPage(word="x", offset=0, total=0, channels=[])
    _check(listing_views.listing_blocks(empty, language))
    options = facilitation_views.point_options(channels * 2, language)
    assert len(options) == 100 and all(len(o["text"]["text"]) <= 75 for o in options)


@pytest.mark.parametrize("language", LANGUAGES)
def test_dormancy_messages(language: Language) -> None:
    items = [
        DormantItem(
            review_id=i,
            slack_channel_id=f"C{i}",
            name="デジ_pj_" + "x" * 70,
            reason=("quiet", "ended", "unknown")[i % 3],
            last_activity_at=NOW if i % 2 else None,
            end_date=date(2026, 1, 1),
            dormant_days=90,
            gone_facilitators=("U0GONE",),
            outcome=("listed", "archive", "archived", "keep")[i % 4],
            decided_by="U0SEC",
            decided_at=NOW,
        )
        for i in range(45)
    ]
    shown = _check(dormancy_views.dormancy_list_blocks(items, language))
    assert "dormancy_archive_now" in shown
    for reminder in (False, True):
        _check(
            dormancy_views.dormancy_ask_blocks(
                items[0], language, reminder=reminder, to_secretariat=True
            )
        )
    _check(dormancy_views.dormancy_answered_blocks(items[3], language))
    _check(
        dormancy_views.left_facilitators_blocks(
            [(f"C{i}", ["U1", "U2"]) for i in range(300)], language
        )
    )
