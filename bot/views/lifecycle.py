"""Account lifecycle messages: the member's contact DM and the secretariat's flagged list,
with the notes that follow the secretariat's clicks.

Pure builders of Block Kit objects in one language; tests render each in Japanese and English.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)

from bot import ids
from bot.domain.lifecycle import (
    BATCH_SIZE,
    ApprovalOutcome,
    ContactTerms,
    FlaggedBatch,
    FlaggedMember,
    KeepAnswer,
    ListTerms,
    Overview,
    RestoreOutcome,
)
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import Choice, confirm_dialog, context, decision_row, section


def contact_block_id(key: str) -> str:
    """The first block of every contact DM: how a restarted sender recognises it in Slack."""
    return f"{ids.LIFECYCLE_CONTACT_BLOCK}:{key}"


# --- The member's DMs -------------------------------------------------------------------


def contact_dm_blocks(
    key: str, language: Language, *, terms: ContactTerms, last_active: datetime | None
) -> list[Block]:
    """Attempt 1: why we ask, what happens next, and one button to keep the account."""
    intro = t("lifecycle.dm.intro", language, days=terms.inactive_days)
    if last_active is not None:
        intro += "\n" + t("lifecycle.dm.last_active", language, at=slack_date(last_active))
    return [
        HeaderBlock(block_id=contact_block_id(key), text=t("lifecycle.dm.header", language)),
        section(intro),
        section(t("lifecycle.dm.why", language)),
        section(t("lifecycle.dm.ask", language)),
        decision_row(
            value=key,
            choices=[Choice(t("lifecycle.dm.button", language), ids.LIFECYCLE_KEEP, "primary")],
        ),
        section(
            t(
                "lifecycle.dm.next",
                language,
                email_days=terms.email_after_days,
                grace_days=terms.grace_days,
            )
        ),
        context(t("lifecycle.dm.footer", language)),
    ]


def contact_dm_text(language: Language) -> str:
    return t("lifecycle.dm.text", language)


def thanks_dm_blocks(key: str, language: Language) -> list[Block]:
    """After activity ended a round in which the member had been contacted."""
    return [section(thanks_dm_text(language), block_id=contact_block_id(key))]


def thanks_dm_text(language: Language) -> str:
    return t("lifecycle.thanks.text", language)


_KEPT_KEYS = {
    KeepAnswer.KEPT: "lifecycle.kept.text",
    KeepAnswer.ALREADY: "lifecycle.kept.already",
    KeepAnswer.CLOSED: "lifecycle.kept.closed",
}


def kept_text(answer: KeepAnswer, language: Language) -> str:
    return t(_KEPT_KEYS[answer], language)


def kept_blocks(answer: KeepAnswer, language: Language) -> list[Block]:
    """Replaces the contact DM once the member pressed "keep my account"."""
    return [section(kept_text(answer, language))]


# --- The secretariat's list -------------------------------------------------------------


def _row(member: FlaggedMember, language: Language) -> SectionBlock:
    unknown = t("lifecycle.list.unknown", language)
    text = t(
        "lifecycle.list.row",
        language,
        name=escape_mrkdwn(member.name or member.slack_user_id),
        user=member.slack_user_id,
        organisation=escape_mrkdwn(member.organisation or unknown),
        last_active=slack_date(member.last_active) if member.last_active else unknown,
        flagged_at=slack_date(member.flagged_at) if member.flagged_at else unknown,
    )
    notes = []
    if member.dm_failed:
        notes.append(t("lifecycle.list.dm_failed", language))
    if member.email_failed:
        notes.append(t("lifecycle.list.email_failed", language))
    if notes:
        text += "\n" + "　".join(notes)
    return section(
        text,
        accessory=ButtonElement(
            text=t("lifecycle.button.restore", language),
            action_id=ids.LIFECYCLE_RESTORE,
            value=str(member.cycle_id),
        ),
    )


def flagged_list_blocks(
    batch: Sequence[FlaggedMember],
    language: Language,
    *,
    total: int,
    approved_waiting: int,
    terms: ListTerms,
    notes: Sequence[str] = (),
    header: bool = True,
) -> list[Block]:
    """A batch of flagged members, each with a restore button, and one button approving the
    batch. `notes` (results of the last click) come first."""
    blocks: list[Block] = []
    if header:
        blocks.append(HeaderBlock(text=t("lifecycle.list.header", language, count=total)))
    blocks.extend(section(note) for note in notes)
    if not batch:
        blocks.append(section(t("lifecycle.list.none", language)))
    else:
        intro = t(
            "lifecycle.list.intro",
            language,
            inactive_days=terms.inactive_days,
            grace_days=terms.grace_days,
        )
        blocks.append(context(intro))
        blocks.append(DividerBlock())
        blocks.extend(_row(member, language) for member in batch[:BATCH_SIZE])
        if total > len(batch):
            blocks.append(context(t("lifecycle.list.more", language, count=total - len(batch))))
    if approved_waiting:
        blocks.append(
            context(t("lifecycle.list.approved_waiting", language, count=approved_waiting))
        )
    blocks.append(_list_buttons(batch, language))
    return blocks


def _list_buttons(batch: Sequence[FlaggedMember], language: Language) -> ActionsBlock:
    elements = []
    if batch:
        count = len(batch[:BATCH_SIZE])
        elements.append(
            ButtonElement(
                text=t("lifecycle.button.approve_batch", language, count=count),
                action_id=ids.LIFECYCLE_APPROVE_BATCH,
                value=",".join(str(member.cycle_id) for member in batch[:BATCH_SIZE]),
                style="danger",
                confirm=confirm_dialog("lifecycle.confirm", language, count=count),
            )
        )
    elements.append(
        ButtonElement(
            text=t("lifecycle.button.refresh", language),
            action_id=ids.LIFECYCLE_SHOW_FLAGGED,
            value="refresh",
        )
    )
    return ActionsBlock(block_id=ids.LIFECYCLE_FLAGGED_BLOCK, elements=elements)


def weekly_summary_blocks(
    overview: Overview,
    batch: Sequence[FlaggedMember],
    language: Language,
    *,
    terms: ListTerms,
) -> list[Block]:
    """The review channel's weekly summary: counts, then the first batch to decide."""
    return [
        HeaderBlock(text=t("lifecycle.weekly.header", language)),
        section(weekly_summary_text(overview, language)),
        DividerBlock(),
        *flagged_list_blocks(
            batch,
            language,
            total=overview.flagged,
            approved_waiting=overview.approved,
            terms=terms,
            header=False,
        ),
    ]


def weekly_summary_text(overview: Overview, language: Language) -> str:
    return t(
        "lifecycle.weekly.counts",
        language,
        contacting=overview.contacting,
        flagged=overview.flagged,
        approved=overview.approved,
        exempt=overview.exempt,
    )


def flagged_list_text(overview: Overview, language: Language) -> str:
    return t("lifecycle.list.header", language, count=overview.flagged)


def listing_blocks(
    listing: FlaggedBatch, language: Language, *, terms: ListTerms, notes: Sequence[str] = ()
) -> list[Block]:
    """`/kyoso inactive` and the answer to each click on the list: the current first batch."""
    return flagged_list_blocks(
        listing.batch,
        language,
        total=listing.overview.flagged,
        approved_waiting=listing.overview.approved,
        terms=terms,
        notes=notes,
    )


# --- Notes after the secretariat's clicks -----------------------------------------------


def approval_notes(
    outcome: ApprovalOutcome, language: Language, *, actor: str, at: datetime
) -> list[str]:
    """What an approval did: approved, deactivated (how), to do by hand, refused by Slack."""
    if not outcome.approved:
        return [t("lifecycle.approved.none", language)]
    notes = [
        t(
            "lifecycle.approved.done",
            language,
            actor=f"<@{actor}>",
            count=len(outcome.approved),
            at=slack_date(at),
        )
    ]
    for via, users in outcome.deactivated.items():
        label = t(f"lifecycle.via.{via.value.removeprefix('deactivated_')}", language)
        notes.append(t("lifecycle.approved.deactivated", language, count=len(users), via=label))

    def mentions(users: list[str]) -> str:
        return " ".join(f"<@{user}>" for user in users)

    if outcome.to_do:
        notes.append(
            t(
                "lifecycle.approved.todo",
                language,
                count=len(outcome.to_do),
                users=mentions(outcome.to_do),
            )
        )
    if outcome.failed:
        errors = ", ".join(sorted(set(outcome.failed.values())))
        notes.append(
            t(
                "lifecycle.approved.failed",
                language,
                count=len(outcome.failed),
                error=errors,
                users=mentions(list(outcome.failed)),
            )
        )
    return notes


def restore_notes(
    outcome: RestoreOutcome, language: Language, *, actor: str, at: datetime
) -> list[str]:
    """Who restored whom; or that someone decided first (what they set); or nothing."""
    if outcome.restored is not None:
        user = outcome.restored.slack_user_id
        return [
            t("lifecycle.restored", language, actor=f"<@{actor}>", user=user, at=slack_date(at))
        ]
    if outcome.decided_before is not None:
        status = t(f"lifecycle.status.{outcome.decided_before}", language)
        return [t("lifecycle.already_decided", language, status=status)]
    return []
