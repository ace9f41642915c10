"""What a detector reports: the kind of thing found, the platform rule it falls under, and how
the bot should react (an ephemeral warning to the poster, or a secretariat case as well)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FindingKind(StrEnum):
    MY_NUMBER = "my_number"
    CONFIDENTIALITY_3 = "confidentiality_3"
    CONFIDENTIALITY_LABEL = "confidentiality_label"
    RESIDENT_CODE = "resident_code"
    PHONE_NUMBER = "phone_number"
    POSTAL_ADDRESS = "postal_address"  # a home address, with or without 〒 (the name is stored)
    BIRTH_DATE = "birth_date"
    LINK_ONLY = "link_only"
    ADVERT = "advert"


class Rule(StrEnum):
    """The platform rule a finding cites (its public usage rules)."""

    PERSONAL_INFORMATION = "personal_information"
    CONFIDENTIALITY_3 = "confidentiality_3"  # 機密性3 information must never be handled
    CONFIDENTIALITY_2 = "confidentiality_2"  # 機密性2 only with one's organisation's consent
    AD_OR_LINK_ONLY = "ad_or_link_only"


class Severity(StrEnum):
    NUDGE = "nudge"  # a gentle ephemeral asking for the poster's own view (links, adverts)
    WARN = "warn"  # an ephemeral warning to the poster
    CASE = "case"  # the warning, and a case for the secretariat (without the value)


# Kinds that only ever nudge: a post's form, not its content, is the matter.
NUDGE_KINDS = frozenset({FindingKind.LINK_ONLY, FindingKind.ADVERT})


# Kinds whose value is personal data: mask() hides them, and they never leave in clear.
PERSONAL_KINDS = frozenset(
    {
        FindingKind.MY_NUMBER,
        FindingKind.RESIDENT_CODE,
        FindingKind.PHONE_NUMBER,
        FindingKind.POSTAL_ADDRESS,
        FindingKind.BIRTH_DATE,
    }
)

KIND_LABELS: dict[FindingKind, tuple[str, str]] = {
    FindingKind.MY_NUMBER: ("マイナンバー（個人番号）", "My Number (Individual Number)"),
    FindingKind.CONFIDENTIALITY_3: ("機密性3の表示", "a confidentiality class 3 label"),
    FindingKind.CONFIDENTIALITY_LABEL: ("取扱制限の表示", "a confidentiality or handling label"),
    FindingKind.RESIDENT_CODE: ("住民票コード", "a resident record code"),
    FindingKind.PHONE_NUMBER: ("個人の電話番号", "a personal phone number"),
    FindingKind.POSTAL_ADDRESS: ("個人の住所", "a home address"),
    FindingKind.BIRTH_DATE: ("生年月日", "a date of birth"),
    FindingKind.LINK_ONLY: ("リンクのみの投稿", "a link-only post"),
    FindingKind.ADVERT: ("宣伝が中心の投稿", "a mostly promotional post"),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing found in a message or file name.

    `span` points into the text as given (before normalisation). `masked` is safe to show,
    log and store: it describes or masks what was found and never contains the value itself.
    """

    kind: FindingKind
    rule: Rule
    severity: Severity
    span: tuple[int, int]
    masked: str
    confidence: float

    @property
    def label_ja(self) -> str:
        return KIND_LABELS[self.kind][0]

    @property
    def label_en(self) -> str:
        return KIND_LABELS[self.kind][1]


@dataclass(frozen=True, slots=True)
class Hit:
    """A detector's result in normalised-text coordinates (the scanner maps it back)."""

    kind: FindingKind
    rule: Rule
    severity: Severity
    start: int
    end: int
    masked: str
    confidence: float


def personal_warning(
    kind: FindingKind, start: int, end: int, masked: str, confidence: float
) -> Hit:
    """A personal value the poster is warned about (rule: personal information)."""
    return Hit(kind, Rule.PERSONAL_INFORMATION, Severity.WARN, start, end, masked, confidence)


def nudge(kind: FindingKind, start: int, end: int, masked: str, confidence: float) -> Hit:
    """A post's form (a bare link, an advert): a gentle nudge (rule: ads or link-only posts)."""
    return Hit(kind, Rule.AD_OR_LINK_ONLY, Severity.NUDGE, start, end, masked, confidence)
