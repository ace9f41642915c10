"""Runs every detector over one text and maps the results back to the original text."""

from __future__ import annotations

from bot.detectors import (
    address,
    advert,
    confidentiality,
    link_only,
    my_number,
    personal_info,
    resident_code,
)
from bot.detectors.context import Protected
from bot.detectors.model import PERSONAL_KINDS, Finding, Hit
from bot.detectors.normalise import Normalised

MASK_CHARACTER = "＊"


def run(text: str, *, file_name: bool = False) -> list[Finding]:
    """Every finding in `text`, ordered by position. May raise on a bug: callers guard it."""
    normalised = Normalised(text)
    norm = normalised.text
    protected = Protected(norm)
    hits: list[Hit] = []
    hits.extend(my_number.detect(norm, protected))
    hits.extend(confidentiality.detect(norm, protected, file_name=file_name))
    hits.extend(resident_code.detect(norm, protected))
    hits.extend(personal_info.detect(norm, protected))
    hits.extend(address.detect(norm, protected))
    if not file_name:
        post = link_only.linked_post(norm)
        hits.extend(link_only.detect(post))
        hits.extend(advert.detect(post))
    findings: list[Finding] = []
    for hit in sorted(hits, key=lambda h: (h.start, -h.end, h.kind)):
        span = normalised.span(hit.start, hit.end)
        if any(
            f.kind == hit.kind and f.span[0] < span[1] and span[0] < f.span[1] for f in findings
        ):
            continue  # one finding per place and kind (【㊙】 is one label, not two)
        findings.append(Finding(hit.kind, hit.rule, hit.severity, span, hit.masked, hit.confidence))
    return findings


def personal_spans(text: str) -> list[tuple[int, int]]:
    """Original-text spans of every personal value, found a little more widely than by run()."""
    normalised = Normalised(text)
    norm = normalised.text
    protected = Protected(norm)
    spans = [f.span for f in run(text) if f.kind in PERSONAL_KINDS]
    for start, end in [
        *my_number.mask_spans(norm, protected),
        *personal_info.mask_spans(norm, protected),
        *resident_code.mask_spans(norm, protected),
        *address.mask_spans(norm, protected),
    ]:
        spans.append(normalised.span(start, end))
    return spans


def mask(text: str) -> str:
    """`text` with every character of every personal value replaced by ＊ (spaces kept)."""
    spans = personal_spans(text)
    if not spans:
        return text
    characters = list(text)
    for start, end in spans:
        for index in range(start, end):
            if not characters[index].isspace():
                characters[index] = MASK_CHARACTER
    return "".join(characters)
