"""manifest.yml is the contract: every declared entry point is served, nothing undeclared is."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App

import handlers
from app import build_deps
from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.manifest import Manifest, load_manifest, parse_manifest
from handlers.access import routes_for
from tests.conftest import DEFAULT_NOW
from tests.support.kyoso_server import make_settings, offline_app
from tests.support.slack_emulator import SlackEmulator
from tests.support.slack_sender import SlackSender

ROOT_MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"

# Events API "message.channels" etc. arrive as event type "message".
_EVENT_TYPE = {"message.channels": "message", "message.groups": "message", "message.im": "message"}


class RecordingApp(App):
    """A Bolt App that remembers what each listener was registered for."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands: set[str] = set()
        self.events: set[str] = set()
        self.shortcuts: set[tuple[str, str]] = set()

    def command(self, command: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.commands.add(str(command))
        return super().command(command, *args, **kwargs)

    def event(self, event: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.events.add(event if isinstance(event, str) else event["type"])
        return super().event(event, *args, **kwargs)

    def shortcut(self, constraints: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        if isinstance(constraints, str):
            raise AssertionError("register shortcuts as global_shortcut or message_shortcut")
        kind = "message" if constraints.get("type") == "message_action" else "global"
        self.shortcuts.add((kind, constraints["callback_id"]))
        return super().shortcut(constraints, *args, **kwargs)

    def global_shortcut(self, callback_id: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.shortcuts.add(("global", str(callback_id)))
        return super().global_shortcut(callback_id, *args, **kwargs)

    def message_shortcut(self, callback_id: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.shortcuts.add(("message", str(callback_id)))
        return super().message_shortcut(callback_id, *args, **kwargs)


def _registered(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory
) -> RecordingApp:
    settings = make_settings(emulator.api_url, database_url)
    deps = build_deps(settings, session_factory=session_factory, clock=FixedClock(DEFAULT_NOW))
    recorder = RecordingApp(client=deps.client, signing_secret="unused")
    handlers.register_all(recorder, deps)
    return recorder


def test_packaged_manifest_is_the_root_manifest() -> None:
    assert load_manifest() == parse_manifest(ROOT_MANIFEST.read_text(encoding="utf-8"))


def test_every_listener_is_declared_and_every_declaration_has_a_listener(
    emulator: SlackEmulator, database_url: str, session_factory: SessionFactory
) -> None:
    manifest: Manifest = load_manifest()
    recorder = _registered(emulator, database_url, session_factory)
    assert recorder.commands == set(manifest.commands)
    assert recorder.shortcuts == set(manifest.shortcuts)
    declared_events = {_EVENT_TYPE.get(e, e) for e in manifest.bot_events}
    assert recorder.events == declared_events


def test_every_declared_entry_point_is_served(slack: SlackSender, emulator: SlackEmulator) -> None:
    manifest = load_manifest()
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    for command in manifest.commands:
        assert slack.command(command, "help", user_id="U0JA", channel_id="C0REVIEW").status == 200
    for kind, callback_id in manifest.shortcuts:
        if kind == "global":
            response = slack.global_shortcut(callback_id, user_id="U0JA")
        else:
            message = {"type": "message", "user": "U0JA", "ts": "1.000001", "text": "x"}
            response = slack.message_shortcut(
                callback_id, message=message, channel_id="C0REVIEW", user_id="U0JA"
            )
        assert response.status == 200, (kind, callback_id)
    for event_type in manifest.bot_events:
        response = slack.event(_minimal_event(_EVENT_TYPE.get(event_type, event_type)))
        assert response.status == 200, event_type


def test_an_undeclared_command_is_not_served(slack: SlackSender, emulator: SlackEmulator) -> None:
    emulator.add_user("U0JA", name="sato", locale="ja-JP")
    assert slack.command("/undeclared", "", user_id="U0JA", channel_id="C0REVIEW").status == 404


def _minimal_event(event_type: str) -> dict[str, Any]:
    user = {"id": "U0EVT", "name": "evt", "profile": {"email": "evt@example.lg.jp"}}
    return {
        "team_join": {"type": "team_join", "user": user},
        "app_home_opened": {"type": "app_home_opened", "user": "U0EVT", "tab": "messages"},
        "channel_created": {
            "type": "channel_created",
            "channel": {
                "id": "C0EVT",
                "name": "デジ_all_evt",
                "created": 1700000000,
                "creator": "U0EVT",
            },
        },
        "channel_rename": {
            "type": "channel_rename",
            "channel": {"id": "C0EVT", "name": "デジ_all_evt2", "created": 1700000000},
        },
        "channel_archive": {"type": "channel_archive", "channel": "C0EVT", "user": "U0EVT"},
        "channel_unarchive": {"type": "channel_unarchive", "channel": "C0EVT", "user": "U0EVT"},
        "reaction_added": {
            "type": "reaction_added",
            "user": "U0EVT",
            "reaction": "thumbsup",
            "item_user": "U0OTHER",
            "item": {"type": "message", "channel": "C0REVIEW", "ts": "1700000000.000100"},
            "event_ts": "1700000001.000200",
        },
        "reaction_removed": {
            "type": "reaction_removed",
            "user": "U0EVT",
            "reaction": "white_check_mark",
            "item_user": "U0OTHER",
            "item": {"type": "message", "channel": "C0REVIEW", "ts": "1700000000.000100"},
            "event_ts": "1700000001.000300",
        },
        "member_joined_channel": {
            "type": "member_joined_channel",
            "user": "U0EVT",
            "channel": "C0REVIEW",
            "channel_type": "C",
            "team": "T0KYOSO",
            "event_ts": "1700000001.000300",
        },
        "user_change": {"type": "user_change", "user": user, "event_ts": "1700000001.000400"},
        "message": {
            "type": "message",
            "channel": "C0REVIEW",
            "user": "U0EVT",
            "text": "こんにちは",
            "ts": "1700000000.000100",
            "channel_type": "channel",
        },
    }.get(event_type) or pytest.fail(f"add a minimal payload for {event_type}")


# ---- ARCHITECTURE.md's map of entry points ------------------------------------------------

ARCHITECTURE = Path(__file__).resolve().parents[1] / "ARCHITECTURE.md"
_MAP_ROW = re.compile(r"^\| `([^`]+)` \| ([a-z ]+) \| `([^`]+)` \|$")


def architecture_rows() -> set[tuple[str, str, str]]:
    """(entry, kind, module file) for every manifest entry and `/kyoso` subcommand, read
    from what the handlers registered."""
    manifest = load_manifest()
    bolt, deps = offline_app()
    routes = routes_for(bolt, deps).declared
    declared_events = {_EVENT_TYPE.get(e, e) for e in manifest.bot_events}
    shortcut_kinds = {f"{kind}_shortcut": kind for kind, _ in manifest.shortcuts}

    def file_of(module: str) -> str:
        path = module.replace(".", "/")
        return f"{path}/__init__.py" if (ROOT_MANIFEST.parent / path).is_dir() else f"{path}.py"

    rows: set[tuple[str, str, str]] = set()
    for route in routes:
        if route.kind == "event" and route.key in declared_events:
            rows.add((str(route.key), "event", file_of(route.module)))
        elif route.kind in shortcut_kinds:
            rows.add((str(route.key), route.kind.replace("_", " "), file_of(route.module)))
        elif route.kind == "command":
            rows.add((str(route.key), "command", file_of(route.module)))
    for sub in deps.commands.all():
        rows.add((f"/kyoso {sub.name}", "subcommand", file_of(sub.run.__module__)))
    return rows


def test_architecture_map_says_where_each_entry_point_is_handled() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    written = {
        (match[1], match[2], match[3])
        for line in text.splitlines()
        if (match := _MAP_ROW.match(line.strip()))
    }
    expected = architecture_rows()
    assert written - expected == set(), "rows in ARCHITECTURE.md that no longer hold"
    assert expected - written == set(), "entry points missing from ARCHITECTURE.md"
