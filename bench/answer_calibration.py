"""Calibrate the answer thresholds (refusal and ``high`` confidence) on the gold sets, and show what the
extractive answer's lead sentence holds.

For every question of the demo gold sets (asked over the live index, as a member of the set's groups: HR,
or Sales for ``demo-other-groups``, whose questions only HR's and Finance's documents answer) and of ConditionalQA
(indexed into a throwaway embedded index), it retrieves and ranks sentences exactly as the answer flow does
(``chatbot.rag.retrieval``, ``chatbot.rag.sentences``) and records: the passages' evidence, the best
sentence's score (answerability), whether the lead sentence / the whole answer contains a reference span
(accent- and case-folded), and for ConditionalQA's yes/no questions whether the lead sentence is one of the
question's evidence sentences. Then it reports, per set, what the thresholds in force (the embedding
model's profile, ``chatbot.rag.thresholds``, or the ``--min-*``/``--high-*`` options) refuse and mark high.

    DATA_DIR=... .venv/bin/python bench/answer_calibration.py [--cqa ../shared/datasets/conditionalqa] [--dump FILE]
    DATA_DIR=... .venv/bin/python bench/answer_calibration.py --load FILE [--min-evidence X ...]

Needs the demo loaded in DATA_DIR (``manage.py load_demo``). Prints figures; never fails a build.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from accounts.principals import principals_for_user  # noqa: E402
from chatbot.llm.base import GenerationRequest  # noqa: E402
from chatbot.llm.extractive import extractive_answer  # noqa: E402
from chatbot.rag.citations import strip_citations  # noqa: E402
from chatbot.rag.retrieval import passages_from_sources, retrieve, sources_from_hits  # noqa: E402
from chatbot.rag.sentences import rank_retrieved, select_answer  # noqa: E402
from chatbot.rag.text import split_sentences  # noqa: E402
from chatbot.rag.thresholds import AnswerThresholds, answer_thresholds  # noqa: E402
from evaluation.answer_quality import contains_span, folded  # noqa: E402
from evaluation.answers import evaluation_user  # noqa: E402
from ingestion.embed import Embedder, get_embedder  # noqa: E402
from ingestion.language import detect_language  # noqa: E402
from ingestion.search import SearchBackend, get_search_backend  # noqa: E402

PUBLIC = frozenset({"public"})


def ask(question: str, *, backend: SearchBackend, principals: frozenset[str]) -> dict[str, Any]:
    """The answer flow's own retrieval and sentence ranking (``chatbot.rag``), and the extractive answer."""
    started = time.perf_counter()
    language = detect_language(question)
    retrieval = retrieve(question, principals=principals, k=settings.SEARCH_TOP_K, backend=backend)
    passages = passages_from_sources(sources_from_hits(retrieval.hits), retrieval.hits)
    ranking = rank_retrieved(question=question, language=language, retrieval=retrieval, passages=passages)
    chosen = select_answer(ranking)
    text = extractive_answer(
        GenerationRequest(question=question, language=language, passages=passages, messages=(), evidence=chosen)
    )
    shown = strip_citations(text)
    lead = split_sentences(shown)[0] if shown else ""
    return {
        "evidence": retrieval.score,
        "answerability": ranking.answerability,
        "passages": [asdict(item) for item in retrieval.evidence],
        "lead": lead,
        "answer": shown,
        "words": len(shown.split()),
        "cited_titles": [retrieval.hits[s.n - 1].title for s in chosen],
        "retrieved_titles": list(dict.fromkeys(hit.title for hit in retrieval.hits)),
        "ms": round(1000 * (time.perf_counter() - started), 1),
        "sentences": [{"n": s.n, "text": s.text, "features": asdict(s.features)} for s in ranking.sentences],
    }


def demo_rows(path: Path) -> Iterable[dict[str, Any]]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    backend = get_search_backend()
    principals = principals_for_user(evaluation_user(payload.get("groups", [])))  # as evaluate_answers asks
    for row in payload["questions"]:
        result = ask(row["question"], backend=backend, principals=principals)
        spans = row.get("answer_spans") or []
        expected = set(row.get("expected_documents") or [])
        for sentence in result["sentences"]:
            sentence["label"] = any(contains_span(sentence["text"], span) for span in spans) if spans else None
        yield {
            "set": payload["name"],
            "key": row["key"],
            "answerable": row.get("answerable", True),
            "kind": "span" if spans else ("none" if not row.get("answerable", True) else "unlabelled"),
            "retrieved_expected": bool(expected & set(result["retrieved_titles"])),
            "cited_expected": [title in expected for title in result["cited_titles"]],
            "lead_ok": any(contains_span(result["lead"], span) for span in spans) if spans else None,
            "answer_ok": any(contains_span(result["answer"], span) for span in spans) if spans else None,
            **result,
        }


def cqa_rows(directory: Path, embedder: Embedder, limit: int | None) -> Iterable[dict[str, Any]]:
    from evaluation.retrieval import EmbeddingCache, _CachedEmbedder, beir_load, dataset_index, throwaway_backend

    dataset = beir_load(directory)
    answers = {
        row["_id"]: row for row in map(json.loads, (directory / "answers.jsonl").read_text().splitlines()) if row
    }
    cache = EmbeddingCache(embedder.name, Path(settings.EVALUATION_EMBEDDING_CACHE))
    with throwaway_backend("embedded", dimension=embedder.dimension) as backend:
        dataset_index(dataset=dataset, backend=backend, embedder=_CachedEmbedder(embedder, cache), progress=False)
        titles = {entry.corpus_id: entry.title for entry in dataset.corpus}
        for number, (key, question) in enumerate(dataset.queries.items()):
            if limit and number >= limit:
                break
            gold = answers.get(key, {})
            result = ask(question, backend=backend, principals=PUBLIC)
            spans = [str(a) for a in gold.get("answers", [])]
            yes_no = bool(spans) and all(folded(span) in ("yes", "no") for span in spans)
            evidences = [folded(e) for e in gold.get("evidences", []) if len(e.split()) >= 3]
            expected = {titles[doc] for doc, grade in dataset.judgements.get(key, {}).items() if grade > 0}
            lead = folded(result["lead"])
            if gold.get("not_answerable"):
                kind, lead_ok, answer_ok = "none", None, None
            elif yes_no:
                kind = "yes_no"
                lead_ok = any(e in lead or lead in e for e in evidences if lead) if evidences else None
                answer_ok = any(e in folded(result["answer"]) for e in evidences) if evidences else None
            else:
                kind = "span"
                lead_ok = any(contains_span(result["lead"], span) for span in spans)
                answer_ok = any(contains_span(result["answer"], span) for span in spans)
            for sentence in result["sentences"]:
                text = folded(sentence["text"])
                by_evidence = any(e in text or (len(text.split()) >= 3 and text in e) for e in evidences)
                by_span = kind == "span" and any(contains_span(sentence["text"], span) for span in spans)
                sentence["label"] = (by_evidence or by_span) if kind != "none" else None
            yield {
                "set": "conditionalqa",
                "key": key,
                "answerable": not gold.get("not_answerable", False),
                "kind": kind,
                "retrieved_expected": bool(expected & set(result["retrieved_titles"])),
                "cited_expected": [title in expected for title in result["cited_titles"]],
                "lead_ok": lead_ok,
                "answer_ok": answer_ok,
                **result,
            }
    cache.close()


def share(values: list[bool]) -> str:
    return f"{sum(values) / len(values):.3f} ({sum(values)}/{len(values)})" if values else "n/a"


def report(rows: list[dict[str, Any]], *, thresholds: AnswerThresholds) -> None:
    print(f"thresholds: {thresholds}")
    for name in sorted({row["set"] for row in rows}):
        subset = [row for row in rows if row["set"] == name]
        answerable = [row for row in subset if row["answerable"]]
        outside = [row for row in subset if not row["answerable"]]
        refused = lambda row: (  # noqa: E731
            row["evidence"] < thresholds.min_evidence or row["answerability"] < thresholds.min_answerability
        )
        judged = [row for row in answerable if row["lead_ok"] is not None and row["retrieved_expected"]]
        answered = [row for row in subset if not refused(row)]
        high_rows = [
            row
            for row in answered
            if row["answerability"] >= thresholds.high_answerability and row["evidence"] >= thresholds.high_evidence
        ]
        cited = [ok for row in answered if row["answerable"] for ok in row["cited_expected"]]
        print(f"\n== {name}: {len(subset)} questions ({len(answerable)} answerable, {len(outside)} out of scope)")
        print(f"  lead holds the answer (document retrieved, labelled): {share([r['lead_ok'] for r in judged])}")
        for kind in ("span", "yes_no"):
            of_kind = [r["lead_ok"] for r in judged if r["kind"] == kind]
            if of_kind:
                print(f"    {kind}: {share(of_kind)}")
        print(f"  answer holds it:                  {share([bool(r['answer_ok']) for r in judged])}")
        print(f"  median answer words:              {statistics.median([r['words'] for r in subset]):.0f}")
        print(f"  citation precision:               {share(cited)}")
        print(f"  out of scope refused:             {share([refused(r) for r in outside])}")
        print(f"  answerable refused:               {share([refused(r) for r in answerable])}")
        print(
            f"  high: {len(high_rows)} answers, right "
            f"{share([bool(r['lead_ok'] if r['lead_ok'] is not None else r['answer_ok']) for r in high_rows if r['answerable'] and (r['lead_ok'] is not None)])}"  # noqa: E501
            f", out of scope marked high: {sum(not r['answerable'] for r in high_rows)}"
        )
        print(f"  ranking time p50 {statistics.median([r['ms'] for r in subset]):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", nargs="*", default=["demo", "demo-out-of-scope", "demo-employees", "demo-other-groups"]
    )
    parser.add_argument("--cqa", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--dump", type=Path, default=None)
    parser.add_argument("--load", type=Path, default=None, help="re-report a dump without asking again")
    in_force = answer_thresholds()
    for field, value in asdict(in_force).items():
        option = "--" + field.replace("_", "-")
        parser.add_argument(option, type=float, default=value, help=f"default: {value} (the model's profile)")
    args = parser.parse_args()
    thresholds = AnswerThresholds(**{field: getattr(args, field) for field in asdict(in_force)})
    if args.load:
        rows = [json.loads(line) for line in args.load.read_text().splitlines()]
    else:
        rows = []
        for name in args.sets:
            path = ROOT / "evaluation" / "goldsets" / f"{name}.json"
            if path.is_file():
                rows.extend(demo_rows(path))
        if args.cqa:
            rows.extend(cqa_rows(args.cqa, get_embedder(), args.limit))
    if args.dump:
        args.dump.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    report(rows, thresholds=thresholds)


if __name__ == "__main__":
    main()
