"""The member's side of a channel request: the request modal, its inline errors, the
similar channels DM and the decisions' DMs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.channel_names import PREFIXES, max_suffix_length
from bot.domain.channels import RequestDraft, Similar
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.views.blocks import Choice, context, decision_row, section
from bot.views.channels.common import (
    channel_link,
    chunks,
    end_date_input,
    facilitators_input,
    form_field,
    kind_label,
    option,
    purpose_input,
)
from bot.views.channels.metadata import RequestModalMetadata


def request_modal(
    language: Language,
    *,
    organisations: Sequence[tuple[int, str]],
    prefectures: Sequence[str],
    draft: RequestDraft | None = None,
    public_id: str | None = None,
) -> View:
    draft = draft or RequestDraft()

    def tr(key: str, **params: str) -> str:
        return t(f"channels.form.{key}", language, **params)

    kinds = [
        option(
            kind.value,
            f"{kind_label(kind, language)}（{PREFIXES[kind]}…）",
            t(f"channels.kind.{kind.value}.description", language),
        )
        for kind in PREFIXES
    ]
    kind_initial = next(
        (o for o in kinds if draft.category and o.value == draft.category.value), None
    )
    organisation_options = [option(str(i), name) for i, name in organisations][:100]
    organisation_initial = next(
        (o for o in organisation_options if o.value == str(draft.organisation_id)), None
    )
    prefecture_options = [option(p, p) for p in prefectures][:100]
    prefecture_initial = next((o for o in prefecture_options if o.value == draft.prefecture), None)

    def select(key: str, options: list[Option], initial: Option | None) -> StaticSelectElement:
        return StaticSelectElement(
            action_id=ids.CHANNEL_INPUT,
            placeholder=tr(f"{key}_placeholder"),
            options=options,
            initial_option=initial,
        )

    blocks: list[Block] = [
        section(tr("intro")),
        form_field(
            ids.CHANNEL_KIND_BLOCK,
            "kind",
            RadioButtonsElement(
                action_id=ids.CHANNEL_INPUT, options=kinds, initial_option=kind_initial
            ),
            language,
        ),
        form_field(
            ids.CHANNEL_NAME_BLOCK,
            "name",
            PlainTextInputElement(
                action_id=ids.CHANNEL_INPUT,
                initial_value=draft.suffix or None,
                placeholder=tr("name_placeholder"),
                max_length=max(max_suffix_length(k) for k in PREFIXES) + 12,
            ),
            language,
            hint=True,
        ),
        form_field(
            ids.CHANNEL_PURPOSE_BLOCK,
            "purpose",
            purpose_input(draft.purpose),
            language,
            hint=True,
        ),
        form_field(
            ids.CHANNEL_ORGANISATION_BLOCK,
            "organisation",
            select("organisation", organisation_options, organisation_initial),
            language,
            hint=True,
            optional=True,
        ),
        form_field(
            ids.CHANNEL_FACILITATORS_BLOCK,
            "facilitators",
            facilitators_input(draft.facilitator_ids),
            language,
            hint=True,
            optional=True,
        ),
        form_field(
            ids.CHANNEL_PREFECTURE_BLOCK,
            "prefecture",
            select("prefecture", prefecture_options, prefecture_initial),
            language,
            hint=True,
            optional=True,
        ),
        form_field(
            ids.CHANNEL_REASON_BLOCK,
            "reason",
            PlainTextInputElement(
                action_id=ids.CHANNEL_INPUT,
                multiline=True,
                max_length=2000,
                initial_value=draft.reason or None,
            ),
            language,
        ),
        form_field(
            ids.CHANNEL_END_DATE_BLOCK,
            "end_date",
            end_date_input(draft.end_date),
            language,
            hint=True,
            optional=True,
        ),
        form_field(
            ids.CHANNEL_DISTINCT_BLOCK,
            "distinct",
            CheckboxesElement(
                action_id=ids.CHANNEL_INPUT, options=[option("yes", tr("distinct_option"))]
            ),
            language,
            optional=True,
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.CHANNEL_REQUEST_MODAL,
        private_metadata=RequestModalMetadata(language=language, public_id=public_id).dump(),
        title=tr("title_edit" if public_id else "title"),
        submit=tr("submit"),
        close=tr("cancel"),
        blocks=blocks,
    )


def form_error(code: str, params: Mapping[str, str], language: Language) -> str:
    """Inline error text (plain text: Slack shows modal errors without formatting)."""
    return t(f"channels.form.error.{code}", language, **params)


def similar_blocks(similar: Sequence[Similar], language: Language) -> list[Block]:
    """A DM beside the modal's error: links to the similar channels, so the member can join."""
    lines = []
    for s in similar:
        how = t(f"channels.likeness.{s.likeness.value}", language)
        if s.slack_channel_id is None:
            lines.append(
                t("channels.similar.request_line", language, name=escape_mrkdwn(s.name), how=how)
            )
        elif s.archived:
            lines.append(
                t("channels.similar.archived_line", language, name=escape_mrkdwn(s.name), how=how)
            )
        else:
            lines.append(
                t(
                    "channels.similar.line",
                    language,
                    channel=channel_link(s.slack_channel_id),
                    how=how,
                )
            )
    return [
        section(t("channels.similar.title", language)),
        *[section(chunk) for chunk in chunks(lines)],
        context(t("channels.similar.footer", language)),
    ]


# --- the requester's DMs -------------------------------------------------------------------------


def decision_dm_blocks(
    kind: str,
    *,
    public_id: str,
    name: str,
    language: Language,
    reason: str | None = None,
    slack_channel_id: str | None = None,
) -> list[Block]:
    text = t(
        f"channels.dm.{kind}",
        language,
        name=escape_mrkdwn(name),
        reason=escape_mrkdwn(reason or ""),
        channel=channel_link(slack_channel_id) if slack_channel_id else escape_mrkdwn(name),
    )
    blocks: list[Block] = [section(text)]
    if kind == "returned":
        resubmit = Choice(t("channels.button.resubmit", language), ids.CHANNEL_RESUBMIT, "primary")
        blocks.append(
            decision_row(block_id=ids.CHANNEL_REVIEW_BLOCK, value=public_id, choices=[resubmit])
        )
    return blocks


def decision_dm_text(kind: str, name: str, language: Language) -> str:
    return t(f"channels.dm.{kind}.fallback", language, name=name)
