"""Retrieval evaluation on a BEIR-layout folder, through the code that serves answers.

Each corpus entry is indexed as one document by ``ingestion.prepare.document_prepare`` (the chunking,
language detection and embedding of uploads) into a throwaway index, never the live one; every judged
query is searched with the backend's ``search``; chunk hits map back to their corpus id, a document
ranking at its best chunk.

Embeddings are computed in large batches (the corpus is first chunked with a recording embedder to learn
the exact texts ``document_prepare`` embeds) and, optionally, kept in an on-disk cache keyed by model and
text hash (``EVALUATION_EMBEDDING_CACHE``): vectors are the model's own, so cached and fresh runs score the
same, but only a cold run's ``index_seconds`` measures indexing speed.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from django.conf import settings
from tqdm import tqdm

from evaluation.metrics import first_relevant_rank, mrr_at, ndcg_at, percentile, recall_at
from ingestion.embed import Embedder, get_embedder
from ingestion.parsers import Block, ParsedDocument
from ingestion.search import SearchBackend
from ingestion.search.base import SearchMode
from ingestion.search.fusion import fusion_profile_for

BackendName = Literal["embedded", "elasticsearch"]
PUBLIC = frozenset({"public"})
RECALL_DEPTH = 100
# Chunks asked for per query: enough for RECALL_DEPTH distinct documents when documents have a few chunks.
CHUNK_DEPTH = 3 * RECALL_DEPTH


@dataclass(frozen=True)
class CorpusEntry:
    corpus_id: str
    title: str
    text: str


@dataclass(frozen=True)
class BeirDataset:
    name: str
    corpus: list[CorpusEntry]
    queries: dict[str, str]
    judgements: dict[str, dict[str, int]]  # query id -> corpus id -> grade


@dataclass(frozen=True)
class RetrievalReport:
    dataset: str
    backend: str
    mode: str
    k: int
    metrics: dict[str, float]
    docs: int
    chunks: int
    queries: int
    index_seconds: float
    query_ms_p50: float
    query_ms_p95: float
    embedding_model: str
    embeddings_computed: int
    embeddings_cached: int
    # nDCG@k and query count per evidence check of the judgements (see ``judgements_check``); empty when
    # the folder has no evidence sentences.
    by_judgement_check: dict[str, dict[str, float]] = field(default_factory=dict)
    per_query: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        flat = asdict(self)
        metrics = flat.pop("metrics")
        flat.pop("per_query")
        return {**metrics, **flat}


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def beir_load(directory: Path, *, split: str = "test") -> BeirDataset:
    """``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv`` (with a header line). Only queries
    with at least one relevant judgement are kept, as BEIR does."""
    corpus = [
        CorpusEntry(corpus_id=str(row["_id"]), title=str(row.get("title") or ""), text=str(row.get("text") or ""))
        for row in _read_jsonl(directory / "corpus.jsonl")
    ]
    judgements: dict[str, dict[str, int]] = {}
    with (directory / "qrels" / f"{split}.tsv").open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            if line.strip():
                query_id, corpus_id, grade = line.rstrip("\n").split("\t")
                judgements.setdefault(query_id, {})[corpus_id] = int(grade)
    relevant = {query_id for query_id, grades in judgements.items() if any(g > 0 for g in grades.values())}
    queries = {
        str(row["_id"]): str(row["text"])
        for row in _read_jsonl(directory / "queries.jsonl")
        if str(row["_id"]) in relevant
    }
    return BeirDataset(
        name=directory.resolve().name,
        corpus=corpus,
        queries=queries,
        judgements={query_id: judgements[query_id] for query_id in queries},
    )


# -- judgements against evidence ---------------------------------------------------------------------
JudgementCheck = Literal["agrees", "evidence_elsewhere", "evidence_not_found", "no_evidence"]


def _normalised(text: str) -> str:
    """Compatibility-folded, quotes straightened, whitespace collapsed: evidence copied out of a page must
    still be found in the page's text after extraction."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text.replace("\u201c", '"').replace("\u201d", '"')).strip().casefold()


def judgements_check(dataset: BeirDataset, directory: Path) -> dict[str, JudgementCheck]:
    """Whether each query's judged documents hold the evidence its reference answer cites, from the folder's
    ``answers.jsonl`` (``{_id, evidences: [sentence, ...]}``); empty when there is none.

    ``agrees``: a judged-relevant document contains one of the evidence sentences. ``evidence_elsewhere``:
    none does, but another document of the corpus does; retrieval that finds the evidence is then scored as
    a miss, so these queries bound what any system can score. ``evidence_not_found``: no document contains
    any of them. ``no_evidence``: the answer cites none (typically a question the corpus cannot answer).
    """
    path = directory / "answers.jsonl"
    if not path.is_file():
        return {}
    evidences = {str(row["_id"]): [str(e) for e in row.get("evidences") or []] for row in _read_jsonl(path)}
    if not any(evidences.values()):
        return {}
    texts = {entry.corpus_id: _normalised(f"{entry.title}\n{entry.text}") for entry in dataset.corpus}
    checks: dict[str, JudgementCheck] = {}
    for query_id, grades in dataset.judgements.items():
        sentences = [_normalised(sentence) for sentence in evidences.get(query_id, []) if sentence.strip()]
        if not sentences:
            checks[query_id] = "no_evidence"
            continue
        holding = {doc for doc, text in texts.items() if any(sentence in text for sentence in sentences)}
        relevant = {doc for doc, grade in grades.items() if grade > 0}
        if holding & relevant:
            checks[query_id] = "agrees"
        else:
            checks[query_id] = "evidence_elsewhere" if holding else "evidence_not_found"
    return checks


# -- embeddings ----------------------------------------------------------------------------------------
class EmbeddingCache:
    """Vectors by (model, text) hash in one SQLite file; ``path=None`` keeps them in memory only."""

    def __init__(self, model: str, path: Path | None) -> None:
        self.model = model
        self._memory: dict[str, np.ndarray] = {}
        self._connection: sqlite3.Connection | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(path)
            self._connection.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model}\x00{text}".encode()).hexdigest()

    def get_many(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        found = {text: self._memory[self.key(text)] for text in texts if self.key(text) in self._memory}
        if self._connection is not None:
            missing = {self.key(text): text for text in texts if text not in found}
            keys = list(missing)
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                marks = ",".join("?" * len(batch))
                for key, blob in self._connection.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch
                ):
                    vector = np.frombuffer(blob, dtype=np.float32)
                    self._memory[key] = vector
                    found[missing[key]] = vector
        return found

    def put_many(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        rows = [
            (self.key(text), np.asarray(vector, dtype=np.float32)) for text, vector in zip(texts, vectors, strict=True)
        ]
        self._memory.update(rows)
        if self._connection is not None:
            with self._connection:
                self._connection.executemany(
                    "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                    [(key, vector.tobytes()) for key, vector in rows],
                )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


class _RecordingEmbedder:
    """Stands in during the first pass, to learn which texts ``document_prepare`` embeds."""

    def __init__(self, model: Embedder) -> None:
        self.name, self.dimension, self.max_tokens = model.name, model.dimension, model.max_tokens
        self._model = model
        self.texts: list[str] = []

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._model.count_tokens(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return np.zeros((len(texts), self.dimension), dtype=np.float32)


class _CachedEmbedder:
    """Serves vectors from the cache, embedding (and caching) anything it has not seen."""

    def __init__(self, model: Embedder, cache: EmbeddingCache) -> None:
        self.name, self.dimension, self.max_tokens = model.name, model.dimension, model.max_tokens
        self._model, self._cache = model, cache
        self.model = model
        self.computed = 0
        self.cached = 0
        self.computed_for_corpus = 0
        self.cached_for_corpus = 0

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._model.count_tokens(texts)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        found = self._cache.get_many(texts)
        self.cached += len(found)
        missing = list(dict.fromkeys(text for text in texts if text not in found))
        step = 256
        for start in tqdm(range(0, len(missing), step), desc="embedding", unit="batch", disable=not progress):
            batch = missing[start : start + step]
            vectors = self._model.embed(batch)
            self._cache.put_many(batch, vectors)
            found.update(zip(batch, vectors, strict=True))
        self.computed += len(missing)
        return np.vstack([found[text] for text in texts]).astype(np.float32, copy=False)


# -- backends ------------------------------------------------------------------------------------------
@contextmanager
def throwaway_backend(name: BackendName, *, dimension: int, model_name: str | None = None) -> Iterator[SearchBackend]:
    """An empty index of the named backend that disappears afterwards; never the configured live one.
    ``dimension``: the embedder's (Elasticsearch maps its vector field with it); ``model_name``: the
    embedder's name, which picks the fusion profile (default: the configured ``EMBEDDING_MODEL``)."""
    fusion_profile = fusion_profile_for(model_name or settings.EMBEDDING_MODEL)
    if name == "embedded":
        from ingestion.search.embedded import EmbeddedSearchBackend

        work = settings.DATA_DIR / "evaluation"
        work.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work) as folder:
            yield EmbeddedSearchBackend(
                Path(folder) / "index.sqlite3",
                candidates=settings.SEARCH_CANDIDATES,
                embedding_languages=settings.SEARCH_EMBEDDING_LANGUAGES,
                fusion_profile=fusion_profile,
            )
        return
    from ingestion.search.elastic import ElasticsearchBackend, elasticsearch_client

    if not settings.ELASTICSEARCH_URL:
        raise ValueError("--backend elasticsearch needs ELASTICSEARCH_URL")
    client = elasticsearch_client()
    alias = f"faro-evaluation-{uuid.uuid4().hex[:8]}"
    backend = ElasticsearchBackend(
        client,
        alias=alias,
        dimension=dimension,
        candidates=settings.SEARCH_CANDIDATES,
        embedding_languages=settings.SEARCH_EMBEDDING_LANGUAGES,
        fusion_profile=fusion_profile,
    )
    try:
        yield backend
    finally:
        backend.drop()


# -- the evaluation ------------------------------------------------------------------------------------
def dataset_index(*, dataset: BeirDataset, backend: SearchBackend, embedder: _CachedEmbedder, progress: bool) -> int:
    """Index every corpus entry as one public document; returns the number of chunks written."""
    from ingestion.prepare import document_prepare

    documents = [
        ParsedDocument(blocks=(Block(text=entry.text),), title=entry.title) if entry.text.strip() else None
        for entry in dataset.corpus
    ]
    recorder = _RecordingEmbedder(embedder.model)
    for document_id, (entry, parsed) in enumerate(zip(dataset.corpus, documents, strict=True), start=1):
        if parsed is not None:
            document_prepare(parsed, document_id=document_id, title=entry.title, principals=PUBLIC, embedder=recorder)
    embedder.embed(recorder.texts, progress=progress)  # fills the cache in large batches
    embedder.computed_for_corpus, embedder.cached_for_corpus = embedder.computed, embedder.cached
    chunks = 0
    pairs = list(enumerate(zip(dataset.corpus, documents, strict=True), start=1))
    for document_id, (entry, parsed) in tqdm(pairs, desc="indexing", unit="doc", disable=not progress):
        if parsed is None:
            continue
        prepared = document_prepare(
            parsed, document_id=document_id, title=entry.title, principals=PUBLIC, embedder=embedder
        )
        backend.upsert(document_id, prepared.indexed)
        chunks += len(prepared.indexed)
    return chunks


def retrieval_evaluate(
    *,
    directory: Path,
    mode: SearchMode = "hybrid",
    backend_name: BackendName = "embedded",
    k: int = 10,
    embedding_cache: Path | None = None,
    progress: bool = False,
    model: Embedder | None = None,
) -> RetrievalReport:
    """``model``: the embedder to evaluate; the configured one unless given."""
    dataset = beir_load(directory)
    model = model or get_embedder()
    cache = EmbeddingCache(model.name, embedding_cache)
    embedder = _CachedEmbedder(model, cache)
    try:
        with throwaway_backend(backend_name, dimension=model.dimension, model_name=model.name) as backend:
            started = time.perf_counter()
            chunks = dataset_index(dataset=dataset, backend=backend, embedder=embedder, progress=progress)
            index_seconds = time.perf_counter() - started

            query_ids = list(dataset.queries)
            vectors = embedder.embed([dataset.queries[query_id] for query_id in query_ids])
            depth = max(CHUNK_DEPTH, 3 * k)
            rankings: dict[str, list[str]] = {}
            timings: list[float] = []
            for query_id, vector in zip(query_ids, vectors, strict=True):
                started = time.perf_counter()
                hits = backend.search(dataset.queries[query_id], vector, principals=PUBLIC, k=depth, mode=mode)
                timings.append(1000 * (time.perf_counter() - started))
                ranked = list(dict.fromkeys(dataset.corpus[hit.document_id - 1].corpus_id for hit in hits))
                rankings[query_id] = ranked
    finally:
        cache.close()

    def mean(metric: Callable[[Sequence[str], dict[str, int], int], float], cutoff: int) -> float:
        values = [metric(rankings[q], dataset.judgements[q], cutoff) for q in query_ids]
        return round(float(np.mean(values)) if values else 0.0, 4)

    metrics = {
        f"ndcg@{k}": mean(ndcg_at, k),
        f"recall@{k}": mean(recall_at, k),
        f"recall@{RECALL_DEPTH}": mean(recall_at, RECALL_DEPTH),
        f"mrr@{k}": mean(mrr_at, k),
    }
    checks = judgements_check(dataset, directory)
    ndcg = {query_id: round(ndcg_at(rankings[query_id], dataset.judgements[query_id], k), 4) for query_id in query_ids}
    per_query = [
        {
            "query": query_id,
            f"ndcg@{k}": ndcg[query_id],
            "first_relevant_rank": first_relevant_rank(rankings[query_id], dataset.judgements[query_id]),
            "judged": sorted(doc for doc, grade in dataset.judgements[query_id].items() if grade > 0),
            "ranked": rankings[query_id][:k],
            **({"judgement_check": checks[query_id]} if checks else {}),
        }
        for query_id in query_ids
    ]
    by_check: dict[str, dict[str, float]] = {}
    for check in sorted(set(checks.values())):
        values = [ndcg[query_id] for query_id in query_ids if checks[query_id] == check]
        by_check[check] = {"queries": len(values), f"ndcg@{k}": round(float(np.mean(values)), 4)}
    return RetrievalReport(
        dataset=dataset.name,
        backend=backend_name,
        mode=mode,
        k=k,
        metrics=metrics,
        docs=len(dataset.corpus),
        chunks=chunks,
        queries=len(query_ids),
        index_seconds=round(index_seconds, 1),
        query_ms_p50=round(percentile(timings, 0.5), 2),
        query_ms_p95=round(percentile(timings, 0.95), 2),
        embedding_model=model.name,
        embeddings_computed=embedder.computed_for_corpus,
        embeddings_cached=embedder.cached_for_corpus,
        by_judgement_check=by_check,
        per_query=per_query,
    )
