"""Web API method implementations of the emulator.

Each handler takes a `Call` (workspace, token, merged params) and returns the response body
without `ok`, or raises `ApiError`. The registry `METHODS` maps a method name to its handler,
the scopes that allow it (any of them) and the token kinds it accepts.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .state import ApiError, TokenInfo, Workspace

# Slack's documented limits, used to reject what Slack would reject.
CHANNEL_NAME_MAX = 80
PURPOSE_MAX = 250
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
VIEW_TITLE_MAX = 24
PRIVATE_METADATA_MAX = 3000
TEXT_MAX = 40000


@dataclass
class Call:
    ws: Workspace
    token: TokenInfo | None
    params: dict[str, Any]
    base_url: str  # "http://127.0.0.1:PORT", for URLs the emulator serves itself

    @property
    def user_id(self) -> str:
        return (self.token.user_id if self.token else None) or ""

    def has_scope(self, scope: str) -> bool:
        return self.token is not None and scope in self.token.scopes


# ---- parameter helpers ----------------------------------------------------------------------


def p_str(call: Call, name: str) -> str:
    value = call.params.get(name)
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def p_bool(call: Call, name: str) -> bool:
    value = call.params.get(name)
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true") if value is not None else False


def p_int(call: Call, name: str, default: int) -> int:
    value = call.params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(str(value))
    except ValueError as exc:
        raise ApiError(
            "invalid_arguments",
            response_metadata={"messages": [f"[ERROR] invalid integer for {name}"]},
        ) from exc


def p_json(call: Call, name: str) -> Any:
    """Values Slack takes as JSON (blocks, view, profile...) arrive as strings or as JSON."""
    value = call.params.get(name)
    if isinstance(value, str):
        if value.strip() == "":
            return None
        try:
            return json.loads(value)
        except ValueError as exc:
            error = "invalid_blocks_format" if name == "blocks" else "invalid_arguments"
            raise ApiError(error) from exc
    return value


def p_list(call: Call, name: str) -> list[str]:
    value = call.params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value)
    if text.startswith("["):
        return [str(v) for v in json.loads(text)]
    return [part.strip() for part in text.split(",") if part.strip()]


def require(call: Call, *names: str) -> None:
    missing = [n for n in names if call.params.get(n) in (None, "")]
    if missing:
        raise ApiError(
            "invalid_arguments",
            response_metadata={
                "messages": [f"[ERROR] missing required field: {n}" for n in missing]
            },
        )


def encode_cursor(kind: str, offset: int) -> str:
    return base64.b64encode(f"{kind}:{offset}".encode()).decode()


def paginate(
    call: Call, items: list[Any], kind: str, *, default_limit: int, max_limit: int
) -> tuple[list[Any], str]:
    """Slack's cursor paging: opaque base64 cursors, empty next_cursor on the last page."""
    offset = 0
    cursor = p_str(call, "cursor")
    if cursor:
        try:
            prefix, _, raw = base64.b64decode(cursor, validate=True).decode().partition(":")
            offset = int(raw)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise ApiError("invalid_cursor") from exc
        if prefix != kind or offset < 0:
            raise ApiError("invalid_cursor")
    limit = p_int(call, "limit", 0)
    limit = default_limit if limit <= 0 else min(limit, max_limit)
    page = items[offset : offset + limit]
    end = offset + limit
    return page, encode_cursor(kind, end) if end < len(items) else ""


# ---- lookups ----------------------------------------------------------------------------------


def get_user(call: Call, user_id: str, error: str = "user_not_found") -> dict[str, Any]:
    user = call.ws.users.get(user_id)
    if user is None:
        raise ApiError(error)
    return user


def get_channel(call: Call, channel: str, *, by_name: bool = False) -> dict[str, Any]:
    """A conversation by id (by name only where Slack allows it), visible to the caller."""
    ws = call.ws
    ch = ws.channels.get(channel)
    if ch is None and by_name:
        ch = ws.channel_by_name(channel)
    if ch is None:
        raise ApiError("channel_not_found")
    private_dm = ch["is_im"] or ch["is_mpim"]
    if private_dm and call.user_id not in ch["members"] and not _is_admin_user(call):
        raise ApiError("channel_not_found")
    return ch


def _is_admin_user(call: Call) -> bool:
    if call.token is None or call.token.kind != "user":
        return False
    user = call.ws.users.get(call.user_id)
    return bool(user and (user["is_admin"] or user["is_owner"]))


def _check_postable(call: Call, ch: dict[str, Any]) -> None:
    if ch["is_archived"]:
        raise ApiError("is_archived")
    if ch["is_im"] or ch["is_mpim"]:
        return
    if call.user_id in ch["members"]:
        return
    if not ch["is_private"] and call.has_scope("chat:write.public"):
        return
    raise ApiError("not_in_channel")


def resolve_post_target(call: Call, channel: str) -> dict[str, Any]:
    """chat.postMessage's channel: C/G id, D id, #name, or a user id (posts to the IM)."""
    ws = call.ws
    if not channel:
        raise ApiError("channel_not_found")
    if channel[0] in "UW" and channel in ws.users:
        target = ws.users[channel]
        if target["deleted"]:
            raise ApiError("channel_not_found")
        im, _ = ws.open_im(call.user_id, channel)
        return im
    return get_channel(call, channel, by_name=True)


def _message_content(call: Call, *, required: bool = True) -> dict[str, Any]:
    text = call.params.get("text")
    blocks = p_json(call, "blocks")
    attachments = p_json(call, "attachments")
    markdown_text = call.params.get("markdown_text")
    if required and not text and not blocks and not attachments and not markdown_text:
        raise ApiError("no_text")
    if blocks is not None and not isinstance(blocks, list):
        raise ApiError("invalid_blocks_format")
    if blocks and len(blocks) > MESSAGE_BLOCKS_MAX:
        raise ApiError(
            "invalid_blocks",
            response_metadata={
                "messages": ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
            },
        )
    if text and len(str(text)) > TEXT_MAX:
        raise ApiError("msg_too_long")
    out: dict[str, Any] = {}
    if text is not None:
        out["text"] = str(text)
    elif markdown_text is not None:
        out["text"] = str(markdown_text)
    if blocks is not None:
        out["blocks"] = blocks
    if attachments is not None:
        out["attachments"] = attachments
    metadata = p_json(call, "metadata")
    if metadata is not None:
        out["metadata"] = metadata
    return out


def _author_fields(call: Call) -> dict[str, Any]:
    assert call.token is not None
    fields: dict[str, Any] = {"user": call.user_id, "team": call.ws.team_id}
    if call.token.kind == "bot":
        fields["bot_id"] = call.token.bot_id
        fields["app_id"] = call.ws.app_id
        fields["bot_profile"] = {
            "id": call.token.bot_id,
            "app_id": call.ws.app_id,
            "name": call.ws.users.get(call.user_id, {}).get("name", "bot"),
            "deleted": False,
            "team_id": call.ws.team_id,
        }
    return fields


def _public_message(msg: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(msg)


# ---- api / auth -------------------------------------------------------------------------------


def api_test(call: Call) -> dict[str, Any]:
    args = {k: v for k, v in call.params.items() if k != "token"}
    if args.get("error"):
        raise ApiError(str(args["error"]), args=args)
    return {"args": args} if args else {}


def auth_test(call: Call) -> dict[str, Any]:
    assert call.token is not None
    ws = call.ws
    user = ws.users.get(call.user_id, {})
    out: dict[str, Any] = {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_name,
        "user": user.get("name", ""),
        "team_id": ws.team_id,
        "user_id": call.user_id,
    }
    if call.token.kind == "bot":
        out["bot_id"] = call.token.bot_id
    out["is_enterprise_install"] = False
    return out


def apps_connections_open(call: Call) -> dict[str, Any]:
    # Served by socket_mode.SocketModeHub; a ticket is good for one connection.
    ticket = uuid.uuid4().hex
    with call.ws.lock:
        call.ws.socket_tickets.add(ticket)
    return {"url": f"ws{call.base_url.removeprefix('http')}/socket-mode/{ticket}"}


# ---- chat -------------------------------------------------------------------------------------


def chat_post_message(call: Call) -> dict[str, Any]:
    ch = resolve_post_target(call, p_str(call, "channel"))
    _check_postable(call, ch)
    content = _message_content(call)
    ts = call.ws.next_ts()
    msg: dict[str, Any] = {"type": "message", **_author_fields(call), "ts": ts, **content}
    thread_ts = p_str(call, "thread_ts")
    if thread_ts:
        msg["thread_ts"] = thread_ts
        parent = call.ws.find_message(ch["id"], thread_ts)
        if parent is not None:
            parent.setdefault("thread_ts", thread_ts)
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            users = parent.setdefault("reply_users", [])
            if call.user_id not in users:
                users.append(call.user_id)
            parent["latest_reply"] = ts
        if p_bool(call, "reply_broadcast"):
            msg["subtype"] = "thread_broadcast"
    for key in ("username", "icon_emoji", "icon_url"):
        if call.params.get(key):
            msg[key] = call.params[key]
    call.ws.messages.setdefault(ch["id"], []).append(msg)
    return {"channel": ch["id"], "ts": ts, "message": _public_message(msg)}


def chat_post_ephemeral(call: Call) -> dict[str, Any]:
    require(call, "channel", "user")
    ch = resolve_post_target(call, p_str(call, "channel"))
    if ch["is_archived"]:
        raise ApiError("is_archived")
    user_id = p_str(call, "user")
    if user_id not in ch["members"]:
        raise ApiError("user_not_in_channel")
    content = _message_content(call)
    ts = call.ws.next_ts()
    call.ws.ephemeral.append(
        {"channel": ch["id"], "user": user_id, "ts": ts, "author": call.user_id, **content}
    )
    return {"message_ts": ts}


def _message_for_edit(call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
    require(call, "channel", "ts")
    ch = get_channel(call, p_str(call, "channel"))
    msg = call.ws.find_message(ch["id"], p_str(call, "ts"))
    if msg is None:
        raise ApiError("message_not_found")
    return ch, msg


def chat_update(call: Call) -> dict[str, Any]:
    ch, msg = _message_for_edit(call)
    if msg.get("user") != call.user_id:
        raise ApiError("cant_update_message")
    if ch["is_archived"]:
        raise ApiError("is_archived")
    content = _message_content(call, required=False)
    if not content:
        raise ApiError("no_text")
    msg.update(content)
    msg["edited"] = {"user": call.user_id, "ts": call.ws.next_ts()}
    return {
        "channel": ch["id"],
        "ts": msg["ts"],
        "text": msg.get("text", ""),
        "message": _public_message(msg),
    }


def chat_delete(call: Call) -> dict[str, Any]:
    ch, msg = _message_for_edit(call)
    # A bot deletes only its own messages; an Owner/Admin user token deletes anything.
    if msg.get("user") != call.user_id and not _is_admin_user(call):
        raise ApiError("cant_delete_message")
    call.ws.messages[ch["id"]].remove(msg)
    call.ws.deleted_messages.append({"channel": ch["id"], "by": call.user_id, **msg})
    return {"channel": ch["id"], "ts": msg["ts"]}


def chat_get_permalink(call: Call) -> dict[str, Any]:
    require(call, "channel", "message_ts")
    ch = get_channel(call, p_str(call, "channel"))
    ts = p_str(call, "message_ts")
    if call.ws.find_message(ch["id"], ts) is None:
        raise ApiError("message_not_found")
    return {
        "channel": ch["id"],
        "permalink": f"https://{call.ws.team_domain}.slack.com/archives/{ch['id']}/p"
        + ts.replace(".", ""),
    }


# ---- conversations ----------------------------------------------------------------------------


def validate_channel_name(name: str) -> None:
    """Slack's rules: lowercase, digits, - and _, non-ASCII letters; no spaces or periods."""
    if not name:
        raise ApiError("invalid_name_required")
    if len(name) > CHANNEL_NAME_MAX:
        raise ApiError("invalid_name_maxlength")
    for char in name:
        if char.isascii():
            if not (char.islower() or char.isdigit() or char in "-_"):
                raise ApiError("invalid_name_specials")
        elif unicodedata.category(char)[0] not in "LMN" or char != char.lower():
            raise ApiError("invalid_name_specials")
    if all(char in "-_" for char in name):
        raise ApiError("invalid_name_punctuation")


def conversations_create(call: Call) -> dict[str, Any]:
    name = p_str(call, "name")
    validate_channel_name(name)
    if call.ws.channel_by_name(name) is not None:
        raise ApiError("name_taken")
    ch = call.ws.add_channel(
        name,
        is_private=p_bool(call, "is_private"),
        members=[call.user_id],
        creator=call.user_id,
    )
    return {"channel": call.ws.render_channel(call.ws.channels[ch["id"]], call.user_id)}


def conversations_open(call: Call) -> dict[str, Any]:
    channel = p_str(call, "channel")
    if channel:
        ch = get_channel(call, channel)
        return {"channel": call.ws.render_channel(ch, call.user_id), "already_open": True}
    users = p_list(call, "users")
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 8:
        raise ApiError("too_many_users")
    for uid in users:
        user = get_user(call, uid)
        if user["deleted"]:
            raise ApiError("user_disabled")
    if len(users) == 1:
        ch, already = call.ws.open_im(call.user_id, users[0])
    else:
        members = [call.user_id, *users]
        key = frozenset(members)
        existing = call.ws.ims.get(key)
        already = existing is not None
        if existing:
            ch = call.ws.channels[existing]
        else:
            name = "mpdm-" + "--".join(call.ws.users[m]["name"] for m in members) + "-1"
            ch = call.ws.channels[
                call.ws.add_channel(
                    name,
                    channel_id=call.ws.new_id("G"),
                    is_private=True,
                    members=members,
                    creator=call.user_id,
                )["id"]
            ]
            ch["is_mpim"] = True
            call.ws.ims[key] = ch["id"]
    out: dict[str, Any] = {"channel": {"id": ch["id"]}}
    if p_bool(call, "return_im"):
        out["channel"] = call.ws.render_channel(ch, call.user_id)
    if already:
        out["no_op"] = True
        out["already_open"] = True
    return out


def conversations_info(call: Call) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    if ch["is_private"] and call.user_id not in ch["members"] and not _is_admin_user(call):
        raise ApiError("channel_not_found")
    rendered = call.ws.render_channel(
        ch, call.user_id, num_members=p_bool(call, "include_num_members")
    )
    return {"channel": rendered}


def conversations_list(call: Call) -> dict[str, Any]:
    types = set(p_list(call, "types") or ["public_channel"])
    exclude_archived = p_bool(call, "exclude_archived")
    chosen = []
    for ch in call.ws.channels.values():
        if ch["is_im"]:
            kind = "im"
        elif ch["is_mpim"]:
            kind = "mpim"
        else:
            kind = "private_channel" if ch["is_private"] else "public_channel"
        if kind not in types:
            continue
        if kind != "public_channel" and call.user_id not in ch["members"]:
            continue  # private conversations are visible to members only
        if exclude_archived and ch["is_archived"]:
            continue
        chosen.append(ch)
    page, next_cursor = paginate(call, chosen, "channel", default_limit=100, max_limit=1000)
    return {
        "channels": [call.ws.render_channel(ch, call.user_id, num_members=True) for ch in page],
        "response_metadata": {"next_cursor": next_cursor},
    }


def conversations_members(call: Call) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    if ch["is_private"] and call.user_id not in ch["members"]:
        raise ApiError("channel_not_found")
    page, next_cursor = paginate(call, ch["members"], "member", default_limit=100, max_limit=1000)
    return {"members": list(page), "response_metadata": {"next_cursor": next_cursor}}


def users_conversations(call: Call) -> dict[str, Any]:
    """The channels a user is in (public ones, and private ones the caller is in too)."""
    user = p_str(call, "user") or call.user_id
    types = set(p_list(call, "types") or ["public_channel"])
    chosen = [
        ch
        for ch in call.ws.channels.values()
        if not ch["is_im"]
        and not ch["is_mpim"]
        and ("private_channel" if ch["is_private"] else "public_channel") in types
        and user in ch["members"]
        and (not ch["is_private"] or call.user_id in ch["members"])
    ]
    page, next_cursor = paginate(call, chosen, "channel", default_limit=100, max_limit=1000)
    return {
        "channels": [call.ws.render_channel(ch, call.user_id) for ch in page],
        "response_metadata": {"next_cursor": next_cursor},
    }


def _ts_param(call: Call, name: str, error: str) -> float | None:
    raw = p_str(call, name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise ApiError(error) from exc


def conversations_history(call: Call) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    if call.user_id not in ch["members"] and not _is_admin_user(call):
        raise ApiError("channel_not_found" if ch["is_private"] else "not_in_channel")
    latest = _ts_param(call, "latest", "invalid_ts_latest")
    oldest = _ts_param(call, "oldest", "invalid_ts_oldest")
    inclusive = p_bool(call, "inclusive")
    picked = []
    # Newest first; replies appear only as their parent (or when broadcast), as in Slack.
    for msg in reversed(call.ws.messages.get(ch["id"], [])):
        thread_ts = msg.get("thread_ts")
        if thread_ts and thread_ts != msg["ts"] and msg.get("subtype") != "thread_broadcast":
            continue
        ts = float(msg["ts"])
        if latest is not None and (ts > latest or (ts == latest and not inclusive)):
            continue
        if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
            continue
        picked.append(msg)
    page, next_cursor = paginate(call, picked, "history", default_limit=100, max_limit=999)
    return {
        "messages": [_public_message(m) for m in page],
        "has_more": bool(next_cursor),
        "pin_count": len(call.ws.pins.get(ch["id"], [])),
        "response_metadata": {"next_cursor": next_cursor},
    }


def conversations_invite(call: Call) -> dict[str, Any]:
    require(call, "channel", "users")
    ch = get_channel(call, p_str(call, "channel"))
    if ch["is_im"] or ch["is_mpim"]:
        raise ApiError("method_not_supported_for_channel_type")
    if ch["is_archived"]:
        raise ApiError("is_archived")
    if call.user_id not in ch["members"]:
        raise ApiError("not_in_channel")
    users = p_list(call, "users")
    if len(users) > 1000:
        raise ApiError("too_many_users")
    errors: list[dict[str, Any]] = []
    for uid in users:
        user = call.ws.users.get(uid)
        if user is None or user["deleted"]:
            error = "user_not_found"
        elif uid == call.user_id:
            error = "cant_invite_self"
        elif uid in ch["members"]:
            error = "already_in_channel"
        else:
            continue
        errors.append({"user": uid, "ok": False, "error": error})
    if errors:
        raise ApiError(str(errors[0]["error"]), errors=errors)
    ch["members"].extend(users)
    return {"channel": call.ws.render_channel(ch, call.user_id)}


def conversations_join(call: Call) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    if ch["is_private"] or ch["is_im"] or ch["is_mpim"]:
        raise ApiError("method_not_supported_for_channel_type")
    if ch["is_archived"]:
        raise ApiError("is_archived")
    out: dict[str, Any] = {}
    if call.user_id in ch["members"]:
        out["warning"] = "already_in_channel"
        out["response_metadata"] = {"warnings": ["already_in_channel"]}
    else:
        ch["members"].append(call.user_id)
    out["channel"] = call.ws.render_channel(ch, call.user_id)
    return out


def _set_channel_text(call: Call, field_name: str) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    if ch["is_archived"]:
        raise ApiError("is_archived")
    if call.user_id not in ch["members"]:
        raise ApiError("not_in_channel")
    value = p_str(call, field_name)
    if len(value) > PURPOSE_MAX:
        raise ApiError("too_long")
    ch[field_name] = {"value": value, "creator": call.user_id, "last_set": int(time.time())}
    return {"channel": call.ws.render_channel(ch, call.user_id), field_name: value}


def conversations_set_purpose(call: Call) -> dict[str, Any]:
    return _set_channel_text(call, "purpose")


def conversations_set_topic(call: Call) -> dict[str, Any]:
    return _set_channel_text(call, "topic")


def conversations_archive(call: Call) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    if ch["is_im"] or ch["is_mpim"]:
        raise ApiError("method_not_supported_for_channel_type")
    if ch["is_general"]:
        raise ApiError("cant_archive_general")
    if ch["is_archived"]:
        raise ApiError("already_archived")
    ch["is_archived"] = True
    return {}


def conversations_unarchive(call: Call) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    if ch["is_im"] or ch["is_mpim"]:
        raise ApiError("method_not_supported_for_channel_type")
    if not ch["is_archived"]:
        raise ApiError("not_archived")
    ch["is_archived"] = False
    return {}


def conversations_replies(call: Call) -> dict[str, Any]:
    require(call, "channel", "ts")
    ch = get_channel(call, p_str(call, "channel"))
    if call.user_id not in ch["members"] and not _is_admin_user(call):
        raise ApiError("channel_not_found" if ch["is_private"] else "not_in_channel")
    ts = p_str(call, "ts")
    parent = call.ws.find_message(ch["id"], ts)
    if parent is None:
        raise ApiError("thread_not_found")
    thread = [m for m in call.ws.messages[ch["id"]] if m["ts"] == ts or m.get("thread_ts") == ts]
    page, next_cursor = paginate(call, thread, "replies", default_limit=1000, max_limit=1000)
    return {
        "messages": [_public_message(m) for m in page],
        "has_more": bool(next_cursor),
        "response_metadata": {"next_cursor": next_cursor},
    }


def conversations_kick(call: Call) -> dict[str, Any]:
    require(call, "channel", "user")
    ch = get_channel(call, p_str(call, "channel"))
    user_id = p_str(call, "user")
    get_user(call, user_id)
    if ch["is_im"] or ch["is_mpim"]:
        raise ApiError("method_not_supported_for_channel_type")
    if user_id == call.user_id:
        raise ApiError("cant_kick_self")
    if ch["is_general"]:
        raise ApiError("cant_kick_from_general")
    if user_id not in ch["members"]:
        raise ApiError("not_in_channel")
    ch["members"].remove(user_id)
    return {}


def conversations_leave(call: Call) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    if ch["is_im"]:
        raise ApiError("method_not_supported_for_channel_type")
    if ch["is_archived"]:
        raise ApiError("is_archived")
    if ch["is_general"]:
        raise ApiError("cant_leave_general")
    if call.user_id not in ch["members"]:
        return {"not_in_channel": True}
    ch["members"].remove(call.user_id)
    return {}


def conversations_rename(call: Call) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    if ch["is_im"] or ch["is_mpim"]:
        raise ApiError("method_not_supported_for_channel_type")
    if ch["is_archived"]:
        raise ApiError("is_archived")
    if call.user_id not in ch["members"]:
        raise ApiError("not_in_channel")
    name = p_str(call, "name")
    validate_channel_name(name)
    other = call.ws.channel_by_name(name)
    if other is not None and other is not ch:
        raise ApiError("name_taken")
    if name != ch["name"]:
        ch["previous_names"].append(ch["name"])
        ch["name"] = name
    return {"channel": call.ws.render_channel(ch, call.user_id)}


# ---- users / team / dnd -----------------------------------------------------------------------


def _render_user(call: Call, user: dict[str, Any]) -> dict[str, Any]:
    return call.ws.render_user(
        user,
        with_email=call.has_scope("users:read.email"),
        include_locale=p_bool(call, "include_locale"),
    )


def users_info(call: Call) -> dict[str, Any]:
    require(call, "user")
    return {"user": _render_user(call, get_user(call, p_str(call, "user")))}


def users_list(call: Call) -> dict[str, Any]:
    users = list(call.ws.users.values())
    # Slack caps pages at 200 members whatever limit asks for.
    page, next_cursor = paginate(call, users, "user", default_limit=200, max_limit=200)
    return {
        "members": [_render_user(call, u) for u in page],
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": next_cursor},
    }


def users_lookup_by_email(call: Call) -> dict[str, Any]:
    require(call, "email")
    user = call.ws.user_by_email(p_str(call, "email"))
    if user is None:
        raise ApiError("users_not_found")
    return {"user": _render_user(call, user)}


def users_profile_get(call: Call) -> dict[str, Any]:
    user = get_user(call, p_str(call, "user") or call.user_id)
    return {"profile": _render_user(call, user)["profile"]}


def users_profile_set(call: Call) -> dict[str, Any]:
    target_id = p_str(call, "user") or call.user_id
    target = get_user(call, target_id)
    if target_id != call.user_id:
        if not _is_admin_user(call):
            raise ApiError("not_admin")
        caller = call.ws.users[call.user_id]
        if target["is_owner"] and not caller["is_owner"]:
            raise ApiError("cannot_update_admin_user")
    profile = p_json(call, "profile")
    if profile is None and call.params.get("name"):
        profile = {p_str(call, "name"): p_str(call, "value")}
    if not isinstance(profile, dict):
        raise ApiError("invalid_profile")
    for key, value in profile.items():
        if key == "email" and value and call.ws.user_by_email(str(value)) not in (None, target):
            raise ApiError("profile_set_failed")
        target["profile"][key] = value
        if key == "real_name":
            target["real_name"] = value
            target["profile"]["real_name_normalized"] = value
        if key == "display_name":
            target["profile"]["display_name_normalized"] = value
    target["updated"] = int(time.time())
    return {"profile": copy.deepcopy(target["profile"])}


def dnd_info(call: Call) -> dict[str, Any]:
    user_id = p_str(call, "user") or call.user_id
    get_user(call, user_id)
    state = call.ws.dnd.get(user_id, {})
    return {
        "dnd_enabled": state.get("dnd_enabled", False),
        "next_dnd_start_ts": state.get("next_dnd_start_ts", 1),
        "next_dnd_end_ts": state.get("next_dnd_end_ts", 1),
        "snooze_enabled": state.get("snooze_enabled", False),
        **({"snooze_endtime": state["snooze_endtime"]} if "snooze_endtime" in state else {}),
    }


def team_info(call: Call) -> dict[str, Any]:
    team = p_str(call, "team")
    if team and team != call.ws.team_id:
        raise ApiError("team_not_found")
    return {"team": call.ws.team_record()}


def team_access_logs(call: Call) -> dict[str, Any]:
    assert call.token is not None
    if not call.token.paid:
        raise ApiError("paid_only")
    logins = sorted(call.ws.access_logs.values(), key=lambda e: e["date_last"], reverse=True)
    before = p_int(call, "before", 0)
    if before:
        logins = [e for e in logins if e["date_last"] <= before]
    logins = [dict(e) for e in logins]
    if call.params.get("cursor") or call.params.get("limit"):
        page, next_cursor = paginate(call, logins, "logins", default_limit=100, max_limit=1000)
        return {"logins": page, "response_metadata": {"next_cursor": next_cursor}}
    count = max(1, min(p_int(call, "count", 100), 1000))
    page_no = max(1, p_int(call, "page", 1))
    if page_no > 100:
        raise ApiError("over_pagination_limit")
    pages = max(1, -(-len(logins) // count))
    return {
        "logins": logins[(page_no - 1) * count : page_no * count],
        "paging": {"count": count, "total": len(logins), "page": page_no, "pages": pages},
    }


# ---- views ------------------------------------------------------------------------------------


def _view_param(call: Call, *, expected_type: str | None) -> dict[str, Any]:
    view = p_json(call, "view")
    if not isinstance(view, dict):
        raise ApiError(
            "invalid_arguments",
            response_metadata={"messages": ["[ERROR] missing required field: view"]},
        )
    messages = []
    vtype = view.get("type")
    if expected_type and vtype != expected_type:
        messages.append(f"[ERROR] must be '{expected_type}' [json-pointer:/view/type]")
    if vtype == "modal":
        title = (view.get("title") or {}).get("text")
        if not title:
            messages.append("[ERROR] missing required field: title [json-pointer:/view]")
        elif len(title) > VIEW_TITLE_MAX:
            messages.append(
                "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
            )
    if len(view.get("blocks") or []) > VIEW_BLOCKS_MAX:
        messages.append("[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]")
    if len(view.get("private_metadata") or "") > PRIVATE_METADATA_MAX:
        messages.append(
            "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
        )
    if messages:
        raise ApiError("invalid_arguments", response_metadata={"messages": messages})
    return view


def _store_view(
    call: Call,
    view: dict[str, Any],
    *,
    view_id: str | None = None,
    previous_view_id: str | None = None,
    root_view_id: str | None = None,
    owner: str,
) -> dict[str, Any]:
    ws = call.ws
    vid = view_id or ws.new_id("V")
    stored = {
        "id": vid,
        "team_id": ws.team_id,
        "type": view.get("type"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": ws.new_view_hash(),
        "title": view.get("title"),
        "clear_on_close": view.get("clear_on_close", False),
        "notify_on_close": view.get("notify_on_close", False),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "previous_view_id": previous_view_id,
        "root_view_id": root_view_id or vid,
        "app_id": ws.app_id,
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": ws.team_id,
        "bot_id": call.token.bot_id if call.token else None,
    }
    ws.views[vid] = stored
    ws.view_owner[vid] = owner
    return stored


def _trigger(call: Call) -> None:
    # Any non-empty trigger_id is accepted; expiry is not emulated.
    if not (p_str(call, "trigger_id") or p_str(call, "interactivity_pointer")):
        raise ApiError(
            "invalid_arguments",
            response_metadata={"messages": ["[ERROR] missing required field: trigger_id"]},
        )


def views_open(call: Call) -> dict[str, Any]:
    _trigger(call)
    view = _view_param(call, expected_type="modal")
    stored = _store_view(call, view, owner=call.user_id)
    call.ws.modal_order.append(stored["id"])
    return {"view": copy.deepcopy(stored)}


def views_push(call: Call) -> dict[str, Any]:
    _trigger(call)
    view = _view_param(call, expected_type="modal")
    previous = call.ws.modal_order[-1] if call.ws.modal_order else None
    root = call.ws.views[previous]["root_view_id"] if previous else None
    stored = _store_view(
        call, view, previous_view_id=previous, root_view_id=root, owner=call.user_id
    )
    call.ws.modal_order.append(stored["id"])
    return {"view": copy.deepcopy(stored)}


def views_update(call: Call) -> dict[str, Any]:
    view = _view_param(call, expected_type=None)
    ws = call.ws
    vid = p_str(call, "view_id")
    if not vid and p_str(call, "external_id"):
        vid = next(
            (v["id"] for v in ws.views.values() if v["external_id"] == p_str(call, "external_id")),
            "",
        )
    if not vid or vid not in ws.views:
        raise ApiError("not_found")
    old = ws.views[vid]
    if p_str(call, "hash") and p_str(call, "hash") != old["hash"]:
        raise ApiError("hash_conflict")
    stored = _store_view(
        call,
        {**view, "type": view.get("type", old["type"])},
        view_id=vid,
        previous_view_id=old["previous_view_id"],
        root_view_id=old["root_view_id"],
        owner=ws.view_owner[vid],
    )
    return {"view": copy.deepcopy(stored)}


def views_publish(call: Call) -> dict[str, Any]:
    require(call, "user_id")
    user_id = p_str(call, "user_id")
    get_user(call, user_id)
    view = _view_param(call, expected_type="home")
    ws = call.ws
    existing = ws.home_views.get(user_id)
    if existing and p_str(call, "hash") and p_str(call, "hash") != ws.views[existing]["hash"]:
        raise ApiError("hash_conflict")
    stored = _store_view(call, view, view_id=existing, owner=user_id)
    ws.home_views[user_id] = stored["id"]
    return {"view": copy.deepcopy(stored)}


# ---- pins / reactions -------------------------------------------------------------------------


def pins_add(call: Call) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    ts = p_str(call, "timestamp")
    if not ts:
        raise ApiError("no_item_specified")
    msg = call.ws.find_message(ch["id"], ts)
    if msg is None:
        raise ApiError("message_not_found")
    pins = call.ws.pins.setdefault(ch["id"], [])
    if ts in pins:
        raise ApiError("already_pinned")
    pins.append(ts)
    msg.setdefault("pinned_to", []).append(ch["id"])
    return {}


def reactions_add(call: Call) -> dict[str, Any]:
    require(call, "channel", "timestamp")
    ch = get_channel(call, p_str(call, "channel"))
    name = p_str(call, "name").strip(":")
    if not name:
        raise ApiError("invalid_name")
    msg = call.ws.find_message(ch["id"], p_str(call, "timestamp"))
    if msg is None:
        raise ApiError("message_not_found")
    reactions = msg.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None:
        entry = {"name": name, "users": [], "count": 0}
        reactions.append(entry)
    if call.user_id in entry["users"]:
        raise ApiError("already_reacted")
    entry["users"].append(call.user_id)
    entry["count"] += 1
    return {}


def pins_remove(call: Call) -> dict[str, Any]:
    require(call, "channel")
    ch = get_channel(call, p_str(call, "channel"))
    ts = p_str(call, "timestamp")
    if not ts:
        raise ApiError("no_item_specified")
    pins = call.ws.pins.get(ch["id"], [])
    if ts not in pins:
        raise ApiError("not_pinned")
    pins.remove(ts)
    msg = call.ws.find_message(ch["id"], ts)
    if msg is not None and ch["id"] in msg.get("pinned_to", []):
        msg["pinned_to"].remove(ch["id"])
    return {}


def reactions_remove(call: Call) -> dict[str, Any]:
    require(call, "channel", "timestamp")
    ch = get_channel(call, p_str(call, "channel"))
    name = p_str(call, "name").strip(":")
    msg = call.ws.find_message(ch["id"], p_str(call, "timestamp"))
    if msg is None:
        raise ApiError("message_not_found")
    reactions = msg.get("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None or call.user_id not in entry["users"]:
        raise ApiError("no_reaction")
    entry["users"].remove(call.user_id)
    entry["count"] -= 1
    if entry["count"] == 0:
        reactions.remove(entry)
    return {}


# ---- admin ------------------------------------------------------------------------------------


def _enterprise_only(call: Call) -> None:
    # admin.* methods need an Enterprise org-wide user token.
    if call.token is None or not call.token.enterprise:
        raise ApiError("not_allowed_token_type")


def admin_users_invite(call: Call) -> dict[str, Any]:
    _enterprise_only(call)
    require(call, "team_id", "email", "channel_ids")
    email = p_str(call, "email")
    if "@" not in email:
        raise ApiError("invalid_email")
    if call.ws.user_by_email(email) is not None:
        raise ApiError("already_in_team")
    call.ws.invites.append(
        {
            "team_id": p_str(call, "team_id"),
            "email": email,
            "channel_ids": p_list(call, "channel_ids"),
            "real_name": p_str(call, "real_name"),
            "custom_message": p_str(call, "custom_message"),
            "is_restricted": p_bool(call, "is_restricted"),
        }
    )
    return {}


def admin_users_remove(call: Call) -> dict[str, Any]:
    _enterprise_only(call)
    require(call, "team_id", "user_id")
    user = get_user(call, p_str(call, "user_id"))
    user["deleted"] = True
    call.ws.removed_users.append(user["id"])
    for ch in call.ws.channels.values():
        if user["id"] in ch["members"] and not ch["is_im"]:
            ch["members"].remove(user["id"])
    return {}


# ---- files (upload v2) ------------------------------------------------------------------------


def files_get_upload_url_external(call: Call) -> dict[str, Any]:
    require(call, "filename", "length")
    file_id = call.ws.new_id("F")
    call.ws.files[file_id] = {
        "id": file_id,
        "name": p_str(call, "filename"),
        "title": p_str(call, "filename"),
        "declared_length": p_int(call, "length", 0),
        "size": None,
        "content": None,
        "channels": [],
        "user": call.user_id,
        "completed": False,
    }
    return {"upload_url": f"{call.base_url}/upload/v1/{file_id}", "file_id": file_id}


def files_complete_upload_external(call: Call) -> dict[str, Any]:
    require(call, "files")
    entries = p_json(call, "files")
    if not isinstance(entries, list) or not entries:
        raise ApiError("invalid_arguments")
    ws = call.ws
    channel_ids = p_list(call, "channels")
    if p_str(call, "channel_id"):
        channel_ids = [p_str(call, "channel_id"), *channel_ids]
    channels = [get_channel(call, cid) for cid in channel_ids]
    for ch in channels:
        _check_postable(call, ch)
    done = []
    for entry in entries:
        record = ws.files.get(str(entry.get("id")))
        if record is None or record["content"] is None:
            raise ApiError("file_not_found")
        record["title"] = entry.get("title") or record["name"]
        record["channels"] = [ch["id"] for ch in channels]
        record["completed"] = True
        done.append(record)
    public = [
        {
            "id": r["id"],
            "name": r["name"],
            "title": r["title"],
            "size": r["size"],
            "user": r["user"],
            "channels": list(r["channels"]),
            "mimetype": "",
            "permalink": f"https://{ws.team_domain}.slack.com/files/{r['user']}/{r['id']}",
        }
        for r in done
    ]
    for ch in channels:
        # Sharing a file posts a message with the files (and the initial comment as text).
        msg = {
            "type": "message",
            **_author_fields(call),
            "ts": ws.next_ts(),
            "text": p_str(call, "initial_comment"),
            "files": copy.deepcopy(public),
            "upload": True,
        }
        if p_str(call, "thread_ts"):
            msg["thread_ts"] = p_str(call, "thread_ts")
        ws.messages.setdefault(ch["id"], []).append(msg)
    return {"files": public}


# ---- registry ---------------------------------------------------------------------------------

CHAT_WRITE = ("chat:write", "chat:write:bot", "chat:write:user")
CONV_READ = ("channels:read", "groups:read", "im:read", "mpim:read")
CONV_HISTORY = ("channels:history", "groups:history", "im:history", "mpim:history")
CONV_MANAGE = ("channels:manage", "groups:write", "im:write", "mpim:write", "channels:write")


@dataclass(frozen=True)
class MethodSpec:
    handler: Callable[[Call], dict[str, Any]]
    # None: no token needed; (): any valid token; else any one of these scopes.
    scopes: tuple[str, ...] | None = ()
    kinds: frozenset[str] = frozenset({"bot", "user"})


METHODS: dict[str, MethodSpec] = {
    "api.test": MethodSpec(api_test, None),
    "auth.test": MethodSpec(auth_test),
    "apps.connections.open": MethodSpec(
        apps_connections_open, ("connections:write",), frozenset({"app"})
    ),
    "chat.postMessage": MethodSpec(chat_post_message, CHAT_WRITE),
    "chat.postEphemeral": MethodSpec(chat_post_ephemeral, CHAT_WRITE),
    "chat.update": MethodSpec(chat_update, CHAT_WRITE),
    "chat.delete": MethodSpec(chat_delete, CHAT_WRITE),
    "chat.getPermalink": MethodSpec(chat_get_permalink),
    "conversations.open": MethodSpec(
        conversations_open, ("im:write", "mpim:write", "channels:manage", "groups:write")
    ),
    "conversations.create": MethodSpec(
        conversations_create, ("channels:manage", "groups:write", "channels:write")
    ),
    "conversations.info": MethodSpec(conversations_info, CONV_READ),
    "conversations.list": MethodSpec(conversations_list, CONV_READ),
    "conversations.members": MethodSpec(conversations_members, CONV_READ),
    "conversations.history": MethodSpec(conversations_history, CONV_HISTORY),
    "conversations.invite": MethodSpec(conversations_invite, CONV_MANAGE),
    "conversations.join": MethodSpec(conversations_join, ("channels:join", "channels:write")),
    "conversations.setPurpose": MethodSpec(conversations_set_purpose, CONV_MANAGE),
    "conversations.setTopic": MethodSpec(conversations_set_topic, CONV_MANAGE),
    "conversations.archive": MethodSpec(conversations_archive, CONV_MANAGE),
    "conversations.unarchive": MethodSpec(conversations_unarchive, CONV_MANAGE),
    "conversations.replies": MethodSpec(conversations_replies, CONV_HISTORY),
    "conversations.kick": MethodSpec(conversations_kick, CONV_MANAGE),
    "conversations.leave": MethodSpec(conversations_leave, CONV_MANAGE),
    "conversations.rename": MethodSpec(conversations_rename, CONV_MANAGE),
    "users.info": MethodSpec(users_info, ("users:read",)),
    "users.conversations": MethodSpec(users_conversations, CONV_READ),
    "users.list": MethodSpec(users_list, ("users:read",)),
    "users.lookupByEmail": MethodSpec(users_lookup_by_email, ("users:read.email",)),
    "users.profile.get": MethodSpec(users_profile_get, ("users.profile:read",)),
    "users.profile.set": MethodSpec(users_profile_set, ("users.profile:write",)),
    "dnd.info": MethodSpec(dnd_info, ("dnd:read",)),
    "team.info": MethodSpec(team_info, ("team:read",)),
    "team.accessLogs": MethodSpec(team_access_logs, ("admin",)),
    "views.open": MethodSpec(views_open),
    "views.update": MethodSpec(views_update),
    "views.push": MethodSpec(views_push),
    "views.publish": MethodSpec(views_publish),
    "pins.add": MethodSpec(pins_add, ("pins:write",)),
    "reactions.add": MethodSpec(reactions_add, ("reactions:write",)),
    "reactions.remove": MethodSpec(reactions_remove, ("reactions:write",)),
    "pins.remove": MethodSpec(pins_remove, ("pins:write",)),
    "admin.users.invite": MethodSpec(admin_users_invite, ("admin.users:write",)),
    "admin.users.remove": MethodSpec(admin_users_remove, ("admin.users:write",)),
    "files.getUploadURLExternal": MethodSpec(files_get_upload_url_external, ("files:write",)),
    "files.completeUploadExternal": MethodSpec(files_complete_upload_external, ("files:write",)),
}
