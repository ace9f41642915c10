"""What a member entered in the channel modals (`view.state.values`), read into plain data."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import ids
from bot.domain.channels import FormField, RequestForm
from bot.i18n import Language, t
from bot.text import parse_int
from handlers.modal_values import selected_value, typed_text
from handlers.replies import field_error
from models import ChannelCategory

# Where each field's inline error goes.
FIELD_BLOCKS = {
    FormField.KIND: ids.CHANNEL_KIND_BLOCK,
    FormField.NAME: ids.CHANNEL_NAME_BLOCK,
    FormField.PURPOSE: ids.CHANNEL_PURPOSE_BLOCK,
    FormField.ORGANISATION: ids.CHANNEL_ORGANISATION_BLOCK,
    FormField.FACILITATORS: ids.CHANNEL_FACILITATORS_BLOCK,
    FormField.PREFECTURE: ids.CHANNEL_PREFECTURE_BLOCK,
    FormField.REASON: ids.CHANNEL_REASON_BLOCK,
    FormField.END_DATE: ids.CHANNEL_END_DATE_BLOCK,
}


def values_of(view: dict[str, Any]) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values")
    return values if isinstance(values, dict) else {}


def _value(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    entered = values.get(block_id, {}).get(ids.CHANNEL_INPUT)
    return entered if isinstance(entered, dict) else {}


def text(values: dict[str, Any], block_id: str, *, multiline: bool = True) -> str:
    return typed_text(values, block_id, ids.CHANNEL_INPUT, multiline=multiline)


def chosen_date(values: dict[str, Any], block_id: str) -> date | None:
    chosen = _value(values, block_id).get("selected_date")
    try:
        return date.fromisoformat(str(chosen)) if chosen else None
    except ValueError:
        return None


def users(values: dict[str, Any], block_id: str) -> tuple[str, ...]:
    return tuple(str(u) for u in _value(values, block_id).get("selected_users") or ())


def request_form(values: dict[str, Any]) -> RequestForm:
    kind = selected_value(values, ids.CHANNEL_KIND_BLOCK, ids.CHANNEL_INPUT)
    organisation = selected_value(values, ids.CHANNEL_ORGANISATION_BLOCK, ids.CHANNEL_INPUT)
    distinct = _value(values, ids.CHANNEL_DISTINCT_BLOCK).get("selected_options") or []
    return RequestForm(
        category=ChannelCategory(kind) if kind in {k.value for k in ChannelCategory} else None,
        suffix=text(values, ids.CHANNEL_NAME_BLOCK, multiline=False),
        purpose=text(values, ids.CHANNEL_PURPOSE_BLOCK),
        reason=text(values, ids.CHANNEL_REASON_BLOCK),
        prefecture=selected_value(values, ids.CHANNEL_PREFECTURE_BLOCK, ids.CHANNEL_INPUT),
        organisation_id=parse_int(organisation, low=1),
        facilitator_ids=users(values, ids.CHANNEL_FACILITATORS_BLOCK),
        end_date=chosen_date(values, ids.CHANNEL_END_DATE_BLOCK),
        confirmed_distinct=bool(distinct),
    )


def point_target(values: dict[str, Any]) -> str:
    chosen = values.get(ids.CHANNEL_POINT_TARGET_BLOCK, {}).get(ids.CHANNEL_POINT_TARGET, {})
    return str((chosen.get("selected_option") or {}).get("value") or "")


def stale(block_id: str, language: Language) -> dict[str, Any]:
    """A submission whose private_metadata is not what Kyoso sent: refused, nothing stored."""
    return field_error(block_id, t("channels.modal.stale", language))
