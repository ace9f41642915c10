"""Link-only posts: a link and (almost) none of the poster's own words.

The platform asks members not to post ads or bare links without an opinion; the bot answers
with a gentle nudge to add one's own view. Own words are the letters and digits left after
removing links (with their labels, which are usually a page title), mentions and emoji codes;
ten or fewer of them (「共有します」「ご参考」) make a post link-only. Links to Slack itself
(a permalink to another message) and mailto/tel links do not count as links here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.detectors.context import BARE_URL, SLACK_LINK, SLACK_TOKEN
from bot.detectors.model import FindingKind, Hit, Rule, Severity

MAX_OWN_CHARACTERS = 10
_EMOJI = re.compile(r":[a-z0-9_+\-']+:")
_OWN = re.compile(r"[^\W_]")
_SLACK_HOST = re.compile(r"^(?:https?://)?(?:[\w-]+\.)*slack\.com(?:[/:?#]|$)", re.IGNORECASE)


def detect(text: str) -> Iterator[Hit]:
    if "http" not in text and "www." not in text:
        return
    links: list[tuple[int, int]] = []
    for match in SLACK_LINK.finditer(text):
        url = match.group("url")
        if url.startswith("http") and not _SLACK_HOST.match(url):
            links.append(match.span())
    rest = SLACK_LINK.sub(_blank, text)  # same length, so offsets stay valid
    for match in BARE_URL.finditer(rest):
        if not _SLACK_HOST.match(match.group()):
            links.append(match.span())
    if not links:
        return
    rest = _EMOJI.sub(" ", SLACK_TOKEN.sub(" ", BARE_URL.sub(" ", rest)))
    own = 0
    for _ in _OWN.finditer(rest):
        own += 1
        if own > MAX_OWN_CHARACTERS:
            return
    start, end = min(links)
    yield Hit(
        FindingKind.LINK_ONLY,
        Rule.AD_OR_LINK_ONLY,
        Severity.WARN,
        start,
        end,
        "リンクのみの投稿",
        0.9 if own == 0 else 0.75,
    )


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())
