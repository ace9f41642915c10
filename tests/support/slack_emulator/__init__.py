"""Slack Web API emulator over real HTTP, for tests and benchmarks.

    with SlackEmulator(bot_token="xoxb-test") as emu:      # 127.0.0.1:<free port>
        client = WebClient(token="xoxb-test", base_url=emu.api_url)
        emu.add_user(name="alice", email="alice@example.jp")
        emu.add_channel("general", is_general=True, members=[emu.bot_user_id])
        ...
        emu.calls_to("chat.postMessage"); emu.assert_spec_clean()

Modules: state (workspace records), methods (Web API methods), server (HTTP, call log,
fault injection), spec (check against Slack's published OpenAPI spec and its known gaps),
socket_mode (the Socket Mode WebSocket endpoint: emu.socket_send / socket_ack / ...).
"""

from .server import DEFAULT_BOT_SCOPES, RecordedCall, SlackEmulator
from .spec import SPEC_GAP_PARAMS, SPEC_GAPS, load_spec_index, specs_dir
from .state import ApiError

__all__ = [
    "DEFAULT_BOT_SCOPES",
    "SPEC_GAPS",
    "SPEC_GAP_PARAMS",
    "ApiError",
    "RecordedCall",
    "SlackEmulator",
    "load_spec_index",
    "specs_dir",
]
