"""Precision and recall of PII detection on labelled cases, by kind, three ways.

- **exact**: a found span counts only when kind, start and end all equal a labelled one.
- **overlap**: a found span is right when it overlaps a labelled span of the same kind, and a labelled span
  is found when a found span of its kind overlaps it (boundaries may differ by a title or a "+34").
- **whole**: a labelled span is found only when every one of its letters and digits lies inside found
  spans. A datum found by overlap but not whole is *partly readable* (a surname left after its first name
  was replaced), which for privacy is a miss.

Cases are ``{"text": ..., "names": [...], "spans": [{"kind", "start", "end"}]}``, as in
``tests/governance/pii_cases.jsonl`` and ``tests/governance/pii_independent_*.jsonl``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from governance.pii import LabelledCase, PiiMatch, find_pii

Detector = Callable[..., Sequence[PiiMatch]]


@dataclass
class KindScore:
    labelled: int = 0
    found: int = 0
    exact: int = 0
    overlap_found: int = 0  # labelled spans overlapped by a found span of their kind
    overlap_right: int = 0  # found spans overlapping a labelled span of their kind
    whole: int = 0  # labelled spans with every letter and digit inside found spans

    def _ratio(self, part: int, total: int) -> float:
        return part / total if total else 1.0

    @property
    def exact_precision(self) -> float:
        return self._ratio(self.exact, self.found)

    @property
    def exact_recall(self) -> float:
        return self._ratio(self.exact, self.labelled)

    @property
    def overlap_precision(self) -> float:
        return self._ratio(self.overlap_right, self.found)

    @property
    def overlap_recall(self) -> float:
        return self._ratio(self.overlap_found, self.labelled)

    @property
    def whole_recall(self) -> float:
        return self._ratio(self.whole, self.labelled)

    def add(self, other: KindScore) -> None:
        for name in ("labelled", "found", "exact", "overlap_found", "overlap_right", "whole"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class PiiReport:
    by_kind: dict[str, KindScore] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)  # labelled data not wholly hidden
    partly_readable: list[str] = field(default_factory=list)  # found by overlap, yet some of it readable
    false_alarms: list[str] = field(default_factory=list)  # found spans overlapping no labelled span

    @property
    def total(self) -> KindScore:
        total = KindScore()
        for score in self.by_kind.values():
            total.add(score)
        return total

    def table(self) -> str:
        """A Markdown table: one row a kind, then all kinds together."""
        lines = [
            "| kind | labelled | found | P exact | R exact | P overlap | R overlap | R whole |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        rows = [*sorted(self.by_kind.items()), ("all", self.total)]
        for kind, s in rows:
            lines.append(
                f"| {kind} | {s.labelled} | {s.found} | {s.exact_precision:.3f} | {s.exact_recall:.3f} "
                f"| {s.overlap_precision:.3f} | {s.overlap_recall:.3f} | {s.whole_recall:.3f} |"
            )
        return "\n".join(lines)


def _covered(text: str, start: int, end: int, found: Iterable[PiiMatch]) -> bool:
    hidden = [False] * (end - start)
    for match in found:
        for position in range(max(start, match.start), min(end, match.end)):
            hidden[position - start] = True
    return all(hidden[i] or not text[start + i].isalnum() for i in range(end - start))


def pii_report(cases: Iterable[LabelledCase], *, detector: Detector = find_pii) -> PiiReport:
    """Score ``detector`` (``find_pii`` by default) on labelled ``cases``, by kind."""
    report = PiiReport()

    def score(kind: str) -> KindScore:
        return report.by_kind.setdefault(kind, KindScore())

    for case in cases:
        text = case["text"]
        labelled = [(s["kind"], s["start"], s["end"]) for s in case["spans"]]
        found = list(detector(text, known_names=case.get("names", [])))
        for kind, start, end in labelled:
            s = score(kind)
            s.labelled += 1
            overlapped = any(m.kind == kind and m.start < end and start < m.end for m in found)
            whole = _covered(text, start, end, found)
            s.overlap_found += overlapped
            s.whole += whole
            s.exact += any((m.kind, m.start, m.end) == (kind, start, end) for m in found)
            if not whole:
                shown = f"{kind} {text[start:end]!r} in {text!r}"
                (report.partly_readable if overlapped else report.missed).append(shown)
        for m in found:
            s = score(m.kind)
            s.found += 1
            right = any(m.kind == kind and m.start < end and start < m.end for kind, start, end in labelled)
            s.overlap_right += right
            if not any(m.start < end and start < m.end for _, start, end in labelled):
                report.false_alarms.append(f"{m.kind} {m.value!r} in {text!r}")
    return report
