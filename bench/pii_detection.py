"""Time per sentence of PII detection (``find_pii``) and of pseudonymisation, on the project's labelled set
and the hand-written ones, against the detector of an earlier commit (read with ``git show``, so nothing in
the working tree changes). Pseudonymisation runs on every chat turn when ``PSEUDONYMISE_CHAT_LOGS`` is on.

    python bench/pii_detection.py [--baseline e48f1d0] [--repeat 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from governance.pii import find_pii  # noqa: E402

_FIRST = "Alba Bruno Clara Diego Elena Fabio Gloria Hugo Irene Jaime Lara Mateo Noelia Óscar Paula Raúl".split()
_LAST = "Abad Bravo Cano Duran Esteban Ferrer Gallego Herrera Ibáñez Lozano Moya Nieto Ortega Prieto Quintero".split()
_PEOPLE = [(f, f"{a} {b}") for f in _FIRST for a in _LAST for b in _LAST[:4]][:1000]
DIRECTORY_1000 = sorted({part for first, last in _PEOPLE for part in (first, last, f"{first} {last}")})
SETS = ["pii_cases", "pii_independent_dev", "pii_independent_heldout", "pii_independent_fresh"]


def baseline_find_pii(revision: str) -> Callable[..., Any]:
    source = subprocess.run(
        ["git", "show", f"{revision}:governance/pii.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_pii.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("baseline_pii", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_pii"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module.find_pii  # type: ignore[no-any-return]


def per_sentence_ms(detector: Callable[..., Any], cases: list[dict[str, Any]], repeat: int) -> float:
    detector(cases[0]["text"], known_names=cases[0]["names"])  # load lists and patterns once
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        for case in cases:
            detector(case["text"], known_names=case["names"])
        runs.append((time.perf_counter() - started) * 1000 / len(cases))
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", default="e48f1d0", help="commit whose governance/pii.py is the baseline")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    baseline = baseline_find_pii(args.baseline)
    print(f"| set | sentences | baseline {args.baseline} ms | now ms | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in SETS:
        lines = (ROOT / "tests" / "governance" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        cases = [json.loads(line) for line in lines]
        before = per_sentence_ms(baseline, cases, args.repeat)
        now = per_sentence_ms(find_pii, cases, args.repeat)
        print(f"| {name} | {len(cases)} | {before:.3f} | {now:.3f} | {now / before:.2f} |")
        if name == "pii_independent_heldout":
            # The same sentences read against a directory of 1,000 people, as governance.privacy lists it.
            for case in cases:
                case["names"] = case["names"] + DIRECTORY_1000
            before = per_sentence_ms(baseline, cases, args.repeat)
            now = per_sentence_ms(find_pii, cases, args.repeat)
            label = f"{name}, 1,000-person directory"
            print(f"| {label} | {len(cases)} | {before:.3f} | {now:.3f} | {now / before:.2f} |")


if __name__ == "__main__":
    main()
