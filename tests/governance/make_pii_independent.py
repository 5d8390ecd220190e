"""Turn the hand-written independent PII set (pii_independent.txt, issue #16) into labelled cases in the
format of pii_cases.jsonl ({text, names, spans}): odd lines go to pii_independent_dev.jsonl (the split
detection was tuned on), even lines to pii_independent_heldout.jsonl (scored, then looked at and tuned on
once, see the report in test_pii_independent.py), and pii_fresh.txt, written after that tuning and never
tuned on, to pii_independent_fresh.jsonl.
Run: python tests/governance/make_pii_independent.py"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).parent
MARK = re.compile(r"\[\[([A-Z]+):(.+?)\]\]")
# The user directory the sentences are read against, as governance.privacy.directory_names() lists it
# (first names, last names, full names). Several of its names are also places, things or common words.
DIRECTORY = [
    ("María José", "García-Pelayo de la Fuente"),
    ("Javier", "Ruiz"),
    ("Lucía", "Fernández Soto"),
    ("José Ángel", "Núñez"),
    ("Santiago", "Rey"),
    ("Mercedes", "Ortiz"),
    ("Pilar", "Sanz"),
    ("Carmen", "Villanueva"),
    ("Ana", "López"),
]
NAMES = sorted({part for first, last in DIRECTORY for part in (first, last, f"{first} {last}")})


def parse(line: str) -> dict[str, object]:
    text, spans, position = "", [], 0
    for match in MARK.finditer(line):
        text += line[position : match.start()]
        spans.append({"kind": match.group(1), "start": len(text), "end": len(text) + len(match.group(2))})
        text += match.group(2)
        position = match.end()
    return {"text": text + line[position:], "names": NAMES, "spans": spans}


def main() -> None:
    lines = [line for line in (HERE / "pii_independent.txt").read_text(encoding="utf-8").splitlines()]
    cases = [parse(line) for line in lines if line.strip() and not line.startswith("#")]
    fresh_lines = (HERE / "pii_fresh.txt").read_text(encoding="utf-8").splitlines()
    fresh = [parse(line) for line in fresh_lines if line.strip() and not line.startswith("#")]
    for name, part in (("dev", cases[0::2]), ("heldout", cases[1::2]), ("fresh", fresh)):
        path = HERE / f"pii_independent_{name}.jsonl"
        path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in part), encoding="utf-8")
        print(f"{len(part)} cases ({sum(bool(c['spans']) for c in part)} with personal data) -> {path.name}")


if __name__ == "__main__":
    main()
