"""What may be kept of a message: personal values masked, nothing of a 機密性3 text."""

from __future__ import annotations

from collections.abc import Sequence

from bot.detectors import PERSONAL_KINDS, Finding, FindingKind, mask, scan, scan_file_name

EXCERPT_LIMIT = 300  # characters of the (masked) message kept with a case
NOTE_LIMIT = 500  # characters of a reporter's (masked) note


def withholds_text(findings: Sequence[Finding]) -> bool:
    """A 機密性3 label: the text itself is what must not be handled, so none of it is kept."""
    return any(f.kind is FindingKind.CONFIDENTIALITY_3 for f in findings)


def _masked_file_name(name: str) -> str:
    findings = scan_file_name(name)
    masked = mask(name)
    if any(f.kind in PERSONAL_KINDS for f in findings):
        # File names glue values to _ and -; hide every digit rather than risk a partial mask.
        masked = "".join("＊" if ch.isdigit() else ch for ch in masked)
    return masked


def safe_excerpt(text: str, file_names: Sequence[str] = ()) -> str:
    """What of a message may be stored and shown to the secretariat.

    Personal values are masked (mask() finds them a little more widely than scan());
    a message or file name carrying a 機密性3 label gives "" (withheld); long text is cut."""
    text = text or ""
    findings = list(scan(text))
    for name in file_names:
        findings.extend(scan_file_name(name))
    if withholds_text(findings):
        return ""
    masked = mask(text)
    if len(masked) > EXCERPT_LIMIT:
        masked = masked[: EXCERPT_LIMIT - 1] + "…"
    names = [_masked_file_name(name)[:100] for name in file_names[:5]]
    parts = [masked.strip(), *(f"📎 {n}" for n in names)]
    return "\n".join(p for p in parts if p)


def safe_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if not note:
        return None
    if withholds_text(scan(note)):
        return ""
    masked = mask(note)
    return masked[:NOTE_LIMIT]
