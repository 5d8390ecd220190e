"""Embedded search backend: one SQLite file beside the database, no server.

- **Lexical**: SQLite FTS5 BM25 over text analysed per language (``ingestion.search.analysis``): each
  analysis has its own pair of columns (``<analysis>_head`` = title and section, ``<analysis>_body`` = text)
  holding stemmed, stop-word-free, accent-folded tokens; a chunk fills only the pair of its language, and
  the query is analysed once per pair, so Spanish text meets Spanish stems and English text English ones.
- **Vectors**: float32 rows held in memory, loaded lazily and *incrementally* when another writer changed
  the index (rowids only grow, so a new version costs the new rows, not a reload), ranked by exact cosine.
- **Access**: per-principal row sets cached per index version; a query ORs its principals' sets into one
  mask that filters both lists before ranking. A search reads one SQLite transaction and uses the in-memory
  snapshot of exactly that transaction's version (immutable; the shared one only moves forward), and a
  rowid is mapped to a row only when the snapshot holds it (tests/ingestion/test_search_embedded_concurrency.py).
- **Fusion**: ``ingestion.search.fusion.fuse``, shared with the Elasticsearch backend.

Writes are one SQLite transaction each, bumping ``meta.version``; a search reads one snapshot for both lists.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from ingestion.language import detect_language
from ingestion.search.analysis import ANALYSES, analysis_for, analyze, query_terms, signature
from ingestion.search.base import IndexedChunk, SearchHit, SearchMode
from ingestion.search.fusion import (
    DEFAULT_FUSION_PROFILE,
    Candidates,
    FusionProfile,
    fuse,
    fusion_profile_for,
    fusion_weights,
)

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
# Relative weight of a term in the title/section over one in the text (FTS5 bm25 column weights).
HEAD_WEIGHT = 1.0
BODY_WEIGHT = 1.0
_UNION_CACHE_SIZE = 64
# In an index large enough that this share of its chunks is at least this many, query terms in more than
# that share are left out of BM25; see ``EmbeddedSearchBackend._without_frequent_terms``.
FREQUENT_TERM_SHARE = 0.05
FREQUENT_TERM_ROWS = 2_000
MIN_QUERY_TERMS = 2

_FTS_COLUMNS = [f"{analysis}_{part}" for analysis in ANALYSES for part in ("head", "body")]
_FTS_WEIGHTS = ", ".join(str(weight) for _ in ANALYSES for weight in (HEAD_WEIGHT, BODY_WEIGHT))

_CHUNKS_TABLE = """
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT NOT NULL UNIQUE,
    document_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    section TEXT NOT NULL,
    text TEXT NOT NULL,
    page_start INTEGER,
    page_end INTEGER,
    language TEXT NOT NULL,
    vector BLOB NOT NULL
)"""
_SCHEMA = f"""
{_CHUNKS_TABLE};
CREATE INDEX IF NOT EXISTS chunks_document ON chunks (document_id);
CREATE INDEX IF NOT EXISTS chunks_language ON chunks (language);
CREATE TABLE IF NOT EXISTS chunk_principals (
    chunk_rowid INTEGER NOT NULL REFERENCES chunks (rowid) ON DELETE CASCADE,
    principal TEXT NOT NULL,
    PRIMARY KEY (principal, chunk_rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chunk_principals_rowid ON chunk_principals (chunk_rowid);
"""
# The tokens are already analysed; unicode61 only splits them on the spaces between them.
_FTS_SCHEMA = (
    f"CREATE VIRTUAL TABLE chunks_fts USING fts5 ({', '.join(_FTS_COLUMNS)}, tokenize='unicode61 remove_diacritics 0')"
)
_FTS_RANK = f"bm25({_FTS_WEIGHTS})"


def fts_document(title: str, section: str, text: str, language: str) -> dict[str, str]:
    """The FTS5 column values of one chunk: only its analysis' pair is filled."""
    analysis = analysis_for(language)
    values = dict.fromkeys(_FTS_COLUMNS, "")
    values[f"{analysis}_head"] = " ".join(analyze(f"{title} {section}", analysis))
    values[f"{analysis}_body"] = " ".join(analyze(text, analysis))
    return values


def query_groups(text: str, *, language: str, analyses: Sequence[str] = ANALYSES) -> dict[str, list[str]]:
    """The query's terms for each analysis' columns (empty analyses left out)."""
    groups = {analysis: query_terms(text, query_language=language, analysis=analysis) for analysis in analyses}
    return {analysis: terms for analysis, terms in groups.items() if terms}


def fts_match(groups: dict[str, list[str]]) -> str:
    """An FTS5 OR query, each analysis' terms restricted to its columns. Every term is quoted and made of
    letters and digits only, so user text is never FTS5 syntax."""
    return " OR ".join(
        f"{{{analysis}_head {analysis}_body}} : ({' OR '.join(f'{chr(34)}{term}{chr(34)}' for term in terms)})"
        for analysis, terms in groups.items()
    )


def fts_query(text: str, *, language: str = "es", analyses: Sequence[str] = ANALYSES) -> str:
    return fts_match(query_groups(text, language=language, analyses=analyses))


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


@cache
def _scans_for(pid: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="faro-vectors")


def _scans() -> ThreadPoolExecutor:
    """One small pool per process: a forked child (a prefork worker) must not inherit its parent's threads."""
    return _scans_for(os.getpid())


def _cosines(matrix: np.ndarray, query_vector: np.ndarray) -> np.ndarray:
    """Exact cosine of every row (vectors are unit length). Memory-bound: one BLAS thread is as fast as two
    (measured: 12 vs 16 ms at 100k x 384), and OpenBLAS threads left spinning after it slowed the BM25 query
    beside it by half."""
    with _blas().limit(limits=1, user_api="blas"):
        return matrix @ np.asarray(query_vector, dtype=np.float32)


def _fitted(blob: bytes, width: int) -> np.ndarray:
    vector = np.frombuffer(blob, dtype=np.float32)
    return vector if len(vector) == width else np.zeros(width, dtype=np.float32)


@dataclass(frozen=True)
class _Snapshot:
    """The vectors and access sets of exactly one index version, never changed once built (a newer version
    gets a new snapshot). ``rowids`` is sorted; row i of ``matrix`` is its vector; both are read-only arrays.
    The access caches hold only sets read in a transaction of this same version."""

    version: int
    rowids: np.ndarray
    matrix: np.ndarray
    analyses: tuple[str, ...] = ANALYSES  # those some chunk uses: a query skips the others' columns
    principal_rows: dict[str, np.ndarray] = field(default_factory=dict)
    union_masks: OrderedDict[frozenset[str], np.ndarray] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.rowids.flags.writeable = False
        self.matrix.flags.writeable = False

    def positions(self, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each rowid sits in this snapshot, and whether it is there at all: a rowid the snapshot
        lacks must never borrow the position of the row after it."""
        positions = np.searchsorted(self.rowids, rowids)
        inside = positions < len(self.rowids)
        present = np.zeros(len(rowids), dtype=bool)
        present[inside] = self.rowids[positions[inside]] == rowids[inside]
        return np.where(present, positions, 0), present


def _empty_snapshot() -> _Snapshot:
    return _Snapshot(-1, np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))


class EmbeddedSearchBackend:
    def __init__(
        self,
        path: Path,
        *,
        candidates: int = 50,
        embedding_languages: frozenset[str] | None = None,
        fusion_profile: FusionProfile = DEFAULT_FUSION_PROFILE,
    ) -> None:
        """``candidates``: depth of each list before fusion. ``embedding_languages``: the languages the
        embedding model understands (``None``: any) and ``fusion_profile`` the model's fusion weights
        (``fusion_profile_for``), which set how much fusion trusts vectors."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.candidates = candidates
        self.embedding_languages = embedding_languages
        self.fusion_profile = fusion_profile
        self._local = threading.local()
        self._lock = threading.Lock()
        self._snapshot = _empty_snapshot()
        self._ensure_schema()

    @classmethod
    def from_settings(cls) -> EmbeddedSearchBackend:
        from django.conf import settings

        return cls(
            settings.EMBEDDED_INDEX_PATH,
            candidates=settings.SEARCH_CANDIDATES,
            embedding_languages=settings.SEARCH_EMBEDDING_LANGUAGES,
            fusion_profile=fusion_profile_for(settings.EMBEDDING_MODEL),
        )

    # -- connections and schema ------------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA busy_timeout=30000")
            # FULL, not WAL's usual NORMAL: a document is marked indexed in the Django database by a synced
            # commit just after its chunks are written here, so an OS crash or power loss must not keep that
            # mark while losing the chunks (recovery would not redo a document that reads "indexed"). With
            # batched writes it costs one sync per batch.
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab USING fts5vocab(main, chunks_fts, 'col')"
            )
            self._local.connection = connection
        yield connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def _ensure_schema(self) -> None:
        # Its own connection: a table rebuild needs foreign keys off, which cannot change inside a transaction.
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA busy_timeout=30000")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value NOT NULL)")
            connection.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('version', 0)")
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "chunks" in tables and meta.get("schema") is None:
                self._migrate_from_v1(connection)
            for statement in _SCHEMA.split(";"):  # not executescript: it would commit this transaction
                connection.execute(statement)
            if meta.get("analysis") != signature() or "chunks_fts" not in tables:
                self._rebuild_fts(connection)
            connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
            connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('analysis', ?)", (signature(),))
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    @staticmethod
    def _migrate_from_v1(connection: sqlite3.Connection) -> None:
        """Schema 1 could reuse rowids; schema 2 never does (AUTOINCREMENT), which incremental vector
        loading relies on. Rows keep their rowids, so their principals stay attached (foreign keys are off
        on this connection, so dropping the old table cascades nothing)."""
        logger.info("migrating the embedded search index to schema %s", SCHEMA_VERSION)
        connection.execute("DROP TABLE IF EXISTS chunks_fts")
        connection.execute(_CHUNKS_TABLE.replace("chunks (", "chunks_v2 (", 1))
        connection.execute("INSERT INTO chunks_v2 SELECT * FROM chunks")
        connection.execute("DROP TABLE chunks")
        connection.execute("ALTER TABLE chunks_v2 RENAME TO chunks")
        connection.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")

    @staticmethod
    def _rebuild_fts(connection: sqlite3.Connection) -> None:
        """(Re)build the full-text table from the stored chunks: on creation and whenever analysis changed."""
        connection.execute("DROP TABLE IF EXISTS chunks_fts")
        connection.execute(_FTS_SCHEMA)
        marks = ", ".join("?" * (len(_FTS_COLUMNS) + 1))
        insert = f"INSERT INTO chunks_fts (rowid, {', '.join(_FTS_COLUMNS)}) VALUES ({marks})"
        for rowid, title, section, text, language in connection.execute(
            "SELECT rowid, title, section, text, language FROM chunks"
        ):
            connection.execute(insert, (rowid, *fts_document(title, section, text, language).values()))
        connection.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")

    # -- writes ----------------------------------------------------------------------------------
    def upsert(self, document_id: int, chunks: Sequence[IndexedChunk]) -> None:
        self.upsert_many([(document_id, chunks)])

    def upsert_many(self, documents: Sequence[tuple[int, Sequence[IndexedChunk]]]) -> None:
        """Every document's chunks replaced in one transaction: the pipeline writes a batch of documents
        with one commit, and searches load one new version instead of one per document."""
        for document_id, chunks in documents:
            for chunk in chunks:
                if chunk.document_id != document_id:
                    raise ValueError(f"chunk {chunk.chunk_id} belongs to document {chunk.document_id}")
        # Analysis happens before the write lock is taken, so other writers wait only for the inserts.
        analysed = [
            [fts_document(c.title, c.section, c.text, c.language) for c in chunks] for _document_id, chunks in documents
        ]
        marks = ", ".join("?" * (len(_FTS_COLUMNS) + 1))
        insert_fts = f"INSERT INTO chunks_fts (rowid, {', '.join(_FTS_COLUMNS)}) VALUES ({marks})"
        with self._write() as connection:
            for (document_id, chunks), fts_rows in zip(documents, analysed, strict=True):
                self._delete_rows(connection, document_id)
                for chunk, fts_row in zip(chunks, fts_rows, strict=True):
                    cursor = connection.execute(
                        "INSERT INTO chunks (chunk_id, document_id, title, section, text, page_start, page_end,"
                        " language, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            chunk.chunk_id,
                            document_id,
                            chunk.title,
                            chunk.section,
                            chunk.text,
                            chunk.page_start,
                            chunk.page_end,
                            chunk.language,
                            np.asarray(chunk.vector, dtype=np.float32).tobytes(),
                        ),
                    )
                    rowid = cursor.lastrowid
                    connection.execute(insert_fts, (rowid, *fts_row.values()))
                    connection.executemany(
                        "INSERT INTO chunk_principals (chunk_rowid, principal) VALUES (?, ?)",
                        [(rowid, principal) for principal in sorted(chunk.principals)],
                    )

    def delete(self, document_id: int) -> None:
        with self._write() as connection:
            self._delete_rows(connection, document_id)

    def set_principals(self, document_id: int, principals: frozenset[str]) -> None:
        with self._write() as connection:
            rowids = [
                row[0] for row in connection.execute("SELECT rowid FROM chunks WHERE document_id = ?", (document_id,))
            ]
            connection.executemany("DELETE FROM chunk_principals WHERE chunk_rowid = ?", [(rowid,) for rowid in rowids])
            connection.executemany(
                "INSERT INTO chunk_principals (chunk_rowid, principal) VALUES (?, ?)",
                [(rowid, principal) for rowid in rowids for principal in sorted(principals)],
            )

    def clear(self) -> None:
        with self._write() as connection:
            connection.execute("DELETE FROM chunk_principals")
            connection.execute("DELETE FROM chunks")
            connection.execute("DELETE FROM chunks_fts")

    @staticmethod
    def _delete_rows(connection: sqlite3.Connection, document_id: int) -> None:
        connection.execute(
            "DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE document_id = ?)", (document_id,)
        )
        connection.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))

    # -- reads -----------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        query_vector: np.ndarray,
        *,
        principals: frozenset[str],
        k: int,
        mode: SearchMode = "hybrid",
    ) -> list[SearchHit]:
        if not principals or k <= 0:
            return []
        language = detect_language(query)
        with self._connection() as connection:
            snapshot = self._begin(connection)  # one read transaction for both lists and the hits
            try:
                allowed = self._allowed(connection, snapshot, principals)
                if not allowed.any():
                    return []
                candidates = self.candidates_for(
                    connection,
                    snapshot,
                    allowed,
                    query,
                    language,
                    query_vector,
                    depth=max(k, self.candidates),
                    mode=mode,
                )
                weights = fusion_weights(
                    query=query,
                    query_language=language,
                    embedding_languages=self.embedding_languages,
                    profile=self.fusion_profile,
                )
                if mode == "hybrid":
                    candidates = replace(candidates, languages=self._languages(connection, candidates))
                fused = fuse(candidates, weights=weights, mode=mode)[:k]
                return self._hits(connection, snapshot, fused)
            finally:
                connection.execute("COMMIT")

    @staticmethod
    def _languages(connection: sqlite3.Connection, candidates: Candidates[int]) -> dict[int, str]:
        """The language of every candidate chunk (fusion judges a chunk in another language by its vector)."""
        rowids = list({*candidates.lexical, *candidates.semantic})
        marks = ",".join("?" * len(rowids))
        return dict(connection.execute(f"SELECT rowid, language FROM chunks WHERE rowid IN ({marks})", rowids))

    def candidates_for(
        self,
        connection: sqlite3.Connection,
        snapshot: _Snapshot,
        allowed: np.ndarray,
        query: str,
        language: str,
        query_vector: np.ndarray,
        *,
        depth: int,
        mode: SearchMode,
    ) -> Candidates[int]:
        """Both ranked lists with their raw scores (BM25, cosine), each ``depth`` deep, over allowed rows
        only; every lexical candidate also gets its exact cosine, which fusion uses when it missed the
        vector list."""
        vectors = mode != "bm25" and len(snapshot.rowids) > 0 and bool(allowed.any())
        # The vector scan runs on a second core while SQLite ranks BM25 (both release the GIL).
        pending = _scans().submit(_cosines, snapshot.matrix, query_vector) if vectors else None
        lexical: dict[int, float] = {}
        if mode != "dense":
            groups = query_groups(query, language=language, analyses=snapshot.analyses)
            groups = self._without_frequent_terms(connection, groups, rows=len(snapshot.rowids))
            lexical = self._bm25(connection, snapshot, allowed, fts_match(groups), depth)
        if pending is None:
            return Candidates(lexical=lexical, semantic={}, cosine={})
        scores = pending.result()
        ranked = np.where(allowed, scores, -np.inf)
        top = min(depth, int(allowed.sum()))
        best = np.argpartition(-ranked, top - 1)[:top]
        best = best[np.argsort(-ranked[best], kind="stable")]
        semantic = {int(snapshot.rowids[i]): float(scores[i]) for i in best}
        cosine = dict(semantic)
        if lexical:
            positions, present = snapshot.positions(np.fromiter(lexical, dtype=np.int64, count=len(lexical)))
            for rowid, position, there in zip(lexical, positions, present, strict=True):
                if there:  # always: lexical rows were kept only when allowed, so present
                    cosine.setdefault(rowid, float(scores[position]))
        return Candidates(lexical=lexical, semantic=semantic, cosine=cosine)

    @staticmethod
    def _without_frequent_terms(
        connection: sqlite3.Connection, groups: dict[str, list[str]], *, rows: int
    ) -> dict[str, list[str]]:
        """Leave out terms found in more than ``FREQUENT_TERM_SHARE`` of a large index's chunks, keeping at
        least the rarest ``MIN_QUERY_TERMS``. FTS5 BM25 costs as much as the posting lists of the query's
        terms are long (it counts them for IDF and scores every match), and these terms have the longest
        lists and the lowest weights (IDF below ~3). An index of fewer than ``FREQUENT_TERM_ROWS /
        FREQUENT_TERM_SHARE`` chunks (40,000) is never pruned, so the benchmarks are unaffected."""
        limit = FREQUENT_TERM_SHARE * rows
        if limit < FREQUENT_TERM_ROWS or not groups:
            return groups
        terms = sorted({term for group in groups.values() for term in group})
        marks = ",".join("?" * len(terms))
        frequency: dict[tuple[str, str], int] = {}
        for term, column, documents in connection.execute(
            f"SELECT term, col, doc FROM temp.chunks_vocab WHERE term IN ({marks})", terms
        ):
            analysis = column.rsplit("_", 1)[0]
            # A lower bound of the rows matching the term in the pair of columns: safe for pruning.
            frequency[analysis, term] = max(frequency.get((analysis, term), 0), documents)
        pairs = sorted(
            (
                (frequency.get((analysis, term), 0), analysis, term)
                for analysis, group in groups.items()
                for term in group
            )
        )
        kept = [pair for index, pair in enumerate(pairs) if pair[0] <= limit or index < MIN_QUERY_TERMS]
        pruned: dict[str, list[str]] = {}
        for _count, analysis, term in kept:
            pruned.setdefault(analysis, []).append(term)
        return pruned

    def _bm25(
        self, connection: sqlite3.Connection, snapshot: _Snapshot, allowed: np.ndarray, match: str, depth: int
    ) -> dict[int, float]:
        """The ``depth`` best allowed rows by BM25. FTS5 ranks every row; a restricted user's rows are
        picked from a deeper list, deepened until enough are found or the matches run out."""
        if not match or not len(snapshot.rowids):
            return {}
        share = max(float(allowed.mean()), 1e-4)
        limit = math.ceil(depth / share * 1.2) + 10
        while True:
            rows = connection.execute(
                f"SELECT rowid, -rank FROM chunks_fts WHERE chunks_fts MATCH ? AND rank MATCH '{_FTS_RANK}'"
                " ORDER BY rank LIMIT ?",
                (match, limit),
            ).fetchall()
            if not rows:
                return {}
            rowids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            positions, present = snapshot.positions(rowids)
            keep = present & allowed[positions]
            found = {int(rowid): float(row[1]) for rowid, row, ok in zip(rowids, rows, keep, strict=True) if ok}
            if len(found) >= depth or len(rows) < limit:
                return dict(list(found.items())[:depth])
            limit *= 4

    # -- snapshot of vectors and access sets -------------------------------------------------------
    def _begin(self, connection: sqlite3.Connection) -> _Snapshot:
        """Open the read transaction of a search and return the snapshot of exactly the version it reads.

        The shared snapshot only moves forward: a transaction that reads an older version than the one held
        (it began before a write that another search has already loaded) ends and reads again, which sees at
        least the held version. Loading forward from an older snapshot is exact (rowids only grow, so the
        rows to add are those past the newest one held); loading backwards is not, so it never happens."""
        for attempt in range(3):
            connection.execute("BEGIN")
            try:
                version = connection.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
                with self._lock:
                    held = self._snapshot
                    if held.version == version:
                        return held
                    if held.version < version or attempt == 2:
                        # attempt 2: the version went back (the index file was replaced): load it whole.
                        base = held if held.version < version else _empty_snapshot()
                        snapshot = self._snapshot = self._refresh(connection, base, version)
                        return snapshot
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        raise AssertionError("unreachable: the third attempt always loads")

    @staticmethod
    def _refresh(connection: sqlite3.Connection, previous: _Snapshot, version: int) -> _Snapshot:
        present = np.array(
            [row[0] for row in connection.execute("SELECT rowid FROM chunks ORDER BY rowid")], dtype=np.int64
        )
        known = previous.rowids
        keep = np.isin(known, present, assume_unique=True)
        newest = int(known[-1]) if len(known) else 0
        # Rowids only grow (AUTOINCREMENT): the rows to load are exactly those past the newest one held.
        rows = connection.execute(
            "SELECT rowid, vector FROM chunks WHERE rowid > ? ORDER BY rowid", (newest,)
        ).fetchall()
        fresh_ids = np.array([row[0] for row in rows], dtype=np.int64)
        kept = previous.matrix[keep] if len(known) else np.zeros((0, 0), dtype=np.float32)
        width = len(rows[-1][1]) // 4 if rows else kept.shape[1]
        if rows and all(len(row[1]) == 4 * width for row in rows):
            fresh = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32).reshape(len(rows), width)
        else:
            fresh = np.vstack([_fitted(row[1], width) for row in rows]) if rows else np.zeros((0, width), np.float32)
        if len(kept) and kept.shape[1] != width:
            # The embedding model changed dimension (a reindex is under way): rows of the old model cannot
            # be compared with the new query vectors and score 0 until they are re-embedded.
            kept = np.zeros((len(kept), width), dtype=np.float32)
        matrix = np.concatenate([kept.reshape(len(kept), width), fresh]) if len(kept) or len(fresh) else kept
        rowids = np.concatenate([known[keep], fresh_ids])
        languages = [row[0] for row in connection.execute("SELECT DISTINCT language FROM chunks")]
        analyses = tuple(analysis for analysis in ANALYSES if analysis in {analysis_for(lang) for lang in languages})
        return _Snapshot(version, rowids, np.ascontiguousarray(matrix, dtype=np.float32), analyses)

    def _allowed(self, connection: sqlite3.Connection, snapshot: _Snapshot, principals: frozenset[str]) -> np.ndarray:
        """A boolean mask over the snapshot's rows: visible to any of the principals. Cached per version."""
        with self._lock:
            cached = snapshot.union_masks.get(principals)
            if cached is not None:
                snapshot.union_masks.move_to_end(principals)
                return cached
        mask = np.zeros(len(snapshot.rowids), dtype=bool)
        for principal in principals:
            rows = snapshot.principal_rows.get(principal)
            if rows is None:
                rowids = np.array(
                    [
                        row[0]
                        for row in connection.execute(
                            "SELECT chunk_rowid FROM chunk_principals WHERE principal = ?", (principal,)
                        )
                    ],
                    dtype=np.int64,
                )
                positions, present = snapshot.positions(rowids)
                rows = positions[present]
                with self._lock:
                    snapshot.principal_rows[principal] = rows
            mask[rows] = True
        mask.flags.writeable = False
        with self._lock:
            snapshot.union_masks[principals] = mask
            while len(snapshot.union_masks) > _UNION_CACHE_SIZE:
                snapshot.union_masks.popitem(last=False)
        return mask

    @staticmethod
    def _hits(connection: sqlite3.Connection, snapshot: _Snapshot, fused: list[tuple[int, float]]) -> list[SearchHit]:
        if not fused:
            return []
        positions, present = snapshot.positions(np.array([rowid for rowid, _ in fused], dtype=np.int64))
        vectors = {
            rowid: snapshot.matrix[position]
            for (rowid, _), position, there in zip(fused, positions, present, strict=True)
            if there
        }
        marks = ",".join("?" * len(fused))
        rows = {
            row[0]: row
            for row in connection.execute(
                "SELECT rowid, chunk_id, document_id, title, section, text, page_start, page_end FROM chunks"
                f" WHERE rowid IN ({marks})",
                [rowid for rowid, _ in fused],
            )
        }
        return [
            SearchHit(
                chunk_id=rows[rowid][1],
                document_id=rows[rowid][2],
                score=score,
                title=rows[rowid][3],
                section=rows[rowid][4],
                text=rows[rowid][5],
                page_start=rows[rowid][6],
                page_end=rows[rowid][7],
                vector=vectors[rowid],
            )
            for rowid, score in fused
            if rowid in rows and rowid in vectors
        ]
