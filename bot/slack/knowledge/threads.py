"""Reading the one thread a member wants to keep: whether its channel is public
(conversations.info) and its messages (conversations.replies, page by page).

Both calls go through the bot's client, whose retry handlers wait out `Retry-After`
(bot/slack_client.py); what is still refused after that is a `CannotCapture` whose code
the modal explains. Nothing is read from a channel that is not public."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.slack.channels.base import TIER3_PACE_SECONDS, Pacer
from bot.slack_errors import SLACK_CALL_ERRORS, classify, error_code

log = logging.getLogger(__name__)

PAGE_SIZE = 200  # messages per conversations.replies page
MAX_PAGES = 5  # past 1,000 messages a thread is a discussion, not a question and its answer
_GONE = frozenset({"thread_not_found", "message_not_found"})


class CannotCapture(Exception):
    """Why a thread cannot be kept: a catalogue code under knowledge.capture.notice."""

    def __init__(self, code: str, *, transient: bool = False, labels: tuple[str, ...] = ()):
        super().__init__(code)
        self.code = code
        self.transient = transient  # Slack was busy or unreachable: worth trying again later
        self.labels = labels  # the handling labels that refused it (code "label")


CHECK_REACTION = "white_check_mark"


@dataclass(frozen=True)
class Post:
    ts: str
    user: str | None
    text: str  # as a member reads it: Slack's &lt; &gt; &amp; undone
    from_bot: bool
    checks: int = 0  # ✅ on it already (conversations.replies carries the reactions)


@dataclass(frozen=True)
class Thread:
    channel_id: str
    root: Post
    replies: tuple[Post, ...]  # oldest first

    def post(self, ts: str) -> Post | None:
        if ts == self.root.ts:
            return self.root
        return next((reply for reply in self.replies if reply.ts == ts), None)

    @property
    def posts(self) -> tuple[Post, ...]:
        return (self.root, *self.replies)


def plain(text: str) -> str:
    """Slack escapes three characters in message text; the modal shows them as typed."""
    return html.unescape(text) if "&" in text else text


def _post(message: dict[str, Any]) -> Post:
    return Post(
        ts=str(message.get("ts") or ""),
        user=str(message["user"]) if message.get("user") else None,
        text=plain(str(message.get("text") or "")),
        from_bot=bool(message.get("bot_id")) or message.get("subtype") == "bot_message",
        checks=_checks(message),
    )


def _checks(message: dict[str, Any]) -> int:
    for reaction in message.get("reactions") or []:
        if isinstance(reaction, dict) and reaction.get("name") == CHECK_REACTION:
            count = reaction.get("count")
            return count if isinstance(count, int) and count > 0 else 0
    return 0


class ThreadReader:
    def __init__(
        self,
        client: WebClient,
        *,
        page_size: int = PAGE_SIZE,
        pace_seconds: float = TIER3_PACE_SECONDS,
    ) -> None:
        self._client = client
        self._page_size = page_size
        self._pace_seconds = pace_seconds

    def ensure_public(self, channel_id: str) -> None:
        """Raises CannotCapture("private") unless the channel is a public channel, ("shared")
        for a channel shared with another organisation (Slack Connect)."""
        if not channel_id or channel_id[0] == "D":  # a DM or a group DM: never asked about
            raise CannotCapture("private")
        try:
            channel = self._client.conversations_info(channel=channel_id)["channel"]
        except SLACK_CALL_ERRORS as exc:
            if error_code(exc) == "channel_not_found":  # a private channel the bot is not in
                raise CannotCapture("private") from exc
            raise _unavailable("conversations.info", channel_id, exc) from exc
        if channel.get("is_private") or channel.get("is_im") or channel.get("is_mpim"):
            raise CannotCapture("private")
        if channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"):
            # Slack Connect: people of other organisations wrote there, under their own rules.
            raise CannotCapture("shared")

    def fetch(self, channel_id: str, ts: str) -> Thread:
        """The whole thread that holds message `ts` (its root or one of its replies)."""
        messages = self._replies(channel_id, ts)
        marked = next((m for m in messages if m.get("ts") == ts), None)
        if marked is None:
            raise CannotCapture("gone")
        root_ts = str(marked.get("thread_ts") or ts)
        if not any(m.get("ts") == root_ts for m in messages):
            # Asked with a reply's ts, Slack may answer with that reply alone.
            messages = self._replies(channel_id, root_ts)
        root = next((m for m in messages if m.get("ts") == root_ts), None)
        if root is None:
            raise CannotCapture("gone")
        replies = sorted(
            (m for m in messages if m.get("ts") != root_ts and m.get("thread_ts") == root_ts),
            key=lambda m: float(m.get("ts") or 0),
        )
        return Thread(channel_id, _post(root), tuple(_post(m) for m in replies))

    def _replies(self, channel_id: str, ts: str) -> list[dict[str, Any]]:
        """The pages of one thread, paced for Slack's Tier 3 (a burst of two readings is not
        worth a pause; a thread of many pages is)."""
        pacer = Pacer(self._pace_seconds)
        found: list[dict[str, Any]] = []
        cursor = ""
        joined = False
        pages = 0
        while pages < MAX_PAGES:
            pacer.wait()
            try:
                response = self._client.conversations_replies(
                    channel=channel_id, ts=ts, limit=self._page_size, cursor=cursor or None
                )
            except SLACK_CALL_ERRORS as exc:
                code = error_code(exc)
                if code == "not_in_channel" and not joined:
                    # Kyoso hears a kept thread's edits and deletions only as a member of its
                    # channel: it joins the public channel it is asked to keep from.
                    self._join(channel_id)
                    joined = True
                    continue
                if code in _GONE:
                    raise CannotCapture("gone") from exc
                if code == "channel_not_found":
                    raise CannotCapture("private") from exc
                raise _unavailable("conversations.replies", channel_id, exc) from exc
            pages += 1
            found.extend(m for m in response.get("messages") or [] if isinstance(m, dict))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                break
        return found

    def _join(self, channel_id: str) -> None:
        try:
            self._client.conversations_join(channel=channel_id)
        except SLACK_CALL_ERRORS as exc:
            raise _unavailable("conversations.join", channel_id, exc) from exc


def _unavailable(method: str, channel_id: str, exc: Exception) -> CannotCapture:
    failure = classify(exc)
    log.warning("%s %s failed: %s", method, channel_id, failure.error)
    if failure.error == "ratelimited":  # still limited after the client waited Retry-After
        return CannotCapture("busy", transient=True)
    return CannotCapture("unavailable", transient=failure.transient)
