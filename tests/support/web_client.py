"""A small cookie-keeping HTTP client for the server-rendered pages, as a browser without
JavaScript uses them: real HTTP, no redirects followed (a test sees the 303), pages parsed
with the standard library."""

from __future__ import annotations

import html
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass(frozen=True)
class Page:
    status: int
    headers: Message
    text: str

    def field(self, name: str) -> str | None:
        """The value of an `<input name=…>` (hidden or text), unescaped."""
        for tag in re.findall(r"<input\b[^>]*>", self.text):
            if re.search(rf'\bname="{re.escape(name)}"', tag):
                value = re.search(r'\bvalue="([^"]*)"', tag)
                return html.unescape(value.group(1)) if value else ""
        return None

    def options(self, select_name: str) -> list[tuple[str, str, bool]]:
        """(value, label, selected) of a `<select name=…>`."""
        block = re.search(
            rf'<select\b[^>]*\bname="{re.escape(select_name)}"[^>]*>(.*?)</select>',
            self.text,
            re.S,
        )
        if block is None:
            return []
        return [
            (html.unescape(value), html.unescape(label).strip(), bool(selected))
            for value, selected, label in re.findall(
                r'<option value="([^"]*)"( selected)?>(.*?)</option>', block.group(1), re.S
            )
        ]

    @property
    def plain(self) -> str:
        """The text without tags, unescaped (for "does the page say …")."""
        return html.unescape(re.sub(r"<[^>]+>", " ", self.text))


class WebClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def _open(self, request: urllib.request.Request) -> Page:
        try:
            with self._opener.open(request, timeout=10) as response:
                return Page(response.status, response.headers, response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            with error:
                body = error.read().decode("utf-8", "replace")
            return Page(error.code, error.headers, body)

    def get(self, path: str, **params: str) -> Page:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self._open(urllib.request.Request(self.base_url + path + query))

    def post(
        self,
        path: str,
        fields: Mapping[str, str] | Iterable[tuple[str, str]],
        headers: Mapping[str, str] | None = None,
    ) -> Page:
        data = urllib.parse.urlencode(list(dict(fields).items())).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
            method="POST",
        )
        return self._open(request)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)
