"""Fusion measured offline: dump each question's BM25 and vector candidate lists once, then score fusions.

    DATA_DIR=/tmp/x EMBEDDING_MODEL=... .venv/bin/python bench/fusion_candidates.py dump --beir DIR --out F.json.gz
    .venv/bin/python bench/fusion_candidates.py score F.json.gz [F2.json.gz ...]

``dump`` indexes a BEIR folder exactly as ``manage.py evaluate_retrieval`` does (the upload pipeline into a
throwaway embedded index, the embedding cache reused) and writes, per question, both candidate lists with
their raw scores as the embedded backend hands them to fusion (each 300 chunks deep, as the evaluation
asks), every candidate's exact cosine and language, and the document each chunk belongs to.

``score`` replays ``ingestion.search.fusion.fuse`` on the dumps with the fusion profile of each dump's model
(``fusion_profile_for``) and prints nDCG@10 of bm25 / dense / hybrid and the share of questions with a
relevant document in the top 5; the hybrid figure equals ``evaluate_retrieval --mode hybrid``'s.
``grid`` scores a grid of profiles on every dump given (one model at a time) and prints each profile's
figure per set and its worst margin against the better single retriever. ``three`` fuses, per document
(each list ranks a document at its best chunk), BM25 with two models' vectors, from two dumps of the same
set. It never fails a build: it only prints.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingestion.search.base import SearchMode

ROOT = Path(__file__).resolve().parent.parent
DEPTH = 300  # chunks per list, as evaluation.retrieval asks (CHUNK_DEPTH)
K = 10


def dump(directory: Path, out: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    from evaluation.retrieval import (
        PUBLIC,
        EmbeddingCache,
        _CachedEmbedder,
        beir_load,
        dataset_index,
        throwaway_backend,
    )
    from ingestion.embed import get_embedder
    from ingestion.language import detect_language
    from ingestion.search.analysis import analysis_for, query_terms
    from ingestion.search.embedded import EmbeddedSearchBackend

    dataset = beir_load(directory)
    model = get_embedder()
    cache = EmbeddingCache(model.name, Path(settings.EVALUATION_EMBEDDING_CACHE))
    embedder = _CachedEmbedder(model, cache)
    rows: list[dict[str, Any]] = []
    with throwaway_backend("embedded", dimension=model.dimension) as backend:
        assert isinstance(backend, EmbeddedSearchBackend)
        dataset_index(dataset=dataset, backend=backend, embedder=embedder, progress=True)
        query_ids = list(dataset.queries)
        vectors = embedder.embed([dataset.queries[query_id] for query_id in query_ids])
        with backend._connection() as connection:
            documents = {
                rowid: dataset.corpus[document_id - 1].corpus_id
                for rowid, document_id in connection.execute("SELECT rowid, document_id FROM chunks")
            }
            snapshot = backend._begin(connection)
            try:
                allowed = backend._allowed(connection, snapshot, PUBLIC)
                for query_id, vector in zip(query_ids, vectors, strict=True):
                    text = dataset.queries[query_id]
                    language = detect_language(text)
                    candidates = backend.candidates_for(
                        connection, snapshot, allowed, text, language, vector, depth=DEPTH, mode="hybrid"
                    )
                    languages = backend._languages(connection, candidates)
                    rows.append(
                        {
                            "id": query_id,
                            "text": text,
                            "language": language,
                            "terms": len(query_terms(text, query_language=language, analysis=analysis_for(language))),
                            "judgements": dataset.judgements[query_id],
                            "lexical": list(candidates.lexical.items()),
                            "semantic": list(candidates.semantic.items()),
                            "cosine": {
                                rowid: score
                                for rowid, score in candidates.cosine.items()
                                if rowid not in candidates.semantic
                            },
                            "languages": languages,
                        }
                    )
            finally:
                connection.execute("COMMIT")
    cache.close()
    payload = {
        "set": dataset.name,
        "model": model.name,
        "embedding_languages": None
        if settings.SEARCH_EMBEDDING_LANGUAGES is None
        else sorted(settings.SEARCH_EMBEDDING_LANGUAGES),
        "documents": documents,
        "queries": rows,
    }
    with gzip.open(out, "wt", encoding="utf-8") as handle:
        json.dump(payload, handle)
    print(f"{dataset.name}: {len(rows)} questions, {len(documents)} chunks, model {model.name} -> {out}")


# -- scoring -------------------------------------------------------------------------------------------
@dataclass
class Dump:
    name: str
    model: str
    embedding_languages: frozenset[str] | None
    documents: dict[int, str]
    queries: list[dict[str, Any]]


def load(path: Path) -> Dump:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        raw = json.load(handle)
    for query in raw["queries"]:
        query["lexical"] = {int(rowid): score for rowid, score in query["lexical"]}
        query["semantic"] = {int(rowid): score for rowid, score in query["semantic"]}
        query["cosine"] = {int(rowid): score for rowid, score in query["cosine"].items()}
        query["languages"] = {int(rowid): language for rowid, language in query["languages"].items()}
    languages = raw["embedding_languages"]
    return Dump(
        name=path.name.removesuffix(".json.gz"),
        model=raw["model"],
        embedding_languages=None if languages is None else frozenset(languages),
        documents={int(rowid): corpus_id for rowid, corpus_id in raw["documents"].items()},
        queries=raw["queries"],
    )


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def documents_ranked(dump: Dump, chunks: Iterable[int]) -> list[str]:
    return list(dict.fromkeys(dump.documents[rowid] for rowid in chunks))


def figures(dump: Dump, rankings: Sequence[Sequence[str]]) -> tuple[float, float]:
    """nDCG@10 and the share of questions with a relevant document among the first five."""
    from evaluation.metrics import hit_at, ndcg_at

    ndcg = top5 = 0.0
    for query, ranked in zip(dump.queries, rankings, strict=True):
        judged = query["judgements"]
        ndcg += ndcg_at(ranked, judged, K)
        top5 += hit_at(ranked, [doc for doc, grade in judged.items() if grade > 0], 5)
    return ndcg / len(dump.queries), top5 / len(dump.queries)


def rankings_for(dump: Dump, mode: SearchMode, profile: Any) -> list[list[str]]:
    from ingestion.search.fusion import Candidates, fuse, fusion_weights

    found = []
    for query in dump.queries:
        candidates = Candidates(
            lexical=query["lexical"],
            semantic=query["semantic"],
            cosine={**query["semantic"], **query["cosine"]},
            languages=query["languages"],
        )
        weights = fusion_weights(
            query=query["text"],
            query_language=query["language"],
            embedding_languages=dump.embedding_languages,
            profile=profile,
        )
        found.append(documents_ranked(dump, [rowid for rowid, _ in fuse(candidates, weights=weights, mode=mode)]))
    return found


def score(paths: list[Path]) -> None:
    _django()
    from ingestion.search.fusion import fusion_profile_for

    for path in paths:
        dump = load(path)
        profile = fusion_profile_for(dump.model)
        line = []
        modes: tuple[SearchMode, ...] = ("bm25", "dense", "hybrid")
        for mode in modes:
            ndcg, top5 = figures(dump, rankings_for(dump, mode, profile))
            line.append(f"{mode} {ndcg:.4f} (top-5 {top5:.3f})")
        print(f"{dump.name:<40} {dump.model[-40:]:<40} " + "  ".join(line))


def profile_with(base: Any, settings: dict[str, float]) -> Any:
    """``base`` with fields replaced: ``semantic_short=0.3`` in its default, ``en.semantic_short=0.2`` in
    the entry of one question language (made from the default when the profile has none)."""
    default = replace(base.default, **{name: value for name, value in settings.items() if "." not in name})
    languages = dict(base.languages)
    for name, value in settings.items():
        if "." in name:
            language, field_name = name.split(".", 1)
            languages[language] = replace(languages.get(language, default), **{field_name: value})
    return replace(base, default=default, languages=languages)


def grid(paths: list[Path], values: dict[str, list[float]]) -> None:
    _django()
    from ingestion.search.fusion import fusion_profile_for

    dumps = [load(path) for path in paths]
    base = fusion_profile_for(dumps[0].model)
    singles = {
        dump.name: max(figures(dump, rankings_for(dump, mode, base))[0] for mode in ("bm25", "dense")) for dump in dumps
    }
    names = list(values)
    print("profile; per set: hybrid nDCG@10 (margin over the better single retriever); worst margin; mean")
    for combination in itertools.product(*(values[name] for name in names)):
        profile = profile_with(base, dict(zip(names, combination, strict=True)))
        per_set = {dump.name: figures(dump, rankings_for(dump, "hybrid", profile))[0] for dump in dumps}
        worst = min(per_set[name] - singles[name] for name in per_set)
        print(
            " ".join(f"{name}={value}" for name, value in zip(names, combination, strict=True))
            + "  "
            + "  ".join(f"{name} {value:.4f} ({value - singles[name]:+.4f})" for name, value in per_set.items())
            + f"  worst {worst:+.4f} mean {sum(per_set.values()) / len(per_set):.4f}",
            flush=True,
        )


def _document_scores(dump: Dump, query: dict[str, Any], key: str) -> dict[str, float]:
    best: dict[str, float] = {}
    for rowid, value in query[key].items():
        document = dump.documents[rowid]
        best[document] = max(best.get(document, float("-inf")), value)
    return best


def three(first: Path, second: Path, weights: list[tuple[float, float, float]]) -> None:
    """Document-level fusion of BM25 (from ``first``) with both dumps' vectors; the two-list fusions of the
    same kind are printed beside it, so the gain of the third list is read against like with like."""
    _django()
    from ingestion.search.fusion import _standardiser

    a, b = load(first), load(second)
    by_id = {query["id"]: query for query in b.queries}

    def z(scores: dict[str, float]) -> dict[str, float]:
        mean, spread = _standardiser(scores, 50)
        return {doc: (value - mean) / spread for doc, value in scores.items()}

    for lexical_weight, a_weight, b_weight in weights:
        rankings = []
        for query in a.queries:
            lists = [
                (lexical_weight, z(_document_scores(a, query, "lexical"))),
                (a_weight, z(_document_scores(a, query, "semantic"))),
                (b_weight, z(_document_scores(b, by_id[query["id"]], "semantic"))),
            ]
            fused: dict[str, float] = {}
            for weight, scores in lists:
                if weight == 0:
                    continue
                floor = min(scores.values(), default=0.0)
                for doc in {d for _, s in lists for d in s}:
                    fused[doc] = fused.get(doc, 0.0) + weight * scores.get(doc, floor)
            rankings.append(sorted(fused, key=lambda doc: fused[doc], reverse=True))
        ndcg, top5 = figures(a, rankings)
        print(
            f"{a.name}: bm25 {lexical_weight} + {a.model[-30:]} {a_weight} + {b.model[-30:]} {b_weight}: "
            f"nDCG@10 {ndcg:.4f}, top-5 {top5:.3f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump")
    dumping.add_argument("--beir", type=Path, required=True)
    dumping.add_argument("--out", type=Path, required=True)
    scoring = commands.add_parser("score")
    scoring.add_argument("dumps", type=Path, nargs="+")
    gridding = commands.add_parser("grid")
    gridding.add_argument("dumps", type=Path, nargs="+")
    gridding.add_argument(
        "--set", action="append", default=[], metavar="FIELD=V1,V2", help="a FusionProfile field and its values"
    )
    threeing = commands.add_parser("three")
    threeing.add_argument("first", type=Path)
    threeing.add_argument("second", type=Path)
    threeing.add_argument("--weights", action="append", default=[], metavar="BM25,FIRST,SECOND")
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.beir, args.out)
    elif args.command == "score":
        score(args.dumps)
    elif args.command == "grid":
        values = {}
        for item in args.set:
            name, _, listed = item.partition("=")
            values[name] = [float(value) for value in listed.split(",")]
        grid(args.dumps, values)
    else:
        three(args.first, args.second, [tuple(float(v) for v in w.split(",")) for w in args.weights])  # type: ignore[misc]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
