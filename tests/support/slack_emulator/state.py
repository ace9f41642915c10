"""In-memory state of one emulated Slack workspace.

Records are stored in Slack's own JSON shapes so that handlers can return copies of them.
All access goes through `Workspace.lock` (one re-entrant lock for the whole emulator).
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

IMAGE_SIZES = (24, 32, 48, 72, 192, 512)


class ApiError(Exception):
    """An `ok: false` answer; `extra` fields are merged into the response body."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class TokenInfo:
    token: str
    kind: str  # "bot" | "user" | "app"
    scopes: list[str]
    user_id: str | None = None
    bot_id: str | None = None
    enterprise: bool = False
    paid: bool = False


@dataclass
class Workspace:
    team_id: str = "T0KYOSO"
    team_name: str = "Kyoso"
    team_domain: str = "kyoso"
    app_id: str = "A0KYOSO"
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, TokenInfo] = field(default_factory=dict)
    # Channels, IMs and MPIMs, keyed by id; members/user kept inside the record.
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ephemeral: list[dict[str, Any]] = field(default_factory=list)
    deleted_messages: list[dict[str, Any]] = field(default_factory=list)
    ims: dict[frozenset[str], str] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    view_owner: dict[str, str] = field(default_factory=dict)
    home_views: dict[str, str] = field(default_factory=dict)
    modal_order: list[str] = field(default_factory=list)
    pins: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_logs: dict[str, dict[str, Any]] = field(default_factory=dict)
    dnd: dict[str, dict[str, Any]] = field(default_factory=dict)
    invites: list[dict[str, Any]] = field(default_factory=list)
    removed_users: list[str] = field(default_factory=list)
    socket_tickets: set[str] = field(default_factory=set)  # issued by apps.connections.open
    _counters: dict[str, int] = field(default_factory=dict)
    _last_ts_us: int = 0

    # ---- ids and timestamps -------------------------------------------------

    def new_id(self, prefix: str) -> str:
        # Slack ids are upper-case alphanumerics; a counter keeps them unique and sortable.
        with self.lock:
            n = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = n
            return f"{prefix}0K{n:08X}"

    def next_ts(self) -> str:
        """Message ts: wall clock in microseconds, strictly increasing (100 µs steps at least)."""
        with self.lock:
            now_us = int(time.time() * 1_000_000)
            us = max(now_us, self._last_ts_us + 100)
            self._last_ts_us = us
            return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    # ---- team ---------------------------------------------------------------

    def team_record(self) -> dict[str, Any]:
        return {
            "id": self.team_id,
            "name": self.team_name,
            "url": f"https://{self.team_domain}.slack.com/",
            "domain": self.team_domain,
            "email_domain": "",
            "icon": {
                "image_default": True,
                **{
                    f"image_{s}": f"https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-{s}.png"
                    for s in (34, 44, 68, 88, 102, 132, 230)
                },
            },
            "avatar_base_url": "https://ca.slack-edge.com/",
            "is_verified": False,
        }

    # ---- users --------------------------------------------------------------

    def add_user(
        self,
        user_id: str | None = None,
        *,
        name: str,
        email: str | None = None,
        real_name: str | None = None,
        display_name: str = "",
        locale: str = "ja-JP",
        tz: str = "Asia/Tokyo",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        is_restricted: bool = False,
        deleted: bool = False,
        image: bool = True,
        bot_id: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            uid = user_id or self.new_id("U")
            real = real_name if real_name is not None else name
            digest = hashlib.md5(uid.encode(), usedforsecurity=False).hexdigest()
            if image:
                images = {
                    f"image_{s}": f"https://avatars.slack-edge.com/2024-01-01/{digest[:10]}_{s}.png"
                    for s in IMAGE_SIZES
                }
                images["image_original"] = (
                    f"https://avatars.slack-edge.com/2024-01-01/{digest[:10]}_original.png"
                )
            else:
                # Members without a photo get Gravatar URLs with Slack's default avatar.
                images = {
                    f"image_{s}": (
                        f"https://secure.gravatar.com/avatar/{digest}.jpg?s={s}&d=https%3A%2F%2F"
                        f"a.slack-edge.com%2Fdf10d%2Fimg%2Favatars%2Fava_0001-{s}.png"
                    )
                    for s in IMAGE_SIZES
                }
            profile: dict[str, Any] = {
                "title": "",
                "phone": "",
                "skype": "",
                "real_name": real,
                "real_name_normalized": real,
                "display_name": display_name,
                "display_name_normalized": display_name,
                "fields": None,
                "status_text": "",
                "status_emoji": "",
                "status_emoji_display_info": [],
                "status_expiration": 0,
                "avatar_hash": digest[:12],
                "is_custom_image": image,
                "first_name": real.split(" ")[0] if real else "",
                "last_name": " ".join(real.split(" ")[1:]) if real else "",
                **images,
                "team": self.team_id,
            }
            if email is not None:
                profile["email"] = email
            if is_bot:
                profile["bot_id"] = bot_id or self.new_id("B")
                profile["always_active"] = False
            user: dict[str, Any] = {
                "id": uid,
                "team_id": self.team_id,
                "name": name,
                "deleted": deleted,
                "color": "9f69e7",
                "real_name": real,
                "tz": tz,
                "tz_label": "Japan Standard Time" if tz == "Asia/Tokyo" else tz,
                "tz_offset": 32400 if tz == "Asia/Tokyo" else 0,
                "profile": profile,
                "is_admin": is_admin or is_owner,
                "is_owner": is_owner,
                "is_primary_owner": False,
                "is_restricted": is_restricted,
                "is_ultra_restricted": False,
                "is_bot": is_bot,
                "is_app_user": False,
                "updated": int(time.time()),
                "is_email_confirmed": email is not None,
                "who_can_share_contact_card": "EVERYONE",
                "locale": locale,
            }
            self.users[uid] = user
            return copy.deepcopy(user)

    def render_user(
        self, user: dict[str, Any], *, with_email: bool, include_locale: bool
    ) -> dict[str, Any]:
        out = copy.deepcopy(user)
        if not include_locale:
            out.pop("locale", None)
        if not with_email:
            # Slack drops the email unless the token has users:read.email.
            out["profile"].pop("email", None)
        return out

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        wanted = email.strip().lower()
        for user in self.users.values():
            found = user["profile"].get("email")
            if found and found.lower() == wanted:
                return user
        return None

    # ---- channels -----------------------------------------------------------

    def add_channel(
        self,
        name: str,
        *,
        channel_id: str | None = None,
        is_general: bool = False,
        is_private: bool = False,
        is_archived: bool = False,
        is_ext_shared: bool = False,
        members: tuple[str, ...] | list[str] = (),
        created: int | None = None,
        creator: str = "",
        purpose: str = "",
        topic: str = "",
    ) -> dict[str, Any]:
        with self.lock:
            cid = channel_id or self.new_id("G" if is_private else "C")
            now = int(time.time())
            record: dict[str, Any] = {
                "id": cid,
                "name": name,
                "is_private": is_private,
                "is_archived": is_archived,
                "is_ext_shared": is_ext_shared,  # Slack Connect: shared with another organisation
                "is_general": is_general,
                "is_im": False,
                "is_mpim": False,
                "created": created if created is not None else now,
                "creator": creator,
                "purpose": {"value": purpose, "creator": creator if purpose else "", "last_set": 0},
                "topic": {"value": topic, "creator": creator if topic else "", "last_set": 0},
                "members": list(dict.fromkeys(members)),
                "previous_names": [],
            }
            self.channels[cid] = record
            self.messages.setdefault(cid, [])
            return copy.deepcopy(record)

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        name = name.lstrip("#")
        for ch in self.channels.values():
            if not ch["is_im"] and not ch["is_mpim"] and ch["name"] == name:
                return ch
        return None

    def open_im(self, user_a: str, user_b: str) -> tuple[dict[str, Any], bool]:
        """IM between two users; returns (record, already_open)."""
        key = frozenset((user_a, user_b))
        with self.lock:
            existing = self.ims.get(key)
            if existing:
                return self.channels[existing], True
            cid = self.new_id("D")
            record: dict[str, Any] = {
                "id": cid,
                "name": "",
                "is_private": True,
                "is_archived": False,
                "is_general": False,
                "is_im": True,
                "is_mpim": False,
                "created": int(time.time()),
                "creator": user_a,
                "purpose": {"value": "", "creator": "", "last_set": 0},
                "topic": {"value": "", "creator": "", "last_set": 0},
                "members": list(dict.fromkeys((user_a, user_b))),
                "previous_names": [],
            }
            self.channels[cid] = record
            self.messages.setdefault(cid, [])
            self.ims[key] = cid
            return record, False

    def render_channel(
        self, ch: dict[str, Any], viewer: str | None, *, num_members: bool = False
    ) -> dict[str, Any]:
        if ch["is_im"]:
            other = next((m for m in ch["members"] if m != viewer), ch["members"][0])
            return {
                "id": ch["id"],
                "created": ch["created"],
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": self.team_id,
                "updated": ch["created"] * 1000,
                "user": other,
                "is_user_deleted": bool(self.users.get(other, {}).get("deleted")),
                "priority": 0,
            }
        out: dict[str, Any] = {
            "id": ch["id"],
            "name": ch["name"],
            "is_channel": not ch["is_private"] and not ch["is_mpim"],
            "is_group": ch["is_private"] and not ch["is_mpim"],
            "is_im": False,
            "is_mpim": ch["is_mpim"],
            "is_private": ch["is_private"],
            "created": ch["created"],
            "is_archived": ch["is_archived"],
            "is_general": ch["is_general"],
            "unlinked": 0,
            "name_normalized": ch["name"],
            "is_shared": ch.get("is_ext_shared", False),
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "updated": ch["created"] * 1000,
            "parent_conversation": None,
            "creator": ch["creator"],
            "is_ext_shared": ch.get("is_ext_shared", False),
            "shared_team_ids": [self.team_id],
            "pending_connected_team_ids": [],
            "is_member": viewer in ch["members"],
            "topic": dict(ch["topic"]),
            "purpose": dict(ch["purpose"]),
            "previous_names": list(ch["previous_names"]),
        }
        if num_members:
            out["num_members"] = len(ch["members"])
        return out

    # ---- messages -----------------------------------------------------------

    def find_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        for msg in self.messages.get(channel_id, []):
            if msg["ts"] == ts:
                return msg
        return None

    # ---- views --------------------------------------------------------------

    @staticmethod
    def new_view_hash() -> str:
        return f"{int(time.time())}.{secrets.token_hex(4)}"
