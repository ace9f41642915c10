"""Announcements' scheduled run: send what is due, edit the progress messages.

Without Slack (a context with no gateway) there is nothing to do: staging happens when the
secretariat confirms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.jobs import JobContext

JobResult = dict[str, Any]


def send_announcements(ctx: JobContext) -> JobResult:
    if ctx.gateway is None:
        return {"skipped": "no Slack"}
    return ctx.gateway.secretariat.announcements.start().run().as_dict()
