"""The secretariat's member look-up: a page of matches, one member's card with its buttons,
and the App Home's roles modal. Pure Block Kit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    InputBlock,
    Option,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.domain.secretariat_members import PAGE_SIZE, MemberCard, MemberLine, MemberPage
from bot.i18n import Language, t
from bot.text import escape_mrkdwn
from bot.timefmt import slack_date
from bot.views.blocks import ModalMetadata, confirm_dialog, context, cut, field, mention, section

_T = "secretariat.members"
ROLES = ("secretariat", "facilitator", "ambassador")


def _when(at: datetime | None, language: Language) -> str:
    return slack_date(at) if at else t(f"{_T}.none", language)


def _text(value: str | None, language: Language) -> str:
    return escape_mrkdwn(value) if value else t(f"{_T}.none", language)


def usage_text(language: Language) -> str:
    return t(f"{_T}.usage", language)


def page_text(page: MemberPage, language: Language) -> str:
    return t(f"{_T}.found", language, count=page.total, query=page.query)


def page_blocks(page: MemberPage, language: Language) -> list[Block]:
    """The matches, a 「カード」 button each, and the pager (≤ 13 blocks)."""
    if not page.lines:
        return [section(t(f"{_T}.no_match", language, query=escape_mrkdwn(page.query)))]
    first = page.offset + 1
    blocks: list[Block] = [
        section(
            t(
                f"{_T}.page",
                language,
                query=escape_mrkdwn(page.query),
                count=page.total,
                first=first,
                last=page.offset + len(page.lines),
            )
        )
    ]
    blocks.extend(_line(line, language) for line in page.lines)
    pager = _pager(page, language)
    if pager is not None:
        blocks.append(pager)
    return blocks


def _line(line: MemberLine, language: Language) -> SectionBlock:
    parts = [mention(line.slack_user_id), _text(line.name, language)]
    parts.append(_text(line.organisation, language))
    parts.append(t(f"{_T}.status.{line.status}", language))
    return section(
        " / ".join(parts),
        accessory=ButtonElement(
            text=t(f"{_T}.card_button", language),
            action_id=ids.SECRETARIAT_MEMBER_CARD,
            value=line.slack_user_id,
        ),
    )


def _pager(page: MemberPage, language: Language) -> ActionsBlock | None:
    buttons = []
    # The query rides in the button (Slack keeps 2,000 characters a value).
    query = page.query[:1000]
    if page.offset > 0:
        buttons.append(
            ButtonElement(
                text=t(f"{_T}.previous", language),
                action_id=ids.SECRETARIAT_MEMBER_PAGE_PREVIOUS,
                value=f"{max(page.offset - PAGE_SIZE, 0)}|{query}",
            )
        )
    if page.has_next:
        buttons.append(
            ButtonElement(
                text=t(f"{_T}.next", language),
                action_id=ids.SECRETARIAT_MEMBER_PAGE_NEXT,
                value=f"{page.offset + PAGE_SIZE}|{query}",
            )
        )
    return ActionsBlock(elements=buttons) if buttons else None


def card_text(card: MemberCard, language: Language) -> str:
    return t(f"{_T}.card_text", language, user=mention(card.slack_user_id))


def card_blocks(card: MemberCard, language: Language, notes: Sequence[str] = ()) -> list[Block]:
    """One member on one card (≤ 12 blocks): who, where, what happened, and the buttons."""
    blocks: list[Block] = [context(note) for note in notes]
    name = card.real_name or card.display_name or card.slack_user_id
    blocks.append(HeaderBlock(text=cut(name, 150)))
    roles = ", ".join(t(f"{_T}.role.{r}", language) for r in card.roles) or t(
        f"{_T}.none", language
    )
    blocks.append(
        SectionBlock(
            fields=[
                field(t(f"{_T}.field.user", language), mention(card.slack_user_id)),
                field(t(f"{_T}.field.email", language), _text(card.email, language)),
                field(t(f"{_T}.field.organisation", language), _text(card.organisation, language)),
                field(t(f"{_T}.field.status", language), t(f"{_T}.status.{card.status}", language)),
                field(t(f"{_T}.field.roles", language), roles),
                field(
                    t(f"{_T}.field.rules", language),
                    t(
                        f"{_T}.rules_line",
                        language,
                        version=_text(card.rules_version, language),
                        at=_when(card.rules_accepted_at, language),
                    ),
                ),
                field(t(f"{_T}.field.joined", language), _when(card.joined_at, language)),
                field(t(f"{_T}.field.last_seen", language), _when(card.last_seen_at, language)),
            ]
        )
    )
    blocks.append(section(_application_line(card, language)))
    blocks.append(section(_cases_line(card, language) + "\n" + _lifecycle_line(card, language)))
    blocks.append(section(_audit_lines(card, language)))
    blocks.append(_actions(card, language))
    return blocks


def _application_line(card: MemberCard, language: Language) -> str:
    app = card.application
    if app is None:
        return t(f"{_T}.application.none", language)
    line = t(
        f"{_T}.application.line",
        language,
        id=app.public_id,
        name=escape_mrkdwn(app.name),
        status=app.status,
        at=slack_date(app.submitted_at),
    )
    if app.decided_at is not None:
        line += "\n" + t(
            f"{_T}.application.decided",
            language,
            actor=mention(app.decided_by or "system"),
            at=slack_date(app.decided_at),
            reason=escape_mrkdwn(app.decision_reason or "—"),
        )
    return line


def _cases_line(card: MemberCard, language: Language) -> str:
    cases = card.cases
    if cases.count == 0 or cases.latest_at is None:
        return t(f"{_T}.cases.none", language)
    return t(
        f"{_T}.cases.line",
        language,
        count=cases.count,
        id=cases.latest_public_id or "",
        status=cases.latest_status or "",
        at=slack_date(cases.latest_at),
    )


def _lifecycle_line(card: MemberCard, language: Language) -> str:
    if card.inactivity_exempt:
        return t(f"{_T}.lifecycle.exempt", language)
    if card.cycle_status is None:
        return t(f"{_T}.lifecycle.none", language)
    return t(f"{_T}.lifecycle.open", language, status=card.cycle_status)


def _audit_lines(card: MemberCard, language: Language) -> str:
    if not card.audit:
        return t(f"{_T}.audit.none", language)
    lines = [
        f"• {slack_date(a.occurred_at)} {escape_mrkdwn(a.action)} ({mention(a.actor)})"
        for a in card.audit
    ]
    return t(f"{_T}.audit.title", language) + "\n" + "\n".join(lines)


def _actions(card: MemberCard, language: Language) -> ActionsBlock:
    user = card.slack_user_id
    buttons = []
    for role in ROLES:
        change = "revoke" if role in card.roles else "grant"
        role_name = t(f"{_T}.role.{role}", language)
        buttons.append(
            ButtonElement(
                text=t(f"{_T}.button.{change}", language, role=role_name),
                action_id=ids.SECRETARIAT_MEMBER_ROLE[role],
                value=f"{change}|{user}",
                style="danger" if change == "revoke" else None,
                confirm=confirm_dialog(
                    f"{_T}.confirm.{change}", language, role=role_name, user=mention(user)
                ),
            )
        )
    exempt = "unexempt" if card.inactivity_exempt else "exempt"
    buttons.append(
        ButtonElement(
            text=t(f"{_T}.button.{exempt}", language),
            action_id=ids.SECRETARIAT_MEMBER_EXEMPT,
            value=f"{exempt}|{user}",
            confirm=confirm_dialog(f"{_T}.confirm.{exempt}", language, user=mention(user)),
        )
    )
    if card.restorable and card.cycle_id is not None:
        buttons.append(
            ButtonElement(
                text=t(f"{_T}.button.restore", language),
                action_id=ids.SECRETARIAT_MEMBER_RESTORE,
                value=f"{card.cycle_id}|{user}",
                style="primary",
            )
        )
    return ActionsBlock(elements=buttons)


# --- The App Home's roles modal ---------------------------------------------------------------


class RolesModalMetadata(ModalMetadata):
    language: Language


def roles_home_button(language: Language) -> ButtonElement:
    return ButtonElement(
        text=t(f"{_T}.roles.open", language), action_id=ids.SECRETARIAT_ROLES_OPEN, value="open"
    )


def roles_modal(language: Language) -> View:
    def option(key: str, value: str) -> Option:
        return Option(text=t(key, language), value=value)

    return View(
        type="modal",
        callback_id=ids.SECRETARIAT_ROLES_MODAL,
        private_metadata=RolesModalMetadata(language=language).dump(),
        title=t(f"{_T}.roles.title", language),
        submit=t(f"{_T}.roles.submit", language),
        close=t(f"{_T}.roles.cancel", language),
        blocks=[
            InputBlock(
                block_id=ids.SECRETARIAT_ROLES_USER_BLOCK,
                label=t(f"{_T}.roles.user", language),
                element=UserSelectElement(action_id=ids.SECRETARIAT_ROLES_INPUT),
            ),
            InputBlock(
                block_id=ids.SECRETARIAT_ROLES_ROLE_BLOCK,
                label=t(f"{_T}.roles.role", language),
                element=StaticSelectElement(
                    action_id=ids.SECRETARIAT_ROLES_INPUT,
                    options=[option(f"{_T}.role.{r}", r) for r in ROLES],
                ),
            ),
            InputBlock(
                block_id=ids.SECRETARIAT_ROLES_CHANGE_BLOCK,
                label=t(f"{_T}.roles.change", language),
                element=RadioButtonsElement(
                    action_id=ids.SECRETARIAT_ROLES_INPUT,
                    initial_option=option(f"{_T}.roles.grant", "grant"),
                    options=[
                        option(f"{_T}.roles.grant", "grant"),
                        option(f"{_T}.roles.revoke", "revoke"),
                    ],
                ),
            ),
            context(t(f"{_T}.roles.hint", language)),
        ],
    )


def roles_done_modal(note: str, language: Language) -> View:
    return View(
        type="modal",
        title=t(f"{_T}.roles.title", language),
        close=t(f"{_T}.roles.close", language),
        blocks=[section(note)],
    )


def note_text(key: str, language: Language, **params: str) -> str:
    """What the last click did, on top of the refreshed card (or in the roles modal)."""
    return t(f"{_T}.note.{key}", language, **params)


def role_name(role: str, language: Language) -> str:
    return t(f"{_T}.role.{role}", language)


def role_note(change: str, changed: bool, role: str, language: Language) -> str:
    """What a grant or revoke did: done, or it was so already (a double click)."""
    key = {"grant": "granted", "revoke": "revoked"}.get(change, "unknown")
    return note_text(
        key if changed else f"{change}_already", language, role=role_name(role, language)
    )
