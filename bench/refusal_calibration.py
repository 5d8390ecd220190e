"""Calibrate the refusal threshold ``ANSWER_MIN_EVIDENCE`` on ConditionalQA's not-answerable questions.

    .venv/bin/python bench/refusal_calibration.py [--max-false-refusals 0.05] [--reindex]

What it does, with the code that serves answers (``ingestion.prepare.document_prepare`` to chunk and
embed, the embedded search backend, ``chatbot.rag.evidence`` for the signal):

1. indexes the 59 gov.uk pages of ``../shared/datasets/conditionalqa`` (read in place, never copied) into
   a throwaway index under ``var/bench/`` (``bench/bench_index.py``);
2. for each of the 285 questions (scenario + question, as an employee would type it) retrieves the top
   ``SEARCH_TOP_K`` passages and computes the evidence signal;
3. picks the highest threshold that refuses at most ``--max-false-refusals`` of the answerable questions,
   and reports refusal precision and recall on the 14 not-answerable ones; the "high confidence" threshold
   is the evidence that 90 % of the not-answerable questions stay below;
4. as out-of-scope probes, asks 100 SciFact claims (science, not in the corpus) against the same index;
5. checks the threshold on the demo company (Spanish and English policies): in-scope questions that would
   be refused, and out-of-scope ones (``bench/demo_questions.py``) that would be answered.

It prints the figures and the setting to use; it never fails a build. Re-run it whenever retrieval changes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from bench_index import PUBLIC, WORK, build_index, demo_index  # noqa: E402
from demo_questions import IN_SCOPE, OUT_OF_SCOPE  # noqa: E402
from django.conf import settings  # noqa: E402

from chatbot.rag.evidence import evidence_score, passage_evidence  # noqa: E402
from ingestion.embed import get_embedder  # noqa: E402
from ingestion.parsers import Block, ParsedDocument  # noqa: E402
from ingestion.search.embedded import EmbeddedSearchBackend  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


DUMP: dict[str, list[dict]] = {}


def evidence_for(backend: EmbeddedSearchBackend, queries: list[str], name: str) -> np.ndarray:
    embedder = get_embedder()
    vectors = embedder.embed(queries)
    scores = []
    for query, vector in zip(queries, vectors, strict=True):
        hits = backend.search(query, vector, principals=PUBLIC, k=settings.SEARCH_TOP_K)
        evidence = passage_evidence(query, vector, hits, embedder=embedder)
        scores.append(evidence_score(evidence))
        DUMP.setdefault(name, []).append(
            {"query": query, "passages": [[e.semantic, e.lexical] for e in evidence], "evidence": scores[-1]}
        )
    return np.array(scores)


def auc(positives: np.ndarray, negatives: np.ndarray) -> float:
    """Probability that a random positive scores below a random negative (refusal ranks lower = better)."""
    if not len(positives) or not len(negatives):
        return float("nan")
    wins = (positives[:, None] < negatives[None, :]).sum() + 0.5 * (positives[:, None] == negatives[None, :]).sum()
    return float(wins / (len(positives) * len(negatives)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-false-refusals", type=float, default=0.05)
    parser.add_argument("--reindex", action="store_true", help="rebuild the throwaway indexes")
    parser.add_argument("--dump", type=Path, help="write each query's passage signals to this JSON file")
    args = parser.parse_args()

    cqa_dir = DATASETS / "conditionalqa"
    corpus = read_jsonl(cqa_dir / "corpus.jsonl")
    documents = [
        (row["title"], ParsedDocument(blocks=(Block(text=row["text"], section=(row["title"],)),), title=row["title"]))
        for row in corpus
    ]
    cqa = build_index(WORK / "conditionalqa.sqlite3", documents, reindex=args.reindex)
    answers = read_jsonl(cqa_dir / "answers.jsonl")
    queries = [f"{row['scenario']} {row['question']}".strip() for row in answers]
    not_answerable = np.array([bool(row["not_answerable"]) for row in answers])
    started = time.monotonic()
    scores = evidence_for(cqa, queries, "conditionalqa")
    per_query_ms = 1000 * (time.monotonic() - started) / len(queries)
    answerable, unanswerable = scores[~not_answerable], scores[not_answerable]

    scifact = [row["text"] for row in read_jsonl(DATASETS / "scifact" / "queries.jsonl")[:100]]
    out_of_domain = evidence_for(cqa, scifact, "scifact")

    # Highest threshold refusing at most the allowed share of answerable questions (refuse when < threshold).
    allowed = int(np.floor(args.max_false_refusals * len(answerable)))
    threshold = float(np.sort(answerable)[allowed]) if len(answerable) else 0.0
    refused = scores < threshold
    true_refusals = int((refused & not_answerable).sum())
    precision = true_refusals / refused.sum() if refused.sum() else float("nan")
    recall = true_refusals / not_answerable.sum()

    demo = demo_index(reindex=args.reindex)
    demo_in = evidence_for(demo, [question for question, _ in IN_SCOPE], "demo_in")
    demo_out = evidence_for(demo, OUT_OF_SCOPE, "demo_out")

    def q(values: np.ndarray) -> str:
        return " / ".join(f"{v:.3f}" for v in np.quantile(values, [0.1, 0.5, 0.9]))

    print(f"evidence signal (p10 / p50 / p90), top {settings.SEARCH_TOP_K} passages, {per_query_ms:.0f} ms/query:")
    print(f"  ConditionalQA answerable      n={len(answerable):3d}  {q(answerable)}")
    print(f"  ConditionalQA not answerable  n={len(unanswerable):3d}  {q(unanswerable)}")
    print(f"  SciFact claims (out of scope) n={len(out_of_domain):3d}  {q(out_of_domain)}")
    print(f"  demo in scope                 n={len(demo_in):3d}  {q(demo_in)}")
    print(f"  demo out of scope             n={len(demo_out):3d}  {q(demo_out)}")
    print(
        f"separation (AUC): not answerable vs answerable {auc(unanswerable, answerable):.3f}; "
        f"out of scope vs answerable {auc(out_of_domain, answerable):.3f}"
    )
    print(f"threshold at <= {args.max_false_refusals:.0%} false refusals: ANSWER_MIN_EVIDENCE={threshold:.3f}")
    print(
        f"  ConditionalQA: refused {int(refused.sum())}/{len(scores)}; refusal precision {precision:.2f} "
        f"({true_refusals}/{int(refused.sum())}), recall {recall:.2f} ({true_refusals}/{int(not_answerable.sum())}); "
        f"false refusals {int((refused & ~not_answerable).sum())}/{len(answerable)}"
    )
    high = float(np.quantile(unanswerable, 0.9))
    print(
        f"confidence 'high' needs evidence above 90 % of the not-answerable questions: ANSWER_HIGH_EVIDENCE={high:.3f}"
    )
    print(f"  SciFact out of scope refused: {int((out_of_domain < threshold).sum())}/{len(out_of_domain)}")
    print(
        f"  demo: in scope refused {int((demo_in < threshold).sum())}/{len(demo_in)}; "
        f"out of scope refused {int((demo_out < threshold).sum())}/{len(demo_out)}"
    )
    if args.dump:
        args.dump.write_text(json.dumps({"not_answerable": not_answerable.tolist(), **DUMP}), encoding="utf-8")
    for (question, _), score in zip(IN_SCOPE, demo_in, strict=True):
        if score < threshold:
            print(f"    in scope but refused ({score:.3f}): {question}")
    for question, score in zip(OUT_OF_SCOPE, demo_out, strict=True):
        if score >= threshold:
            print(f"    out of scope but answered ({score:.3f}): {question}")


if __name__ == "__main__":
    main()
