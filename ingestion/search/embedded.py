"""Embedded search backend: one SQLite file beside the database, no server.

BM25 comes from SQLite FTS5; vectors are float32 rows held in memory (loaded lazily, reloaded when
another process changed the index) and ranked by exact cosine similarity; both lists are filtered by
principals before ranking and fused with reciprocal rank fusion.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ingestion.search.base import IndexedChunk, SearchHit
from ingestion.search.fusion import reciprocal_rank_fusion

_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('version', 0);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    document_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    section TEXT NOT NULL,
    text TEXT NOT NULL,
    page_start INTEGER,
    page_end INTEGER,
    language TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks (document_id);
CREATE TABLE IF NOT EXISTS chunk_principals (
    chunk_rowid INTEGER NOT NULL REFERENCES chunks (rowid) ON DELETE CASCADE,
    principal TEXT NOT NULL,
    PRIMARY KEY (principal, chunk_rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chunk_principals_rowid ON chunk_principals (chunk_rowid);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5 (
    title, section, text, content='chunks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
);
"""

_TOKEN = re.compile(r"\w+", re.UNICODE)
# Function words that carry no topic in Spanish and English questions.
_STOP_WORDS = frozenset(
    """
    a al algo como con cual cuales cuando de del donde el ella ellos en era es esa ese eso esta este esto
    estas estos ha hay la las le les lo los me mi mis muy mas más no nos o os para pero por que qué quien se
    sea ser si sin sobre son su sus te tengo tiene ti tu tus un una uno unos unas y ya yo cómo cuánto cuántos
    cuántas cuál dónde puedo debo
    an and are as at be by can do does for from has have how i if in into is it its my of on or our so than
    that the their them then there these they this to was we what when where which who why will with you your
    """.split()
)


def fts_query(text: str) -> str:
    """An OR query of the question's content words, each quoted so user text is never FTS5 syntax."""
    words = [word for word in _TOKEN.findall(text.lower()) if word not in _STOP_WORDS]
    unique = list(dict.fromkeys(words))
    return " OR ".join(f'"{word}"' for word in unique)


class EmbeddedSearchBackend:
    def __init__(self, path: Path, *, candidates: int = 50) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.candidates = candidates
        self._local = threading.local()
        self._vectors_lock = threading.Lock()
        self._vectors_version = -1
        self._rowids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        with self._connection() as connection:
            connection.executescript(_SCHEMA)

    @classmethod
    def from_settings(cls) -> EmbeddedSearchBackend:
        from django.conf import settings

        return cls(settings.EMBEDDED_INDEX_PATH)

    # -- connections -----------------------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA busy_timeout=30000")
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

    # -- writes ----------------------------------------------------------------------------------
    def upsert(self, document_id: int, chunks: Sequence[IndexedChunk]) -> None:
        with self._write() as connection:
            self._delete_rows(connection, document_id)
            for chunk in chunks:
                if chunk.document_id != document_id:
                    raise ValueError(f"chunk {chunk.chunk_id} belongs to document {chunk.document_id}")
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
                connection.execute(
                    "INSERT INTO chunks_fts (rowid, title, section, text) VALUES (?, ?, ?, ?)",
                    (rowid, chunk.title, chunk.section, chunk.text),
                )
                connection.executemany(
                    "INSERT INTO chunk_principals (chunk_rowid, principal) VALUES (?, ?)",
                    [(rowid, principal) for principal in sorted(chunk.principals)],
                )

    def delete(self, document_id: int) -> None:
        with self._write() as connection:
            self._delete_rows(connection, document_id)

    def clear(self) -> None:
        with self._write() as connection:
            connection.execute("DELETE FROM chunk_principals")
            connection.execute("DELETE FROM chunks")
            connection.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('delete-all')")

    @staticmethod
    def _delete_rows(connection: sqlite3.Connection, document_id: int) -> None:
        rows = connection.execute(
            "SELECT rowid, title, section, text FROM chunks WHERE document_id = ?", (document_id,)
        ).fetchall()
        for rowid, title, section, text in rows:
            # External-content FTS5 tables are told what to forget with the original values.
            connection.execute(
                "INSERT INTO chunks_fts (chunks_fts, rowid, title, section, text) VALUES ('delete', ?, ?, ?, ?)",
                (rowid, title, section, text),
            )
        connection.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))

    # -- reads -----------------------------------------------------------------------------------
    def search(self, query: str, query_vector: np.ndarray, *, principals: frozenset[str], k: int) -> list[SearchHit]:
        if not principals or k <= 0:
            return []
        principal_list = sorted(principals)
        marks = ",".join("?" * len(principal_list))
        with self._connection() as connection:
            connection.execute("BEGIN")  # one snapshot for both lists
            try:
                allowed = {
                    row[0]
                    for row in connection.execute(
                        f"SELECT DISTINCT chunk_rowid FROM chunk_principals WHERE principal IN ({marks})",
                        principal_list,
                    )
                }
                bm25_ranking = self._bm25(connection, query, principal_list, marks)
                vector_ranking = self._vector_ranking(connection, query_vector, allowed)
                fused = reciprocal_rank_fusion([bm25_ranking, vector_ranking])[:k]
                return self._hits(connection, fused)
            finally:
                connection.execute("COMMIT")

    def _bm25(self, connection: sqlite3.Connection, query: str, principals: list[str], marks: str) -> list[int]:
        match = fts_query(query)
        if not match:
            return []
        rows = connection.execute(
            "SELECT chunks_fts.rowid FROM chunks_fts WHERE chunks_fts MATCH ? AND chunks_fts.rowid IN"
            f" (SELECT chunk_rowid FROM chunk_principals WHERE principal IN ({marks}))"
            " ORDER BY bm25(chunks_fts, 0.5, 0.5, 1.0) LIMIT ?",
            [match, *principals, self.candidates],
        ).fetchall()
        return [row[0] for row in rows]

    def _vector_ranking(self, connection: sqlite3.Connection, query_vector: np.ndarray, allowed: set[int]) -> list[int]:
        rowids, matrix = self._load_vectors(connection)
        if not len(rowids) or not allowed:
            return []
        mask = np.isin(rowids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
        if not mask.any():
            return []
        candidate_rowids = rowids[mask]
        scores = matrix[mask] @ np.asarray(query_vector, dtype=np.float32)
        top = min(self.candidates, len(scores))
        best = np.argpartition(-scores, top - 1)[:top]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [int(rowid) for rowid in candidate_rowids[best]]

    def _load_vectors(self, connection: sqlite3.Connection) -> tuple[np.ndarray, np.ndarray]:
        version = connection.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
        with self._vectors_lock:
            if version != self._vectors_version:
                rows = connection.execute("SELECT rowid, vector FROM chunks ORDER BY rowid").fetchall()
                self._rowids = np.array([row[0] for row in rows], dtype=np.int64)
                self._matrix = (
                    np.vstack([np.frombuffer(row[1], dtype=np.float32) for row in rows])
                    if rows
                    else np.zeros((0, 0), dtype=np.float32)
                )
                self._vectors_version = version
            return self._rowids, self._matrix

    @staticmethod
    def _hits(connection: sqlite3.Connection, fused: list[tuple[int, float]]) -> list[SearchHit]:
        if not fused:
            return []
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
            )
            for rowid, score in fused
            if rowid in rows
        ]
