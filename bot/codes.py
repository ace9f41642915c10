"""National local-government codes (全国地方公共団体コード): 5 digits and a check digit."""

from __future__ import annotations

import unicodedata

_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(first_five: str) -> int:
    total = sum(w * int(d) for w, d in zip(_WEIGHTS, first_five, strict=True))
    return (11 - total % 11) % 10


def normalise_code(raw: str) -> str:
    """NFKC (full-width digits are common), trim, and drop separators people type."""
    return unicodedata.normalize("NFKC", raw).strip().replace("-", "").replace(" ", "")


def is_valid_code(raw: str) -> bool:
    code = normalise_code(raw)
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return False
    return check_digit(code[:5]) == int(code[5])
