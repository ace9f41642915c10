"""Times as members read them: JST, or Slack's own localised date tokens."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def jst(at: datetime, zone: ZoneInfo = JST) -> str:
    return at.astimezone(zone).strftime("%Y/%m/%d %H:%M")


def slack_date(at: datetime, zone: ZoneInfo = JST) -> str:
    """Slack shows this in each reader's own time zone; the fallback is JST."""
    return f"<!date^{int(at.timestamp())}^{{date_num}} {{time}}|{jst(at, zone)}>"
