"""Checks recorded calls against Slack's published Web API OpenAPI spec.

The spec (slack_web_openapi_v2.json, frozen 2020-10) is only a check of method and parameter
names. Its known gaps are listed once, in SPEC_GAPS / SPEC_GAP_PARAMS, each with the reason.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SPEC_FILE = "slack_web_openapi_v2.json"
ENV_VAR = "SLACK_API_SPECS_DIR"

# Methods Slack serves today that the 2020 spec does not describe, with their parameters.
SPEC_GAPS: dict[str, frozenset[str]] = {
    # files upload v2 (files.upload is retired); slack_sdk's files_upload_v2 calls both.
    "files.getUploadURLExternal": frozenset({"filename", "length", "alt_txt", "snippet_type"}),
    "files.completeUploadExternal": frozenset(
        {"files", "channel_id", "channels", "initial_comment", "thread_ts", "blocks"}
    ),
    # Socket Mode (2020-12+), called with the app-level token.
    "apps.connections.open": frozenset(),
}

# Parameters slack_sdk 3.47 legitimately sends that the 2020 spec does not declare.
SPEC_GAP_PARAMS: dict[str, frozenset[str]] = {
    # message metadata (2022), markdown_text (2025), container_id (2024)
    "chat.postMessage": frozenset({"metadata", "markdown_text", "container_id"}),
    "chat.postEphemeral": frozenset({"markdown_text"}),
    # file_ids / reply_broadcast / metadata / markdown_text arrived after 2020
    "chat.update": frozenset({"file_ids", "reply_broadcast", "metadata", "markdown_text"}),
    "conversations.history": frozenset({"include_all_metadata"}),
    "conversations.replies": frozenset({"include_all_metadata"}),
    "conversations.invite": frozenset({"force"}),
    "team.info": frozenset({"domain", "include_slackbot_availability"}),
    # cursor paging replaced page/count on team.accessLogs after 2020
    "team.accessLogs": frozenset({"cursor", "limit"}),
    # interactivity_pointer is the newer alias of trigger_id
    "views.open": frozenset({"interactivity_pointer"}),
    "views.push": frozenset({"interactivity_pointer"}),
    "admin.users.invite": frozenset({"email_password_policy_enabled"}),
}

# Bolt builds a WebClient per request with team_id=context.team_id, and slack_sdk sends default
# params with every call, so team_id reaches every method (Slack accepts it for org-wide apps).
ALWAYS_ALLOWED = frozenset({"token", "team_id"})

_warned = False


def repo_root() -> Path:
    """The folder holding pyproject.toml and tests/, found from this file."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "tests" / "support").is_dir():
            return parent
    return here.parents[3]


def specs_dir() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return repo_root().parent / "shared" / "slack-api-specs"


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict[str, frozenset[str]] | None:
    file = Path(path)
    if not file.is_file():
        return None
    with file.open(encoding="utf-8") as fh:
        spec = json.load(fh)
    index: dict[str, frozenset[str]] = {}
    for route, ops in spec.get("paths", {}).items():
        names: set[str] = {"token"}
        for op in ops.values():
            if isinstance(op, dict):
                names.update(p["name"] for p in op.get("parameters", []) if "name" in p)
        index[route.lstrip("/")] = frozenset(names)
    return index


def load_spec_index() -> dict[str, frozenset[str]] | None:
    """method -> declared parameter names (plus token), cached per process; None if absent."""
    global _warned
    path = specs_dir() / SPEC_FILE
    index = _load(str(path))
    if index is None and not _warned:
        _warned = True
        note = (
            f"Slack API spec check skipped: {path} not found "
            f"(set {ENV_VAR} to the slack-api-specs folder)"
        )
        warnings.warn(note, stacklevel=2)
        print(f"NOTE: {note}", file=sys.stderr)
    return index


def check_call(
    index: Mapping[str, frozenset[str]], method: str, params: Mapping[str, Any]
) -> list[str]:
    """Violations for one call: unknown method or undeclared parameter names."""
    if method in SPEC_GAPS:
        allowed = SPEC_GAPS[method] | ALWAYS_ALLOWED
    elif method in index:
        allowed = index[method] | ALWAYS_ALLOWED | SPEC_GAP_PARAMS.get(method, frozenset())
    else:
        return [f"{method}: method not in Slack's Web API spec"]
    return [
        f"{method}: parameter {name!r} not declared in the spec"
        for name in params
        if name not in allowed
    ]
