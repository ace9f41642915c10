"""The gate in front of the knowledge store: personal values masked (the recorder is told
which), a handling label refuses the entry. Nothing is kept that the detectors would not let a
moderation excerpt keep, and e-mail addresses are masked as well: an entry outlives the thread."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.detectors import PERSONAL_KINDS, FindingKind, mask, scan

EMAIL = "email"
OTHER = "personal_value"  # masked by mask()'s wider net, with no finding to name it
_EMAIL = re.compile(r"(?:mailto:)?[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
_LABEL_KINDS = (FindingKind.CONFIDENTIALITY_3, FindingKind.CONFIDENTIALITY_LABEL)
# The label kinds name what refused the entry; personal kinds name what was masked.
MASKABLE = (*sorted(k.value for k in PERSONAL_KINDS), EMAIL, OTHER)


# Stricter than a message's check (an entry is kept for years and shown to everyone): a label
# stamped in brackets, or a labelled material handed over, refuses the entry even where the
# detectors read the message as talk about the rules.
_LABEL = (
    r"(?:自治体)?機密性\s*[23][abc]?|要機密|部外秘|課外秘|社外秘|庁内限り|関係者限り"
    r"|取り?扱い?注意|取扱制限|極秘|秘密文書|秘"
)
_STAMPED = re.compile(rf"[【\[〔<《]\s*(?:{_LABEL})[^】\]〕>》\n]{{0,8}}[】\]〕>》]|㊙")
_HANDED_OVER = re.compile(
    rf"(?:{_LABEL})[^。\n]{{0,20}}(?:資料|情報|文書|ファイル|データ|内容)"
    r"[^。\n]{0,20}(?:共有|添付|貼|送|アップ|掲載|置|転送|配布|渡し|展開|回覧)"
)


_SENTENCES = re.compile(r"[^。!?\n]+[。!?]?")
_QUESTION = re.compile(r"(?:か|\?)\s*$")


def stamped_label(text: str) -> bool:
    normal = unicodedata.normalize("NFKC", text or "").casefold()
    if _STAMPED.search(normal):
        return True
    # Handed over, not asked about: 「機密性2の情報はクラウドに置けますか」 is a question.
    return any(
        _HANDED_OVER.search(sentence) and not _QUESTION.search(sentence.rstrip("。"))
        for sentence in _SENTENCES.findall(normal)
    )


class Refused(Exception):
    """A handling label (機密性2/3, 部外秘, 取扱注意, 庁内限り…): nothing of it is kept."""

    def __init__(self, kinds: Sequence[str]) -> None:
        super().__init__(", ".join(kinds))
        self.kinds = tuple(kinds)


@dataclass(frozen=True)
class Gated:
    text: str
    masked: frozenset[str]  # finding kinds (and "email") that were masked


def gate(text: str) -> Gated:
    findings = scan(text)
    labels = sorted({f.kind.value for f in findings if f.kind in _LABEL_KINDS})
    if not labels and stamped_label(text):
        labels = [FindingKind.CONFIDENTIALITY_LABEL.value]
    if labels:
        raise Refused(labels)
    masked = {f.kind.value for f in findings if f.kind in PERSONAL_KINDS}
    cleaned = mask(text)
    if cleaned != text and not masked:
        masked.add(OTHER)
    if _EMAIL.search(cleaned):
        masked.add(EMAIL)
        cleaned = _EMAIL.sub("＊＊＊@＊＊＊", cleaned)
    return Gated(cleaned, frozenset(masked))


def gate_all(*texts: str) -> tuple[list[str], frozenset[str]]:
    """Several fields of one entry: all refused if any is, masked kinds together."""
    gated = [gate(t) for t in texts]
    return [g.text for g in gated], frozenset().union(*(g.masked for g in gated))
