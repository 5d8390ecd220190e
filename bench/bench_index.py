"""Throwaway embedded indexes for the benchmarks, built with the serving code (``document_prepare``) under
``var/bench/`` and reused between runs. The passage vectors computed while indexing are kept beside the
index and seeded into the evidence cache, so the benchmarks do not embed passages twice."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from chatbot.rag.evidence import remember_passage_vectors
from ingestion.embed import get_embedder
from ingestion.parsers import ParsedDocument, parse_file
from ingestion.prepare import document_prepare
from ingestion.search.embedded import EmbeddedSearchBackend

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
PUBLIC = frozenset({"public"})


def build_index(path: Path, documents: list[tuple[str, ParsedDocument]], *, reindex: bool) -> EmbeddedSearchBackend:
    vectors_path = path.with_suffix(".vectors.npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    model = get_embedder().name
    if vectors_path.exists():
        with np.load(vectors_path) as kept:
            # An index another embedding model built (MiniLM was the default before issue 14) is rebuilt: its
            # vectors cannot be compared with this model's questions.
            reindex = reindex or ("model" not in kept.files or str(kept["model"]) != model)
    if reindex:
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), vectors_path):
            stale.unlink(missing_ok=True)
    backend = EmbeddedSearchBackend(path)
    if not vectors_path.exists():
        backend.clear()
        started = time.monotonic()
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        for document_id, (title, parsed) in enumerate(documents, start=1):
            prepared = document_prepare(parsed, document_id=document_id, title=title, principals=PUBLIC)
            backend.upsert(document_id, prepared.indexed)
            ids.extend(chunk.chunk_id for chunk in prepared.indexed)
            vectors.extend(chunk.vector for chunk in prepared.indexed)
        np.savez(vectors_path, ids=np.array(ids), vectors=np.vstack(vectors), model=np.array(model))
        print(
            f"indexed {len(documents)} documents ({len(ids)} chunks) into {path.name} in "
            f"{time.monotonic() - started:.0f} s",
            flush=True,
        )
    stored = np.load(vectors_path)
    remember_passage_vectors(model, [str(i) for i in stored["ids"]], stored["vectors"])
    return backend


def demo_index(*, reindex: bool = False) -> EmbeddedSearchBackend:
    """The demo company's twelve documents, all public (the benchmarks ask as someone who sees them all)."""
    demo_dir = ROOT / "demo"
    manifest = json.loads((demo_dir / "manifest.json").read_text(encoding="utf-8"))
    documents = [(entry["title"], parse_file(demo_dir / "corpus" / entry["file"])) for entry in manifest]
    return build_index(WORK / "demo.sqlite3", documents, reindex=reindex)
