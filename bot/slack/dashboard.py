"""The dashboard's Slack calls: Home tabs, CSV exports sent to a DM, and the weekly report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.i18n import Language, t
from bot.services.dashboard.exports import Export
from bot.views.blocks import to_dicts


@dataclass(frozen=True)
class ChartUpload:
    content: bytes  # a PNG
    filename: str
    title: str


class DashboardSlack:
    def __init__(self, *, client: WebClient) -> None:
        self._client = client

    def publish_home(self, user_id: str, view: View) -> None:
        self._client.views_publish(user_id=user_id, view=view.to_dict())

    def send_export(self, user_id: str, export: Export, language: Language) -> None:
        """The CSV as a file in the member's DM, with what it holds and a word of care."""
        channel = self._client.conversations_open(users=user_id)["channel"]["id"]
        title = t(f"dashboard.export.name.{export.kind.value}", language)
        self._client.files_upload_v2(
            channel=channel,
            file=export.content,
            filename=export.filename,
            title=export.filename,
            initial_comment=t(
                "dashboard.export.sent", language, title=title, rows=f"{export.rows:,}"
            ),
        )

    def tell(self, user_id: str, text: str) -> None:
        """A line in the member's DM (where a Home-tab button has no other place to answer)."""
        self._client.chat_postMessage(channel=user_id, text=text)

    def post_report(
        self,
        *,
        channel: str,
        blocks: Sequence[Block],
        text: str,
        charts: Sequence[ChartUpload],
        comment: str,
    ) -> str | None:
        """The report's message, then its charts in one upload; the message's ts."""
        posted = self._client.chat_postMessage(channel=channel, blocks=to_dicts(blocks), text=text)
        uploads: list[dict[str, Any]] = [
            {"file": chart.content, "filename": chart.filename, "title": chart.title}
            for chart in charts
        ]
        self._client.files_upload_v2(channel=channel, file_uploads=uploads, initial_comment=comment)
        ts = posted.get("ts")
        return str(ts) if ts is not None else None
