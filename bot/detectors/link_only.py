"""Link-only posts: a link and (almost) none of the poster's own words.

The platform asks members not to post ads or bare links without an opinion; the bot answers
with a gentle nudge to add one's own view. Own words are the letters left after removing links
(with their labels, which are usually a page title), mentions and emoji codes (digits do not
count: a phone number is not a view); ten or fewer of them (「共有します」「ご参考」) make a post
link-only. Links to Slack itself (a permalink to another message) and mailto/tel links do not
count as links here. `linked_post` is computed once per message and shared with advert.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.detectors.context import BARE_URL, SLACK_LINK, SLACK_TOKEN
from bot.detectors.model import FindingKind, Hit, nudge

MAX_OWN_CHARACTERS = 10
_EMOJI = re.compile(r":[a-z0-9_+\-']+:")
_OWN = re.compile(r"[^\W\d_]")  # letters: a phone number or a date is not one's view
_SLACK_HOST = re.compile(r"^(?:https?://)?(?:[\w-]+\.)*slack\.com(?:[/:?#]|$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LinkedPost:
    """A post with at least one link that is not to Slack."""

    first_link: tuple[int, int]
    own_words: str  # the text without links, mentions and emoji (blanked, same offsets)
    own_count: int  # letters of the poster's own
    labels: str  # the links' labels (<https://…|label>), often a page title or a call to act


def linked_post(text: str) -> LinkedPost | None:
    if "http" not in text and "www." not in text:
        return None
    links: list[tuple[int, int]] = []
    labels: list[str] = []
    for match in SLACK_LINK.finditer(text):
        labels.append(match.group("label") or "")
        url = match.group("url")
        if url.startswith("http") and not _SLACK_HOST.match(url):
            links.append(match.span())
    rest = SLACK_LINK.sub(_blank, text)  # same length, so offsets stay valid
    for match in BARE_URL.finditer(rest):
        if not _SLACK_HOST.match(match.group()):
            links.append(match.span())
    if not links:
        return None
    rest = _EMOJI.sub(_blank, SLACK_TOKEN.sub(_blank, BARE_URL.sub(_blank, rest)))
    own = sum(1 for _ in _OWN.finditer(rest))
    return LinkedPost(min(links), rest, own, " ".join(labels))


def detect(post: LinkedPost | None) -> Iterator[Hit]:
    if post is None or post.own_count > MAX_OWN_CHARACTERS:
        return
    start, end = post.first_link
    yield nudge(
        FindingKind.LINK_ONLY, start, end, "リンクのみの投稿", 0.9 if post.own_count == 0 else 0.75
    )


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())
