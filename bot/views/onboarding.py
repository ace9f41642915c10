"""Onboarding messages and modals: pure builders of Block Kit objects in one language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.i18n import Language, t
from bot.services.onboarding import (
    ChannelRef,
    IntroDraft,
    MemberRecord,
    ProfileProblems,
    RulesState,
    StuckMember,
    Suggestions,
    UnmatchedJoin,
    Welcome,
)
from bot.services.rules import Rules, sections
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date

SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
MESSAGE_BLOCKS_MAX = 50
STUCK_SHOWN_MAX = 200  # the rest is counted, not listed


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text[:SECTION_TEXT_MAX])


def _section(text: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=_md(text), **kwargs)


def _context(text: str, **kwargs: Any) -> ContextBlock:
    return ContextBlock(elements=[_md(text)], **kwargs)


def _channel(ref: ChannelRef | str) -> str:
    return f"<#{ref.slack_channel_id if isinstance(ref, ChannelRef) else ref}>"


def _or_dash(value: str | None, language: Language) -> str:
    return escape_mrkdwn(value) if value else t("onboarding.whoami.empty", language)


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


# --- rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedState:
    version: str
    at: datetime


def rules_blocks(
    rules: Rules,
    language: Language,
    *,
    accepted: AcceptedState | None = None,
) -> list[Block]:
    """The rules in full, then the "I agree" button, or what the member accepted and when.

    The rules text is the secretariat's own mrkdwn (from the catalogue or `kyoso rules
    publish`), shown as written."""
    blocks: list[Block] = [
        HeaderBlock(text=t("onboarding.rules.title", language, version=rules.version)[:150])
    ]
    blocks += [_section(piece) for piece in sections(rules.text(language))]
    if accepted is not None and accepted.version == rules.version:
        blocks.append(accepted_block(accepted, language))
        return blocks
    if accepted is not None:
        blocks.append(
            _context(
                t(
                    "onboarding.rules.accepted_older",
                    language,
                    accepted=escape_mrkdwn(accepted.version),
                    version=rules.version,
                ),
                block_id=ids.ONBOARDING_RULES_PREVIOUS_BLOCK,
            )
        )
    blocks.append(
        _context(t("onboarding.rules.prompt", language), block_id=ids.ONBOARDING_RULES_PROMPT_BLOCK)
    )
    blocks.append(
        ActionsBlock(
            block_id=ids.ONBOARDING_RULES_BLOCK,
            elements=[
                ButtonElement(
                    text=t("onboarding.rules.accept_button", language),
                    action_id=ids.ONBOARDING_ACCEPT_RULES,
                    value=rules.version,
                    style="primary",
                )
            ],
        )
    )
    return blocks


def accepted_block(accepted: AcceptedState, language: Language) -> ContextBlock:
    text = t(
        "onboarding.rules.accepted",
        language,
        version=escape_mrkdwn(accepted.version),
        at=slack_date(accepted.at),
    )
    return _context(text, block_id=ids.ONBOARDING_RULES_BLOCK)


def after_acceptance(
    message_blocks: Sequence[dict[str, Any]], accepted: AcceptedState, language: Language
) -> list[dict[str, Any]]:
    """The member's copy of a message with the button replaced by the acceptance record."""
    out: list[dict[str, Any]] = []
    for block in message_blocks:
        block_id = block.get("block_id")
        if block_id in (ids.ONBOARDING_RULES_PROMPT_BLOCK, ids.ONBOARDING_RULES_PREVIOUS_BLOCK):
            continue
        if block_id == ids.ONBOARDING_RULES_BLOCK:
            out.append(accepted_block(accepted, language).to_dict())
            continue
        out.append(dict(block))
    return out


def rules_updated_blocks(
    rules: Rules, language: Language, *, accepted: AcceptedState | None
) -> list[Block]:
    return [
        _section(
            f"*{t('onboarding.rules.updated.title', language)}*\n"
            + t("onboarding.rules.updated.lead", language, version=escape_mrkdwn(rules.version))
        ),
        *rules_blocks(rules, language, accepted=accepted),
    ]


def rules_updated_text(rules: Rules, language: Language) -> str:
    return t("onboarding.rules.updated.lead", language, version=rules.version)


# --- the welcome DM ----------------------------------------------------------------------------


def welcome_blocks(
    welcome: Welcome, language: Language, *, intro_channel: str | None
) -> list[Block]:
    name = escape_mrkdwn(welcome.name) if welcome.name else f"<@{welcome.slack_user_id}>"
    blocks: list[Block] = [
        HeaderBlock(text=t("onboarding.welcome.title", language)),
        _section(t("onboarding.welcome.greeting", language, name=name)),
        *rules_blocks(welcome.rules, language),
        DividerBlock(),
        *_channel_blocks(welcome.suggestions, language),
    ]
    if intro_channel:
        blocks += [DividerBlock(), *intro_invitation(intro_channel, language)]
    blocks.append(_context(t("onboarding.welcome.footer", language)))
    return blocks[:MESSAGE_BLOCKS_MAX]


def welcome_text(language: Language) -> str:
    return t("onboarding.welcome.fallback", language)


def _channel_blocks(suggestions: Suggestions, language: Language) -> list[Block]:
    blocks: list[Block] = []
    if suggestions.main:
        channels = "\n".join(f"• {_channel(ref)}" for ref in suggestions.main)
        blocks.append(_section(t("onboarding.welcome.main_channels", language, channels=channels)))
    suggested = [
        (
            ref,
            t(
                "onboarding.welcome.regional",
                language,
                channel=_channel(ref),
                prefecture=escape_mrkdwn(ref.prefecture or ""),
            ),
        )
        for ref in suggestions.regional
    ] + [
        (ref, t("onboarding.welcome.theme", language, channel=_channel(ref)))
        for ref in suggestions.themes
    ]
    if suggested:
        blocks.append(_section(t("onboarding.welcome.suggestions", language)))
    for ref, text in suggested:
        blocks.append(
            _section(
                text,
                block_id=f"{ids.ONBOARDING_JOIN_CHANNEL}:{ref.slack_channel_id}",
                accessory=ButtonElement(
                    text=t("onboarding.welcome.join_button", language),
                    action_id=ids.ONBOARDING_JOIN_CHANNEL,
                    value=ref.slack_channel_id,
                ),
            )
        )
    return blocks


def intro_invitation(intro_channel: str, language: Language) -> list[Block]:
    return [
        _section(
            t("onboarding.welcome.intro", language, channel=_channel(intro_channel)),
            accessory=ButtonElement(
                text=t("onboarding.welcome.intro_button", language),
                action_id=ids.ONBOARDING_INTRO_OPEN,
                value="intro",
            ),
        )
    ]


def join_result_text(key: str, channel_id: str, language: Language) -> str:
    url = f"https://slack.com/app_redirect?channel={channel_id}"
    return t(f"onboarding.join.{key}", language, channel=_channel(channel_id), url=url)


# --- self-introduction -------------------------------------------------------------------------

INTRO_NAME_MAX = 100
INTRO_FIELD_MAX = 150
INTRO_INTERESTS_MAX = 1500


def intro_modal(draft: IntroDraft, language: Language, *, intro_channel: str) -> View:
    def field(
        block_id: str,
        label_key: str,
        initial: str,
        max_length: int,
        *,
        optional: bool = True,
        multiline: bool = False,
        hint_key: str | None = None,
    ) -> InputBlock:
        element = PlainTextInputElement(
            action_id=ids.ONBOARDING_INTRO_INPUT,
            initial_value=initial[:max_length] or None,
            max_length=max_length,
            multiline=multiline,
            placeholder=t(hint_key, language)[:150] if hint_key else None,
        )
        return InputBlock(
            block_id=block_id,
            label=t(label_key, language),
            element=element,
            optional=optional,
        )

    return View(
        type="modal",
        callback_id=ids.ONBOARDING_INTRO_MODAL,
        title=t("onboarding.intro.modal.title", language)[:24],
        submit=t("onboarding.intro.modal.submit", language)[:24],
        close=t("onboarding.intro.modal.cancel", language)[:24],
        private_metadata=language,
        blocks=[
            _context(t("onboarding.intro.modal.lead", language, channel=_channel(intro_channel))),
            field(
                ids.ONBOARDING_INTRO_NAME_BLOCK,
                "onboarding.intro.field.name",
                draft.name,
                INTRO_NAME_MAX,
                optional=False,
            ),
            field(
                ids.ONBOARDING_INTRO_ORGANISATION_BLOCK,
                "onboarding.intro.field.organisation",
                draft.organisation,
                INTRO_FIELD_MAX,
            ),
            field(
                ids.ONBOARDING_INTRO_DEPARTMENT_BLOCK,
                "onboarding.intro.field.department",
                draft.department,
                INTRO_FIELD_MAX,
            ),
            field(
                ids.ONBOARDING_INTRO_INTERESTS_BLOCK,
                "onboarding.intro.field.interests",
                "",
                INTRO_INTERESTS_MAX,
                multiline=True,
                hint_key="onboarding.intro.field.interests_hint",
            ),
        ],
    )


@dataclass(frozen=True)
class Introduction:
    slack_user_id: str
    name: str
    organisation: str
    department: str
    interests: str


def intro_post_blocks(intro: Introduction, language: Language) -> list[Block]:
    """Everything the member typed is escaped: it cannot mention, link or ping anyone."""
    title = t(
        "onboarding.intro.post.title",
        language,
        name=escape_mrkdwn(intro.name),
        mention=f"<@{intro.slack_user_id}>",
    )
    blocks: list[Block] = [_section(f"*{title}*")]
    fields = [
        MarkdownTextObject(text=f"*{t(key, language)}*\n{escape_mrkdwn(value)}"[:FIELD_TEXT_MAX])
        for key, value in (
            ("onboarding.intro.field.organisation", intro.organisation),
            ("onboarding.intro.field.department", intro.department),
        )
        if value
    ]
    if fields:
        blocks.append(SectionBlock(fields=fields))
    if intro.interests:
        label = t("onboarding.intro.field.interests", language)
        blocks.append(_section(f"*{label}*\n{escape_mrkdwn(intro.interests)}"))
    blocks.append(_context(t("onboarding.intro.post.footer", language)))
    return blocks


def intro_post_text(intro: Introduction, language: Language) -> str:
    return t("onboarding.intro.post.fallback", language, name=escape_mrkdwn(intro.name))


def intro_reminder_blocks(intro_channel: str, language: Language) -> list[Block]:
    return [
        _section(
            f"*{t('onboarding.intro.reminder.title', language)}*\n"
            + t("onboarding.intro.reminder.text", language, channel=_channel(intro_channel)),
            accessory=ButtonElement(
                text=t("onboarding.welcome.intro_button", language),
                action_id=ids.ONBOARDING_INTRO_OPEN,
                value="reminder",
            ),
        ),
        _context(t("onboarding.intro.reminder.once", language)),
    ]


def intro_reminder_text(intro_channel: str, language: Language) -> str:
    return t("onboarding.intro.reminder.text", language, channel=_channel(intro_channel))


# --- profile nudge -------------------------------------------------------------------------------


def profile_nudge_blocks(problems: ProfileProblems, language: Language) -> list[Block]:
    lines = []
    if problems.no_photo:
        lines.append(t("onboarding.profile.no_photo", language))
    if problems.organisation_like_name:
        lines.append(
            t(
                "onboarding.profile.organisation_name",
                language,
                name=escape_mrkdwn(problems.organisation_like_name[:100]),
            )
        )
    return [
        _section(
            f"*{t('onboarding.profile.title', language)}*\n{t('onboarding.profile.lead', language)}"
        ),
        _section("\n".join(lines)),
        _context(t("onboarding.profile.how", language)),
    ]


def profile_nudge_text(language: Language) -> str:
    return t("onboarding.profile.title", language)


# --- the secretariat's messages ------------------------------------------------------------------


def unmatched_join_blocks(
    joiner: UnmatchedJoin, language: Language, *, status_label: str | None
) -> list[Block]:
    unknown = t("onboarding.alert.unknown", language)

    def field(key: str, value: str) -> MarkdownTextObject:
        return MarkdownTextObject(text=f"*{t(key, language)}*\n{value}"[:FIELD_TEXT_MAX])

    situation = (
        t("onboarding.alert.application_status", language, status=status_label)
        if status_label
        else t("onboarding.alert.no_application", language)
    )
    return [
        HeaderBlock(text=t("onboarding.alert.title", language)),
        SectionBlock(
            fields=[
                field("onboarding.alert.member", f"<@{joiner.slack_user_id}>"),
                field(
                    "onboarding.alert.name", escape_mrkdwn(joiner.name) if joiner.name else unknown
                ),
                field(
                    "onboarding.alert.email",
                    escape_mrkdwn(joiner.email) if joiner.email else unknown,
                ),
            ]
        ),
        _section(f"{situation}\n{t('onboarding.alert.nobody_removed', language)}"),
    ]


def unmatched_join_text(joiner: UnmatchedJoin, language: Language) -> str:
    name = joiner.name or joiner.email or joiner.slack_user_id
    return t("onboarding.alert.fallback", language, name=escape_mrkdwn(name))


def stuck_report_blocks(
    stuck: Sequence[StuckMember], language: Language, *, min_business_days: int
) -> list[Block]:
    unknown = t("onboarding.stuck.unknown", language)
    lines = [
        t(
            "onboarding.stuck.item",
            language,
            mention=f"<@{m.slack_user_id}>",
            name=escape_mrkdwn(m.name or unknown),
            organisation=escape_mrkdwn(m.organisation or unknown),
            joined=slack_date(m.joined_at),
            days=m.business_days,
        )
        for m in stuck[:STUCK_SHOWN_MAX]
    ]
    blocks: list[Block] = [
        HeaderBlock(text=t("onboarding.stuck.title", language, count=len(stuck))[:150]),
        _context(t("onboarding.stuck.lead", language, days=min_business_days)),
    ]
    room = MESSAGE_BLOCKS_MAX - len(blocks) - 1  # keep one for "and N more"
    shown = 0
    for piece in sections("\n".join(lines)):
        if room == 0:
            break
        blocks.append(_section(piece))
        shown += piece.count("\n") + 1
        room -= 1
    if shown < len(stuck):
        blocks.append(_context(t("onboarding.stuck.more", language, count=len(stuck) - shown)))
    return blocks


def stuck_report_text(count: int, language: Language) -> str:
    return t("onboarding.stuck.title", language, count=count)


# --- whoami --------------------------------------------------------------------------------------


def whoami_blocks(
    record: MemberRecord | None, language: Language, *, slack_language_name: str
) -> list[Block]:
    title = HeaderBlock(text=t("onboarding.whoami.title", language))
    if record is None:
        return [title, _section(t("onboarding.whoami.none", language))]

    def field(key: str, value: str) -> MarkdownTextObject:
        return MarkdownTextObject(
            text=f"*{t(f'onboarding.whoami.{key}', language)}*\n{value}"[:FIELD_TEXT_MAX]
        )

    def when(at: datetime | None) -> str:
        return slack_date(at) if at else t("onboarding.whoami.empty", language)

    roles = (
        "、".join(t(f"onboarding.role.{r}", language) for r in record.roles)
        if language == "ja"
        else ", ".join(t(f"onboarding.role.{r}", language) for r in record.roles)
    ) or t("onboarding.whoami.roles_none", language)
    if record.locale in ("ja", "en"):
        language_text = t(f"lang.name.{record.locale}", language)
    else:
        language_text = t(
            "onboarding.whoami.language_follow_slack", language, language=slack_language_name
        )
    version = escape_mrkdwn(record.rules_version or "")
    rules_text = {
        RulesState.CURRENT: lambda: t(
            "onboarding.whoami.rules_current",
            language,
            version=version,
            at=when(record.rules_accepted_at),
        ),
        RulesState.OUTDATED: lambda: t(
            "onboarding.whoami.rules_outdated",
            language,
            version=version,
            at=when(record.rules_accepted_at),
            current=escape_mrkdwn(record.current_rules_version),
        ),
        RulesState.NONE: lambda: t("onboarding.whoami.rules_none", language),
    }[record.rules_state]()
    status_key = f"home.status.{record.status}"
    return [
        title,
        SectionBlock(
            fields=[
                field("real_name", _or_dash(record.real_name, language)),
                field("display_name", _or_dash(record.display_name, language)),
                field("email", _or_dash(record.email, language)),
                field("organisation", _or_dash(record.organisation, language)),
                field("department", _or_dash(record.department, language)),
                field("status", t(status_key, language)),
            ]
        ),
        SectionBlock(
            fields=[
                field("roles", roles),
                field("language", language_text),
                field("rules", rules_text),
                field("joined", when(record.joined_at)),
                field("introduced", when(record.introduced_at)),
            ]
        ),
        _context(t("onboarding.whoami.footer", language)),
    ]
