"""Where Kyoso may POST a reply: Slack's response_url host, or the host of the configured
SLACK_API_URL (a Slack-compatible endpoint such as the test emulator), and nowhere else,
so that a payload can never point Kyoso's requests at a host of the sender's choosing."""

from __future__ import annotations

from urllib.parse import urlsplit

SLACK_HOOKS_ORIGIN = ("https", "hooks.slack.com", 443)
DEFAULT_PORTS = {"https": 443, "http": 80}


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a port that is not a number, brackets that do not close
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return parts.scheme, parts.hostname.lower(), port


def is_allowed_response_url(url: object, *, slack_api_url: str) -> bool:
    if not isinstance(url, str):
        return False
    origin = _origin(url)
    return origin is not None and origin in (SLACK_HOOKS_ORIGIN, _origin(slack_api_url))
