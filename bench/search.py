"""Search latency and memory at scale: synthetic corpora of 10k, 100k (and, on request, 1M) chunks.

    .venv/bin/python bench/search.py [--sizes 10000 100000] [--queries 200] [--rebuild]

Each corpus has realistic text (~150 words a chunk, drawn with their real frequencies from the
vocabulary of ../shared/datasets, 20 chunks a document) and random 384-dim unit vectors (latency does not
depend on what vectors mean). Queries are 3-8 words drawn from the same vocabulary, favouring mid-frequency
words as people's questions do. Indexes are built once under var/bench/search/ through the backend's own
``upsert`` and reused (``--rebuild`` starts again).

For each size it prints, for the embedded backend, hybrid / BM25 / dense query latency p50 and p95
(k=5, ``SEARCH_CANDIDATES`` deep), the same for a user who may see a tenth of the chunks, the time to
load the vectors after a write, and resident memory; and a baseline: a brute-force lexical scan (SQLite
``instr`` over every chunk's text, what search costs without the full-text index) with its ratio to FTS5.
Only the embedded backend is measured (no Elasticsearch server runs here). Figures are printed, never
asserted; on a shared machine they move with its load, printed at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from django.conf import settings  # noqa: E402

from ingestion.search import IndexedChunk  # noqa: E402
from ingestion.search.embedded import EmbeddedSearchBackend  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
WORK = ROOT / "var" / "bench" / "search"
DIMENSION = 384
WORDS_PER_CHUNK = 150
CHUNKS_PER_DOCUMENT = 20
PUBLIC = frozenset({"public"})
RESTRICTED = frozenset({"group:tenth"})  # sees every tenth document


def vocabulary() -> tuple[list[str], np.ndarray]:
    counts: Counter[str] = Counter()
    for name in ("scifact", "conditionalqa"):
        with (DATASETS / name / "corpus.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                counts.update(re.findall(r"[a-z]+", f"{row['title']} {row['text']}".lower()))
    words = [word for word, count in counts.most_common() if count >= 2]
    frequencies = np.array([counts[word] for word in words], dtype=np.float64)
    return words, frequencies / frequencies.sum()


def rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


def build(path: Path, size: int, words: list[str], p: np.ndarray, rebuild: bool) -> EmbeddedSearchBackend:
    if rebuild:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    backend = EmbeddedSearchBackend(path, candidates=settings.SEARCH_CANDIDATES, embedding_languages=None)
    with backend._connection() as connection:
        present = connection.execute("SELECT count(*) FROM chunks").fetchone()[0]
    if present >= size:
        return backend
    rng = np.random.default_rng(size)
    started = time.monotonic()
    vocabulary_array = np.array(words)
    for document_id in range(present // CHUNKS_PER_DOCUMENT + 1, size // CHUNKS_PER_DOCUMENT + 1):
        tokens = vocabulary_array[rng.choice(len(words), size=(CHUNKS_PER_DOCUMENT, WORDS_PER_CHUNK), p=p)]
        vectors = rng.standard_normal((CHUNKS_PER_DOCUMENT, DIMENSION)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        principals = PUBLIC | (RESTRICTED if document_id % 10 == 0 else frozenset())
        chunks = [
            IndexedChunk(
                chunk_id=f"{document_id}-{i}",
                document_id=document_id,
                title=f"Document {document_id}",
                section=" ".join(tokens[i, :4]),
                text=" ".join(tokens[i]),
                page_start=None,
                page_end=None,
                language="en",
                principals=principals,
                vector=vectors[i],
            )
            for i in range(CHUNKS_PER_DOCUMENT)
        ]
        backend.upsert(document_id, chunks)
        if document_id % 500 == 0:
            done = document_id * CHUNKS_PER_DOCUMENT
            print(f"  built {done:,}/{size:,} chunks ({time.monotonic() - started:.0f} s)", flush=True)
    print(f"  built {size:,} chunks in {time.monotonic() - started:.0f} s")
    return backend


def queries(words: list[str], p: np.ndarray, count: int) -> list[str]:
    rng = random.Random(7)
    # Mid-frequency words: skip the 50 most common, favour the next few thousand.
    pool = words[50:5000]
    return [" ".join(rng.sample(pool, rng.randint(3, 8))) for _ in range(count)]


def timed(function, items) -> tuple[float, float, float]:
    """Wall-clock p50 and p95, and the median CPU time (all threads of this process): on a shared machine
    the wall clock includes waiting for a core, CPU time much less so."""
    timings, cpu = [], []
    for item in items:
        started, started_cpu = time.perf_counter(), time.process_time()
        function(item)
        timings.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.process_time() - started_cpu))
    return float(np.percentile(timings, 50)), float(np.percentile(timings, 95)), float(np.percentile(cpu, 50))


def text_scan(path: Path, query: str) -> list[int]:
    """Baseline: what lexical search costs without the index: every chunk's text scanned for the terms
    (all matches, as ranking needs them all; the scoring itself is not even counted)."""
    connection = sqlite3.connect(path)
    terms = query.split()
    where = " OR ".join("instr(text, ?) > 0" for _ in terms)
    rows = connection.execute(f"SELECT rowid FROM chunks WHERE {where}", terms).fetchall()
    connection.close()
    return [row[0] for row in rows]


def measure(size: int, words: list[str], p: np.ndarray, pairs: list[tuple[str, np.ndarray]], rebuild: bool) -> dict:
    print(f"\n== {size:,} chunks")
    path = WORK / f"embedded-{size}.sqlite3"
    before = rss_mib()
    backend = build(path, size, words, p, rebuild)
    started = time.perf_counter()
    backend.search(pairs[0][0], pairs[0][1], principals=PUBLIC, k=5)
    first = 1000 * (time.perf_counter() - started)
    resident = rss_mib() - before
    figures: dict = {"size": size, "first_query_ms (loads vectors)": round(first, 1), "resident_mib": round(resident)}
    for label, principals in (("all", PUBLIC), ("tenth", RESTRICTED)):
        for mode in ("hybrid", "bm25", "dense"):
            if label == "tenth" and mode != "hybrid":
                continue
            p50, p95, cpu = timed(
                lambda pair, m=mode, pr=principals: backend.search(pair[0], pair[1], principals=pr, k=5, mode=m),
                pairs,
            )
            figures[f"{mode}_{label}_p50_ms"] = round(p50, 2)
            figures[f"{mode}_{label}_p95_ms"] = round(p95, 2)
            figures[f"{mode}_{label}_cpu_p50_ms"] = round(cpu, 2)
    scan_p50, scan_p95, _scan_cpu = timed(lambda pair: text_scan(path, pair[0]), pairs[: max(10, len(pairs) // 10)])
    figures["baseline_text_scan_p50_ms"] = round(scan_p50, 2)
    figures["baseline_text_scan_p95_ms"] = round(scan_p95, 2)
    figures["bm25_speedup_over_scan_p50"] = round(scan_p50 / max(figures["bm25_all_p50_ms"], 1e-6), 1)
    figures["index_file_mib"] = round(path.stat().st_size / 2**20)
    for key, value in figures.items():
        print(f"  {key:<34} {value}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    words, p = vocabulary()
    texts = queries(words, p, args.queries)
    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((len(texts), DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pairs = list(zip(texts, vectors, strict=True))
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start")
    print(f"vocabulary {len(words):,} words; {len(texts)} queries of 3-8 words; k=5, {settings.SEARCH_CANDIDATES} deep")
    results = [measure(size, words, p, pairs, args.rebuild) for size in args.sizes]
    if len(results) > 1:
        small, large = results[0], results[-1]
        growth = large["size"] / small["size"]
        print(f"\ngrowth {small['size']:,} -> {large['size']:,} chunks (x{growth:.0f}):")
        keys = ("hybrid_all_p95_ms", "hybrid_all_cpu_p50_ms", "bm25_all_cpu_p50_ms", "dense_all_cpu_p50_ms")
        for key in (*keys, "baseline_text_scan_p50_ms"):
            print(f"  {key:<34} x{large[key] / max(small[key], 1e-6):.1f}")
    load = os.getloadavg()
    print(f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end")


if __name__ == "__main__":
    main()
