"""Normalisation and escaping shared by every comparison and every mrkdwn message."""

from __future__ import annotations

import unicodedata


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def normalise_email(value: str) -> str:
    """NFKC folds full-width ＠ and digits; addresses compare case-insensitively here."""
    return nfkc(value).lower()


def escape_mrkdwn(value: str) -> str:
    """Slack's three control characters, so member text cannot mention or link."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
