"""What each channel modal carries from its opening to its submission."""

from __future__ import annotations

from bot.i18n import Language
from bot.views.blocks import ModalMetadata


class RequestModalMetadata(ModalMetadata):
    language: Language
    public_id: str | None = None  # set when a returned request is being edited


class DecisionModalMetadata(ModalMetadata):
    public_id: str


class EditModalMetadata(ModalMetadata):
    slack_channel_id: str
    language: Language


class PointModalMetadata(ModalMetadata):
    slack_channel_id: str
    message_ts: str
    author: str
    language: Language
