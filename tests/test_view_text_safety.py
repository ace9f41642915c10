"""Member-written text in any view cannot mention, link or broadcast.

Every builder that shows text a member or applicant wrote (names, purposes, notes, reasons,
excerpts, organisations, departments, self-introductions, search words) is rendered twice:
with plain text, and with adversarial text (`<!channel>`, `<@W…|boss>`, `<https://evil|x>`,
bare `@here`, formatting characters, control characters). The adversarial rendering must
not hold one live mention, link or broadcast more than the plain one: whatever Slack would
turn into a notification or a link came from Kyoso, never from the member."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channel_names import Likeness
from bot.domain.applications import Decision, ReminderItem, ReviewItem
from bot.domain.channels import DormantItem, HistoryLine, Listed, ListingPage, RequestItem, Similar
from bot.domain.dashboard import FacilitatedChannel, MemberHome, QueueItem, QueueKind, QueuePage
from bot.domain.lifecycle import FlaggedMember, ListTerms
from bot.domain.moderation import CaseAction, CaseEvent, CaseItem, History, Report
from bot.domain.onboarding import Introduction, ProfileProblems, StuckMember, UnmatchedJoin
from bot.views import applications as app_views
from bot.views import lifecycle as lifecycle_views
from bot.views.channels import dormancy as channel_dormancy
from bot.views.channels import facilitation as channel_facilitation
from bot.views.channels import listing as channel_listing
from bot.views.channels import provisioning as channel_provisioning
from bot.views.channels import requests as channel_requests
from bot.views.channels import review as channel_review
from bot.views.dashboard import home as dashboard_home
from bot.views.dashboard import queues as dashboard_queues
from bot.views.moderation import alerts as moderation_alerts
from bot.views.moderation import lists as moderation_lists
from bot.views.moderation import messages as moderation_messages
from bot.views.onboarding import introduction as intro_views
from bot.views.onboarding import profile as profile_views
from bot.views.onboarding import secretariat as secretariat_views
from models import CaseStatus, ChannelCategory, CycleStatus

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)

# What Slack turns into a notification or a link in mrkdwn.
LIVE = re.compile(r"<[!@#]|<(?:https?|mailto|tel):|@(?:channel|here|everyone)", re.IGNORECASE)

FRAGMENTS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0EVIL>",
    "@channel",
    "@here",
    "@Everyone",
    "<@W0ADMIN|boss>",
    "<@U0EVIL>",
    "<#C0EVIL|general>",
    "<https://evil.example|x>",
    "<http://evil.example>",
    "<mailto:a@evil.example|mail>",
    "&lt;!channel&gt;",
    "<",
    ">",
    "&",
    "*",
    "~",
    "_",
    "`",
    "```",
    "\x00",
    "\x1b[2J",
    "\u202e",
    "\n",
    "山田",
)
adversarial = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), min_size=1, max_size=6
).map("".join)


def _mrkdwn(rendered: Any) -> list[str]:
    """Every piece of the output that Slack reads as mrkdwn (plain_text cannot mention)."""
    if isinstance(rendered, str):
        return [rendered]  # a notification fallback `text`
    found: list[str] = []
    if isinstance(rendered, dict):
        if rendered.get("type") == "mrkdwn":
            found.append(str(rendered.get("text", "")))
        for value in rendered.values():
            if isinstance(value, dict | list):
                found.extend(_mrkdwn(value))
    elif isinstance(rendered, list):
        for value in rendered:
            found.extend(_mrkdwn(value))
    return found


def _serialise(output: Any) -> Any:
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return [_serialise(o) for o in output]
    return output.to_dict()  # slack_sdk checks Slack's limits here


def _live(output: Any) -> int:
    return sum(len(LIVE.findall(text)) for text in _mrkdwn(_serialise(output)))


# ---- the builders, each taking the member's text ------------------------------------------


def _review_item(text: str) -> ReviewItem:
    return ReviewItem(
        public_id="0123456789abcdef",
        name=text,
        email=text,
        organisation=text,
        department=text,
        submitted_at=NOW,
        source="web",
        outcome="eligible_local",
        reasons=(text,),
        is_reapplication=True,
    )


def _request_item(text: str) -> RequestItem:
    return RequestItem(
        public_id="abc123",
        requester="U0REQ",
        name=text,
        category=ChannelCategory.PJ,
        purpose=text,
        reason=text,
        prefecture=text,
        organisation=text,
        facilitators=("U0F1",),
        end_date=date(2027, 3, 31),
        created_at=NOW,
        status="pending",
        similar=(Similar(text, Likeness.VARIANT, "C0KOSO"),),
    )


def _case_item(text: str) -> CaseItem:
    return CaseItem(
        public_id="case01",
        channel_id="C0PUBLIC",
        author_id="U0AUTH",
        posted_at=NOW,
        created_at=NOW,
        source="report",
        status=CaseStatus.OPEN,
        excerpt=text,
        reasons=(("spam", 1),),
        report_count=1,
        notes=(text,),
        permalink="https://example.slack.com/archives/C0PUBLIC/p1",
        claimed_by="U0SEC",
        edit_deadline=NOW,
        history=History(total=0, by_status={}, recent=()),
        events=(
            CaseEvent("dismissed", "U0SEC", NOW, text, {"error": text, "method": text}),
            CaseEvent("warned", "U0SEC", NOW, text, {}),
        ),
    )


def _flagged(text: str) -> FlaggedMember:
    return FlaggedMember(
        cycle_id=1,
        slack_user_id="U0OLD",
        name=text,
        email=text,
        organisation=text,
        department=text,
        status=CycleStatus.FLAGGED,
        last_active=NOW,
        started_at=NOW,
        flagged_at=NOW,
        decided_by=None,
        decided_at=None,
        dm_failed=True,
        email_failed=False,
    )


def _home(text: str) -> MemberHome:
    return MemberHome(
        user_id="U0MEM",
        status="active",
        organisation=text,
        department=text,
        roles=("secretariat",),
        joined_at=NOW,
        rules_state="current",
        facilitated=(FacilitatedChannel("C0FAC", text),),
        facilitated_total=1,
    )


def _queue(text: str) -> QueuePage:
    item = QueueItem(
        reference=text,
        title=text,
        at=NOW,
        detail=text,
        status=None,
        user_id="U0MEM",
        channel_id="C0PUBLIC",
        last_seen_at=NOW,
        business_days=3,
    )
    return QueuePage(QueueKind.APPLICATIONS, (item,), total=1, page=1, page_size=10)


def _dormant(text: str) -> DormantItem:
    return DormantItem(
        review_id=1,
        slack_channel_id="C0OLD",
        name=text,
        reason="quiet",
        last_activity_at=NOW,
        end_date=None,
        dormant_days=90,
        gone_facilitators=("U0GONE",),
        outcome="listed",
        decided_by=None,
        decided_at=None,
    )


Render = Callable[[str], Any]

RENDERERS: dict[str, Render] = {
    "application review": lambda s: app_views.review_blocks(
        _review_item(s),
        "ja",
        decisions=(Decision("rejected", "U0SEC", NOW, s),),
    ),
    "application review fallback": lambda s: app_views.fallback_text(_review_item(s), "ja"),
    "application reminder": lambda s: app_views.reminder_blocks(
        [ReminderItem(s, s, NOW, 3, "https://example.slack.com/archives/C0/p1")], "en"
    ),
    "channel review": lambda s: channel_review.review_blocks(
        _request_item(s),
        "ja",
        history=[HistoryLine("returned", "U0SEC", NOW, s)],
    ),
    "channel decision DM": lambda s: channel_requests.decision_dm_blocks(
        "rejected", public_id="abc123", name=s, language="en", reason=s
    ),
    "channel welcome": lambda s: channel_provisioning.welcome_blocks(
        purpose=s, facilitators=("U0F1",), requester="U0REQ", language="ja"
    ),
    "channel announcement": lambda s: channel_provisioning.announcement_blocks(
        slack_channel_id="C0NEW", category=ChannelCategory.PJ, purpose=s, language="ja"
    ),
    "similar channels": lambda s: channel_requests.similar_blocks(
        [Similar(s, Likeness.CLOSE, "C0SIM"), Similar(s, Likeness.SAME)], "ja"
    ),
    "channel listing": lambda s: channel_listing.listing_blocks(
        ListingPage(
            word=s,
            offset=0,
            total=1,
            channels=[Listed("C0LIST", s, ChannelCategory.ALL, s, s)],
        ),
        "ja",
    ),
    "channel failure": lambda s: channel_review.failure_text("create", s, s, "ja"),
    "channel pointer": lambda s: channel_facilitation.pointer_text(
        author="U0AUTH", target="C0TARGET", note=s, language="ja"
    ),
    "dormancy list": lambda s: channel_dormancy.dormancy_list_blocks([_dormant(s)], "ja"),
    "dormancy ask": lambda s: channel_dormancy.dormancy_ask_blocks(
        _dormant(s), "ja", reminder=True, to_secretariat=True
    ),
    "moderation alert": lambda s: moderation_alerts.alert_blocks(_case_item(s), "ja"),
    "moderation alert fallback": lambda s: moderation_alerts.alert_text(_case_item(s), "en"),
    "reporters": lambda s: moderation_lists.reporters_blocks(
        "case01", [Report("U0REP", "other", s, NOW)], "ja"
    ),
    "author DM": lambda s: moderation_messages.author_dm_blocks(
        CaseAction.WARN,
        "ja",
        channel_id="C0PUBLIC",
        permalink=None,
        rule=s,
        comment=s,
        deadline=NOW,
    ),
    "self-introduction": lambda s: intro_views.intro_post_blocks(
        Introduction("U0NEW", s, s, s, s), "ja"
    ),
    "self-introduction fallback": lambda s: intro_views.intro_post_text(
        Introduction("U0NEW", s, s, s, s), "ja"
    ),
    "unmatched joiner": lambda s: secretariat_views.unmatched_join_blocks(
        UnmatchedJoin("U0NEW", s, s, None), "ja"
    ),
    "stuck members": lambda s: secretariat_views.stuck_report_blocks(
        [StuckMember("U0NEW", s, s, s, NOW, 4)], "ja", min_business_days=3
    ),
    "profile nudge": lambda s: profile_views.profile_nudge_blocks(
        ProfileProblems(no_photo=True, organisation_like_name=s), "ja"
    ),
    "member home": lambda s: dashboard_home.member_blocks(_home(s), "ja"),
    "queue list": lambda s: dashboard_queues.queue_list_view(_queue(s), "ja", NOW),
    "inactive accounts": lambda s: lifecycle_views.flagged_list_blocks(
        [_flagged(s)],
        "ja",
        total=1,
        approved_waiting=0,
        terms=ListTerms(inactive_days=180, grace_days=30),
        notes=(),
    ),
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=adversarial)
def test_member_text_never_mentions_links_or_broadcasts(name: str, text: str) -> None:
    render = RENDERERS[name]
    baseline = _live(render("x"))
    assert _live(render(text)) <= baseline, json.dumps(
        _mrkdwn(_serialise(render(text))), ensure_ascii=False
    )


def test_the_check_itself_sees_a_live_mention() -> None:
    """The property above would notice raw member text (so it can fail)."""
    assert _live("<@W0ADMIN|boss> <!channel> <https://evil|x> @here") == 4
    assert _live("&lt;@W0ADMIN|boss&gt; @\u2060here") == 0
