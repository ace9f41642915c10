"""CSRF tokens of the registration form: a random nonce in a cookie (HttpOnly, SameSite=Lax,
Path=/apply) and, in a hidden field, the nonce with its issue time and an HMAC-SHA256 over
both. The key is derived from SLACK_SIGNING_SECRET with a purpose string, so every HTTP-mode
instance sharing a database accepts the others' tokens and no new setting is needed."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

CSRF_COOKIE = "kyoso_apply_csrf"
CSRF_FIELD = "csrf_token"

_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class CsrfTokens:
    """Signed double-submit tokens: `<nonce>.<issued unix time>.<hmac>` in the form, the
    nonce in a cookie. Forging one needs the key; replaying one needs the victim's cookie."""

    PURPOSE = b"kyoso/registration-page/csrf/v1"

    def __init__(self, key: bytes, *, max_age: timedelta = timedelta(hours=4)) -> None:
        self._key = key
        self._max_age = max_age

    @classmethod
    def for_secret(cls, secret: str | None) -> CsrfTokens:
        if secret:
            key = hmac.new(secret.encode(), cls.PURPOSE, hashlib.sha256).digest()
        else:
            log.warning("no SLACK_SIGNING_SECRET: registration form tokens use a per-process key")
            key = secrets.token_bytes(32)
        return cls(key)

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(18)

    @staticmethod
    def is_nonce(value: str | None) -> bool:
        return bool(value) and _NONCE.fullmatch(value or "") is not None

    def _mac(self, nonce: str, issued: int) -> str:
        message = f"{nonce}.{issued}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def token(self, nonce: str, issued: datetime) -> str:
        stamp = int(issued.timestamp())
        return f"{nonce}.{stamp}.{self._mac(nonce, stamp)}"

    def valid(self, token: str | None, cookie: str | None, now: datetime) -> bool:
        if not token or not cookie or not self.is_nonce(cookie) or not token.isascii():
            return False  # compare_digest refuses non-ASCII text; int() refuses "²"
        parts = token.split(".")
        if len(parts) != 3 or not parts[1].isascii() or not parts[1].isdigit():
            return False
        nonce, stamp, mac = parts[0], int(parts[1]), parts[2]
        if not hmac.compare_digest(mac, self._mac(nonce, stamp)):
            return False
        if not hmac.compare_digest(nonce.encode(), cookie.encode()):
            return False
        age = now.timestamp() - stamp
        return -300 <= age <= self._max_age.total_seconds()  # a little clock skew is fine
