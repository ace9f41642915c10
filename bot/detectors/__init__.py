"""Detectors for what the platform's rules forbid in a post: personal information, labelled
confidential information, and link-only posts.

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
- マイナンバー (CASE): 12 digits, optionally in groups of four separated by one kind of space or
  hyphen, not glued to other digits, outside URLs, passing the official check digit. A My Number
  word nearby (マイナンバー, 個人番号, my number) raises confidence; a closer label of another
  number (法人番号, 注文番号, 伝票番号, 送り状, 口座, 会議ID…) means it is that number and it is
  not flagged. Without any label, a valid number is still flagged (confidence 0.6) unless it
  reads as a YYYYMMDDhhmm timestamp, is one repeated digit, is glued to an identifier (an AWS
  ARN's "::", "id=") or is followed by a unit (件, 円, bytes). mask() also hides numbers that
  fail the check digit next to a My Number word (a typo is still someone's number).
- 機密性3 / 自治体機密性3A–3C labels (CASE, rule confidentiality_3). Other labels (WARN):
  機密性2, 要機密情報, 取扱制限, 関係者限り, 部外秘/課外秘/社外秘, 庁内限り, 取扱注意 cite
  confidentiality_2 (allowed with one's organisation's consent, so a stated consent clears them);
  【秘】, ㊙, 極秘, 秘密文書 cite confidentiality_3 (秘密文書 are 機密性3 in the government's
  standards) but stay warnings: only an explicit 機密性3 label opens a case. Discussion of the
  scheme (questions, definitions, rule reminders, refusals to share, quoting the label) is not
  flagged; a label in brackets or stamped at the start of a line always is. See
  confidentiality.py for the exact tests.
- Phone numbers (WARN): mobiles (070/080/090, domestic or +81) unless labelled work-issued
  (公用携帯, 業務用携帯…, or "（公用）" right after the number); landlines, 0120/0570 and 050
  only when called private (自宅, 実家, 私用, プライベート). 050 numbers are IP phones that
  organisations use widely (cloud PBX, telework lines), so without a private context they are
  treated like office lines.
- Postal address (WARN): 〒 + code + prefecture or municipality, unless it is an office, an
  agency or a venue (庁舎, 市役所, 内閣府, 〇〇省, 会場, ビル…) and not called one's home.
  A postal code without 〒 is not flagged.
- Date of birth (WARN): a full date (year, month and day, 西暦 or 和暦 incl. S60.4.1) after
  生年月日/誕生日/DOB or before 生まれ/生. Not a year alone (1985年生まれ), a birthday without
  a year, mascots' or municipalities' dates, or eligibility (…生まれの方から対象, a range
  生年月日：1990年1月1日〜1999年12月31日).
- Link-only (WARN, rule ad_or_link_only): at least one http(s) link that is not to Slack, and at
  most 10 letters or digits of the poster's own words besides links, mentions and emoji.
"""

from __future__ import annotations

import logging

from bot.detectors import scanner
from bot.detectors.model import (
    KIND_LABELS,
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
    return _guarded_scan(text, file_name=False)


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
