"""Sends requests into a running Bolt app over HTTP, signed exactly as Slack signs them.

Signature: `X-Slack-Signature: v0=` + hex HMAC-SHA256(signing secret, `v0:{ts}:{raw body}`)
with `X-Slack-Request-Timestamp: {ts}` (unix seconds). Payload shapes follow what Slack sends
(events as JSON in an event_callback wrapper; slash commands as a form; interactivity as a
form with one `payload` field holding JSON).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from .slack_emulator import SlackEmulator

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass
class SlackResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body_text: str
    request_body: bytes = field(default=b"", repr=False)

    def json(self) -> Any:
        return json.loads(self.body_text) if self.body_text else None


def sign(signing_secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def _tampered(signature: str) -> str:
    last = signature[-1]
    return signature[:-1] + ("0" if last != "0" else "1")


def new_trigger_id() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


class SlackSender:
    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        emulator: SlackEmulator | None = None,
        *,
        team_id: str | None = None,
        team_domain: str | None = None,
        api_app_id: str | None = None,
        bot_user_id: str | None = None,
        verification_token: str = "legacy-verification-token",
        timeout: float = 10.0,
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.emulator = emulator
        self.team_id = team_id or (emulator.team_id if emulator else "T0KYOSO")
        self.team_domain = team_domain or (emulator.state.team_domain if emulator else "kyoso")
        self.api_app_id = api_app_id or (emulator.app_id if emulator else "A0KYOSO")
        self.bot_user_id = bot_user_id or (emulator.bot_user_id if emulator else "U0KYOSOBOT")
        self.verification_token = verification_token
        self.timeout = timeout

    # ---- transport ----------------------------------------------------------------------

    def raw(self, body: bytes, headers: dict[str, str]) -> SlackResponse:
        """POST `body` with exactly these headers (no signing): for negative tests."""
        parts = urlsplit(self.events_url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn_cls = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout)
        try:
            conn.request("POST", path, body=body, headers={"Connection": "close", **headers})
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            out_headers = {k.lower(): v for k, v in resp.getheaders()}
            return SlackResponse(resp.status, out_headers, text, body)
        finally:
            conn.close()

    def signed_headers(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: float | None = None,
        tamper: bool = False,
    ) -> dict[str, str]:
        ts = str(int(time.time() if timestamp is None else timestamp))
        signature = sign(self.signing_secret, ts, body)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": _tampered(signature) if tamper else signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }

    def send(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: float | None = None,
        tamper: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> SlackResponse:
        headers = self.signed_headers(body, content_type, timestamp=timestamp, tamper=tamper)
        return self.raw(body, {**headers, **(extra_headers or {})})

    def _send_payload(self, payload: dict[str, Any], **opts: Any) -> SlackResponse:
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()
        return self.send(body, FORM, **opts)

    # ---- payload parts ------------------------------------------------------------------

    def _response_url(self, kind: str) -> str:
        if self.emulator is not None:
            return self.emulator.new_response_url()
        return f"https://hooks.slack.com/{kind}/{self.team_id}/{secrets.randbelow(10**12)}/x"

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}

    def _user_name(self, user_id: str) -> str:
        if self.emulator is not None:
            user = self.emulator.user(user_id)
            if user:
                return str(user["name"])
        return user_id.lower()

    def _user(self, user_id: str) -> dict[str, Any]:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _channel(self, channel_id: str) -> dict[str, Any]:
        name = "directmessage" if channel_id.startswith("D") else channel_id.lower()
        if self.emulator is not None:
            ch = self.emulator.channel(channel_id)
            if ch and ch["name"]:
                name = ch["name"]
        return {"id": channel_id, "name": name}

    # ---- Events API ---------------------------------------------------------------------

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        tamper: bool = False,
        timestamp: float | None = None,
    ) -> SlackResponse:
        """Wraps `event` in an event_callback envelope, as the Events API delivers it."""
        now = time.time()
        inner = dict(event)
        inner.setdefault("event_ts", f"{now:.6f}")
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": event_time if event_time is not None else int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(envelope, ensure_ascii=False).encode()
        return self.send(body, JSON, timestamp=timestamp, tamper=tamper, extra_headers=extra)

    def url_verification(self, challenge: str, **opts: Any) -> SlackResponse:
        body = json.dumps(
            {
                "token": self.verification_token,
                "challenge": challenge,
                "type": "url_verification",
            }
        ).encode()
        return self.send(body, JSON, **opts)

    # ---- slash commands -----------------------------------------------------------------

    def command(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        user_name: str | None = None,
        channel_name: str | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        tamper: bool = False,
        timestamp: float | None = None,
    ) -> SlackResponse:
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name or self._channel(channel_id)["name"],
            "user_id": user_id,
            "user_name": user_name or self._user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or self._response_url("commands"),
            "trigger_id": trigger_id or new_trigger_id(),
        }
        return self.send(urlencode(fields).encode(), FORM, timestamp=timestamp, tamper=tamper)

    # ---- shortcuts ----------------------------------------------------------------------

    def global_shortcut(
        self, callback_id: str, *, user_id: str, trigger_id: str | None = None, **opts: Any
    ) -> SlackResponse:
        payload = {
            "type": "shortcut",
            "token": self.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": self._user(user_id),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id or new_trigger_id(),
        }
        return self._send_payload(payload, **opts)

    def message_shortcut(
        self,
        callback_id: str,
        *,
        message: dict[str, Any],
        channel_id: str,
        user_id: str,
        trigger_id: str | None = None,
        **opts: Any,
    ) -> SlackResponse:
        payload = {
            "type": "message_action",
            "token": self.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": self._user(user_id),
            "channel": self._channel(channel_id),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id or new_trigger_id(),
            "response_url": self._response_url("app"),
            "message_ts": message.get("ts", ""),
            "message": message,
        }
        return self._send_payload(payload, **opts)

    # ---- block actions / views ----------------------------------------------------------

    def block_action(
        self,
        action_id: str,
        value: str | None = None,
        *,
        user_id: str,
        channel_id: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        block_id: str | None = None,
        selected_option: dict[str, Any] | None = None,
        action_type: str | None = None,
        action_extra: dict[str, Any] | None = None,
        state_values: dict[str, Any] | None = None,
        trigger_id: str | None = None,
        **opts: Any,
    ) -> SlackResponse:
        """A block_actions payload from a message (message=..., channel_id=...), a modal or
        the Home tab (view=...). Extra action fields (selected_user, selected_options...) go
        in action_extra."""
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or secrets.token_urlsafe(4),
            "type": action_type or ("static_select" if selected_option else "button"),
            "action_ts": f"{time.time():.6f}",
        }
        if action["type"] == "button":
            action["text"] = {"type": "plain_text", "text": "Button", "emoji": True}
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            action["selected_option"] = selected_option
        action.update(action_extra or {})
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id or new_trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [action],
        }
        if view is not None:
            full_view = {"state": {"values": state_values or {}}, **view}
            payload["container"] = {"type": "view", "view_id": full_view.get("id", "")}
            payload["view"] = full_view
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": (message or {}).get("ts", ""),
                "channel_id": channel_id or "",
                "is_ephemeral": False,
            }
            # Only message-borne actions carry a response_url.
            payload["response_url"] = self._response_url("actions")
            payload["state"] = {"values": state_values or {}}
        if channel_id is not None:
            payload["channel"] = self._channel(channel_id)
        if message is not None:
            payload["message"] = message
        return self._send_payload(payload, **opts)

    def _view(
        self,
        callback_id: str,
        *,
        view_id: str | None,
        values: dict[str, Any] | None,
        private_metadata: str | None,
        hash: str | None,
        blocks: list[dict[str, Any]] | None,
        title: str,
    ) -> dict[str, Any]:
        stored = self.emulator.view(view_id) if self.emulator and view_id else None
        vid = view_id or "V" + secrets.token_hex(5).upper()
        base = stored or {}
        return {
            "id": vid,
            "team_id": self.team_id,
            "type": base.get("type", "modal"),
            "blocks": blocks if blocks is not None else base.get("blocks", []),
            "private_metadata": (
                private_metadata
                if private_metadata is not None
                else base.get("private_metadata", "")
            ),
            "callback_id": callback_id,
            "state": {"values": values or {}},
            "hash": hash or base.get("hash") or f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": base.get("title") or {"type": "plain_text", "text": title},
            "clear_on_close": base.get("clear_on_close", False),
            "notify_on_close": base.get("notify_on_close", False),
            "close": base.get("close"),
            "submit": base.get("submit"),
            "previous_view_id": base.get("previous_view_id"),
            "root_view_id": base.get("root_view_id", vid),
            "app_id": self.api_app_id,
            "external_id": base.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": base.get("bot_id") or (self.emulator.bot_id if self.emulator else "B0KYOSO"),
        }

    def view_submission(
        self,
        callback_id: str,
        *,
        values: dict[str, dict[str, dict[str, Any]]] | None = None,
        user_id: str,
        private_metadata: str | None = None,
        view_id: str | None = None,
        hash: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        title: str = "Kyoso",
        response_urls: list[dict[str, Any]] | None = None,
        trigger_id: str | None = None,
        **opts: Any,
    ) -> SlackResponse:
        """values: {block_id: {action_id: {"type": ..., "value": ...}}}. With an emulator and
        a view_id, the stored view supplies blocks, title and private_metadata by default."""
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id or new_trigger_id(),
            "view": self._view(
                callback_id,
                view_id=view_id,
                values=values,
                private_metadata=private_metadata,
                hash=hash,
                blocks=blocks,
                title=title,
            ),
            "response_urls": response_urls or [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._send_payload(payload, **opts)

    def view_closed(
        self,
        callback_id: str,
        *,
        user_id: str,
        view_id: str | None = None,
        private_metadata: str | None = None,
        is_cleared: bool = False,
        **opts: Any,
    ) -> SlackResponse:
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "view": self._view(
                callback_id,
                view_id=view_id,
                values=None,
                private_metadata=private_metadata,
                hash=None,
                blocks=None,
                title="Kyoso",
            ),
            "is_cleared": is_cleared,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._send_payload(payload, **opts)
