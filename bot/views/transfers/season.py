"""The 異動 season's messages: the survey DM (three buttons, updated in place with the answer),
the reminder DM, and the App Home banner. Pure builders in one language."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import Block, HeaderBlock

from bot import ids
from bot.domain.transfers_season import SeasonBanner
from bot.i18n import Language, t
from bot.views.blocks import Choice, context, decision_row, section
from models import SeasonAnswerKind


def season_block_id(key: str) -> str:
    """The first block of every season DM: how a restarted sender recognises it in Slack."""
    return f"{ids.TRANSFER_SEASON_BLOCK}:{key}"


def _day(day: date) -> str:
    return day.isoformat()


def answer_label(answer: SeasonAnswerKind, language: Language) -> str:
    return t(f"transfers.season.answer.{answer.value}", language)


def survey_dm_blocks(
    key: str,
    language: Language,
    *,
    season: int,
    until: date,
    answer: SeasonAnswerKind | None = None,
) -> list[Block]:
    """The question and its three buttons; once answered, the answer above the buttons (the
    latest answer counts, so the buttons stay)."""
    blocks: list[Block] = [
        HeaderBlock(
            block_id=season_block_id(key), text=t("transfers.season.survey.header", language)
        ),
        section(t("transfers.season.survey.intro", language, year=season)),
        section(t("transfers.season.survey.why", language)),
    ]
    if answer is not None:
        follow_up = {
            SeasonAnswerKind.MOVING: "transfers.season.answered.moving",
            SeasonAnswerKind.LEAVING: "transfers.season.answered.leaving",
        }.get(answer, "transfers.season.answered")
        blocks.append(section(t(follow_up, language, answer=answer_label(answer, language))))
    blocks += [
        decision_row(
            value=key,
            choices=[
                Choice(
                    t("transfers.season.button.no_change", language),
                    ids.TRANSFER_SEASON_NO_CHANGE,
                    "primary",
                ),
                Choice(t("transfers.season.button.moving", language), ids.TRANSFER_SEASON_MOVING),
                Choice(t("transfers.season.button.leaving", language), ids.TRANSFER_SEASON_LEAVING),
            ],
        ),
        context(t("transfers.season.survey.footer", language, until=_day(until))),
    ]
    return blocks


def survey_dm_text(language: Language) -> str:
    return t("transfers.season.survey.text", language)


def reminder_dm_blocks(key: str, language: Language) -> list[Block]:
    return [
        HeaderBlock(
            block_id=season_block_id(key), text=t("transfers.season.reminder.header", language)
        ),
        section(t("transfers.season.reminder.body", language)),
        decision_row(
            value=key,
            choices=[
                Choice(
                    t("transfers.season.reminder.button", language),
                    ids.TRANSFER_SEASON_REMINDER_MOVE,
                    "primary",
                )
            ],
        ),
        context(t("transfers.season.reminder.footer", language)),
    ]


def reminder_dm_text(language: Language) -> str:
    return t("transfers.season.reminder.text", language)


def not_yours_text(language: Language) -> str:
    return t("transfers.season.not_yours", language)


def closed_text(language: Language) -> str:
    return t("transfers.season.closed", language)


def season_banner_blocks(banner: SeasonBanner, language: Language) -> list[Block]:
    """App Home's banner during the window: the question and where the member stands."""
    question = t(
        "transfers.season.banner.question",
        language,
        year=banner.season,
        until=_day(banner.window_ends),
    )
    if banner.answer is None:
        status = t("transfers.season.banner.unanswered", language)
    else:
        key = "confirmed" if banner.move_confirmed else "answer"
        status = t(
            f"transfers.season.banner.{key}",
            language,
            answer=answer_label(banner.answer, language),
        )
    return [section(f"{question}\n{status}")]
