"""Scores the detectors against labelled messages (tests/data/detectors/): per kind, and per
reaction class — warnings (a warning or a case), cases, nudges — the way the platform feels them.

Used by bench/detectors.py and tests/test_detectors.py; the file format is described in
tests/data/detectors/README.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.detectors.model import NUDGE_KINDS, Finding, Severity

REACTIONS = ("none", "nudge", "warn", "case")
CLASSES = ("warnings", "cases", "nudges")
_NUDGE_VALUES = frozenset(kind.value for kind in NUDGE_KINDS)


@dataclass(frozen=True)
class Labelled:
    text: str
    expected: frozenset[str]
    reaction: str
    note: str


def load(path: Path) -> list[Labelled]:
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [
        Labelled(row["text"], frozenset(row["expected"]), row["reaction"], row["note"])
        for row in rows
    ]


def reaction_of(findings: Sequence[Finding]) -> str:
    severities = {finding.severity for finding in findings}
    if Severity.CASE in severities:
        return "case"
    if Severity.WARN in severities:
        return "warn"
    return "nudge" if findings else "none"


def _in_class(name: str, kinds: Iterable[str], reaction: str) -> bool:
    if name == "warnings":
        return reaction in ("warn", "case")
    if name == "cases":
        return reaction == "case"
    return bool(set(kinds) & _NUDGE_VALUES)


@dataclass
class Tally:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    def add(self, expected: bool, found: bool) -> None:
        if expected and found:
            self.true_positives += 1
        elif found:
            self.false_positives += 1
        elif expected:
            self.false_negatives += 1


@dataclass
class Score:
    messages: int = 0
    kinds: dict[str, Tally] = field(default_factory=dict)
    classes: dict[str, Tally] = field(default_factory=lambda: {n: Tally() for n in CLASSES})
    disagreements: list[str] = field(default_factory=list)

    def table(self) -> str:
        lines = [f"  {'':22} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>10} {'recall':>8}"]
        rows = [*sorted(self.kinds.items()), ("", None), *self.classes.items()]
        for name, tally in rows:
            if tally is None:
                continue
            lines.append(
                f"  {name:22} {tally.true_positives:4} {tally.false_positives:4} "
                f"{tally.false_negatives:4} {tally.precision:10.3f} {tally.recall:8.3f}"
            )
        return "\n".join(lines)


def score(cases: Sequence[Labelled], scan: Callable[[str], list[Finding]]) -> Score:
    result = Score(messages=len(cases))
    for case in cases:
        findings = scan(case.text)
        found = {finding.kind.value for finding in findings}
        reaction = reaction_of(findings)
        for kind in case.expected | found:
            result.kinds.setdefault(kind, Tally()).add(kind in case.expected, kind in found)
        for name in CLASSES:
            result.classes[name].add(
                _in_class(name, case.expected, case.reaction), _in_class(name, found, reaction)
            )
        if found != case.expected or reaction != case.reaction:
            result.disagreements.append(
                f"  {case.text!r}: expected {sorted(case.expected)} ({case.reaction}), "
                f"got {sorted(found)} ({reaction}) — {case.note}"
            )
    return result


@dataclass(frozen=True)
class Bar:
    """The bar a class must clear: minimum precision and recall."""

    precision: float
    recall: float


BARS = {
    "warnings": Bar(precision=0.97, recall=0.95),
    "cases": Bar(precision=0.99, recall=0.0),
    "nudges": Bar(precision=0.95, recall=0.9),
}


def below_bar(result: Score) -> list[str]:
    """The classes under their bar, as 'warnings precision 0.950 < 0.97'."""
    misses = []
    for name, bar in BARS.items():
        tally = result.classes[name]
        if tally.precision < bar.precision:
            misses.append(f"{name} precision {tally.precision:.3f} < {bar.precision}")
        if tally.recall < bar.recall:
            misses.append(f"{name} recall {tally.recall:.3f} < {bar.recall}")
    return misses
