"""Guests and Slack Connect users on the secretariat's App Home: two blocks at most."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.domain.secretariat_guests import Guest, GuestList
from bot.i18n import Language, t
from bot.views.dashboard.common import context, mention, number, section

# A section's text holds 3,000 characters: a guest's line is kept short.
CHANNELS_NAMED = 5


def _line(guest: Guest, language: Language) -> str:
    kind = t(f"secretariat.guests.kind.{guest.kind.value}", language)
    if guest.channels is None:
        channels = t("secretariat.guests.channels_unknown", language)
    elif not guest.channels:
        channels = t("secretariat.guests.channels_none", language)
    else:
        named = ", ".join(f"#{name}" for name in guest.channels[:CHANNELS_NAMED])
        more = len(guest.channels) - CHANNELS_NAMED
        channels = named + (
            t("secretariat.guests.channels_more", language, n=more) if more > 0 else ""
        )
    return f"• {mention(guest.slack_user_id)} ({kind}): {channels}"


def guest_blocks(guests: GuestList, language: Language) -> list[Block]:
    """The count and the most recent guests with their channels; nothing without guests."""
    if not guests.total:
        return []
    lines = [t("secretariat.guests.title", language, total=number(guests.total))]
    lines += [_line(guest, language) for guest in guests.shown]
    blocks: list[Block] = [section("\n".join(lines)[:3000])]
    if guests.total > len(guests.shown):
        blocks.append(
            context(
                t("secretariat.guests.more", language, n=number(guests.total - len(guests.shown)))
            )
        )
    return blocks
