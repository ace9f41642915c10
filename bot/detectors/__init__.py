"""Detectors for what the platform's rules forbid in a post: personal information, labelled
confidential information, and link-only or promotional posts.

    scan(text) -> list[Finding]          a message (Slack mrkdwn as delivered by Events API)
    scan_file_name(name) -> list[Finding] an uploaded file's name (no link-only check)
    mask(text) -> str                    the text with every personal value replaced by ＊

All three are pure, fast (well under a millisecond for a typical message, see
bench/detectors.py) and never raise: on an unexpected internal error they log the error type
(never the text) and return no findings / the text fully masked.

Matching happens after NFKC normalisation (full-width digits and ＋（）：, half-width katakana,
circled digits, ㍼/㋿ era signs); spans point into the text as given. A finding's `masked` is a
description or a mask of the value (マイナンバー（12桁）, 090-****-****) and is the only form
of it that may reach logs, alerts or the database.

Policies decided here (each detector module explains its own in more detail):
- Reactions: CASE (a warning and a secretariat case) only for マイナンバー with a My Number word
  or the card's 4-4-4 format next to a person, and for a 機密性3 label; WARN (an ephemeral
  warning) for other personal data and handling labels; NUDGE (a gentle ask for one's own view)
  for link-only and promotional posts, never more.
- マイナンバー: 12 digits, optionally in groups of four separated by one kind of space or
  hyphen, not glued to other digits, outside URLs, passing the official check digit. A closer
  label of another number (法人番号, 注文番号, 予算科目コード, 請求書, 会議ID…) means it is that
  number. Placeholders (all zeros, one repeated digit, 1234 5678 9018) and format examples (記入例,
  入力例, …のように) are nobody's number (examples.py). A valid number with no label at all is a
  WARN (confidence 0.5) unless it reads as a timestamp, an identifier or a quantity. mask() also
  hides numbers that fail the check digit next to a My Number word (a typo is still someone's).
- 住民票コード (WARN): 11 digits passing its check digit, labelled as a resident code.
- 機密性3 / 自治体機密性3A–3C labels (CASE, rule confidentiality_3). Other labels (WARN):
  機密性2, 要機密情報, 取扱制限, 関係者限り, 部外秘/課外秘/社外秘, 庁内限り, 取扱注意 cite
  confidentiality_2 (allowed with one's organisation's consent, so a stated consent clears them);
  【秘】, ㊙, 極秘, 秘密文書 cite confidentiality_3 but stay warnings. Talk about the scheme
  (questions, definitions, rule reminders, refusals to share, quoting the label) is not flagged;
  a label in brackets or stamped at the start of a line always is (confidentiality.py).
- Phone numbers (WARN): mobiles (070/080/090, domestic or +81) unless labelled work-issued
  (公用携帯, 業務用携帯…, or "（公用）" right after the number); landlines, 0120/0570 and 050
  only when called private (自宅, 実家, 私用, プライベート). Blanks (090-0000-0000) never, and
  counting examples (090-1234-5678) not when announced as an example.
- Home addresses (WARN, kind postal_address): with 〒, or block numbers after a municipality of
  the master data (or a 〇〇市/区/町/村) where someone lives (a name, 自宅, 住所, a flat and
  room); an office's or a venue's address is allowed (address.py).
- Date of birth (WARN): a full date (year, month and day, 西暦 or 和暦 incl. S60.4.1) after
  生年月日/誕生日/DOB or before 生まれ/生. Not a year alone (1985年生まれ), a birthday without
  a year, mascots' or municipalities' dates, or eligibility (…生まれの方から対象, a range
  生年月日：1990年1月1日〜1999年12月31日).
- Link-only (NUDGE, rule ad_or_link_only): at least one http(s) link that is not to Slack, and
  at most 10 letters or digits of the poster's own words besides links, mentions and emoji.
- Advert (NUDGE, rule ad_or_link_only): a link with mostly promotional words, one of them a hard
  sell (先着, 今すぐ, 弊社, 資料請求…), and hardly any of the poster's own view (advert.py).
"""

from __future__ import annotations

import functools
import logging

from bot.detectors import scanner
from bot.detectors.model import (
    KIND_LABELS,
    NUDGE_KINDS,
    PERSONAL_KINDS,
    Finding,
    FindingKind,
    Rule,
    Severity,
)
from bot.detectors.my_number import check_digit as my_number_check_digit
from bot.detectors.my_number import is_valid as is_valid_my_number

__all__ = [
    "KIND_LABELS",
    "NUDGE_KINDS",
    "PERSONAL_KINDS",
    "Finding",
    "FindingKind",
    "Rule",
    "Severity",
    "is_valid_my_number",
    "mask",
    "my_number_check_digit",
    "scan",
    "scan_file_name",
]

logger = logging.getLogger(__name__)


def scan(text: str) -> list[Finding]:
    """Findings in a message's text, ordered by position."""
    if not isinstance(text, str):
        return []
    return list(_scan_recent(text))


# A message is scanned at intake (does it need the inbox?) and again by the moderation listener
# moments later: the second scan of the same text is a lookup. Findings are immutable.
@functools.lru_cache(maxsize=2048)
def _scan_recent(text: str) -> tuple[Finding, ...]:
    return tuple(_guarded_scan(text, file_name=False))


def scan_file_name(name: str) -> list[Finding]:
    """Findings in a file name: labels count between _ - . delimiters; no link-only check."""
    return _guarded_scan(name, file_name=True)


def mask(text: str) -> str:
    """The text with every detected personal value replaced by ＊, for excerpts."""
    if not isinstance(text, str):
        return ""
    try:
        return scanner.mask(text)
    except Exception as error:  # never let a detector bug break message handling
        logger.error("detectors.mask failed: %s", type(error).__name__)
        return scanner.MASK_CHARACTER * len(text)


def _guarded_scan(text: str, *, file_name: bool) -> list[Finding]:
    if not isinstance(text, str) or not text:
        return []
    try:
        return scanner.run(text, file_name=file_name)
    except Exception as error:  # never let a detector bug break message handling
        logger.error("detectors.scan failed: %s", type(error).__name__)
        return []
