"""One contract suite for every SearchBackend (see ingestion/search/base.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from ingestion.embed import get_embedder
from ingestion.search import IndexedChunk, SearchBackend
from ingestion.search.embedded import EmbeddedSearchBackend, fts_query

HR = frozenset({"group:hr"})
PUBLIC = frozenset({"public"})
EVERYONE = frozenset({"public", "group:hr", "group:sales"})


@pytest.fixture(params=["embedded", "elasticsearch"])
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[SearchBackend]:
    if request.param == "embedded":
        yield EmbeddedSearchBackend(tmp_path / "index.sqlite3")
        return
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip("ELASTICSEARCH_URL is not set: no Elasticsearch server runs on this machine")
    from elasticsearch import Elasticsearch

    from ingestion.search.elastic import ElasticsearchBackend

    client = Elasticsearch(url)
    backend = ElasticsearchBackend(
        client, alias=f"faro-contract-{uuid.uuid4().hex[:8]}", dimension=get_embedder().dimension
    )
    yield backend
    backend.drop()


def make_chunks(document_id: int, texts: list[str], principals: frozenset[str] = PUBLIC) -> list[IndexedChunk]:
    vectors = get_embedder().embed(texts)
    return [
        IndexedChunk(
            chunk_id=f"d{document_id}-{i}-{uuid.uuid5(uuid.NAMESPACE_OID, text).hex[:8]}",
            document_id=document_id,
            title=f"Document {document_id}",
            section="",
            text=text,
            page_start=None,
            page_end=None,
            language="es",
            principals=principals,
            vector=vector,
        )
        for i, (text, vector) in enumerate(zip(texts, vectors, strict=True))
    ]


def search(backend: SearchBackend, query: str, principals: frozenset[str] = EVERYONE, k: int = 10):
    return backend.search(query, get_embedder().embed([query])[0], principals=principals, k=k)


def test_upsert_replaces_every_previous_chunk_even_when_the_document_got_shorter(backend):
    backend.upsert(
        1, make_chunks(1, ["vacaciones anuales versión uno", "permisos versión uno", "festivos versión uno"])
    )
    backend.upsert(1, make_chunks(1, ["vacaciones anuales versión dos"]))
    hits = search(backend, "versión vacaciones permisos festivos")
    assert [hit.text for hit in hits] == ["vacaciones anuales versión dos"]


def test_delete_removes_the_document_at_once(backend):
    backend.upsert(1, make_chunks(1, ["política de teletrabajo"]))
    backend.upsert(2, make_chunks(2, ["política de gastos"]))
    backend.delete(1)
    assert {hit.document_id for hit in search(backend, "política")} == {2}


def test_set_principals_changes_access_at_once_without_reindexing(backend):
    backend.upsert(1, make_chunks(1, ["bandas salariales confidenciales", "seguro médico de la plantilla"], HR))
    backend.upsert(2, make_chunks(2, ["política de vacaciones"], PUBLIC))
    assert {hit.document_id for hit in search(backend, "bandas salariales seguro médico", PUBLIC)} <= {2}
    backend.set_principals(1, PUBLIC)
    opened = search(backend, "bandas salariales seguro médico", PUBLIC)
    assert {hit.text for hit in opened if hit.document_id == 1} == {
        "bandas salariales confidenciales",
        "seguro médico de la plantilla",
    }
    backend.set_principals(1, HR)
    assert 1 not in {hit.document_id for hit in search(backend, "bandas salariales seguro médico", PUBLIC)}
    assert 1 in {hit.document_id for hit in search(backend, "bandas salariales seguro médico", HR)}
    backend.set_principals(99, PUBLIC)  # no chunks: nothing happens


def test_search_never_returns_chunks_outside_the_principals(backend):
    backend.upsert(1, make_chunks(1, ["salarios y bandas retributivas confidenciales"], HR))
    backend.upsert(2, make_chunks(2, ["política de vacaciones para toda la plantilla"], PUBLIC))
    assert {hit.document_id for hit in search(backend, "salarios bandas retributivas", PUBLIC)} == {2}
    assert 1 in {hit.document_id for hit in search(backend, "salarios bandas retributivas", PUBLIC | HR)}
    assert search(backend, "salarios", frozenset()) == []


def test_a_restricted_user_still_gets_a_full_top_k_of_what_they_may_see(backend):
    # Many HR chunks match the query better than the public ones; the filter applies before ranking.
    backend.upsert(1, make_chunks(1, [f"nómina salario bonus confidencial {i}" for i in range(30)], HR))
    backend.upsert(2, make_chunks(2, [f"salario medio publicado en el informe anual {i}" for i in range(6)], PUBLIC))
    hits = search(backend, "nómina salario bonus", PUBLIC, k=5)
    assert len(hits) == 5
    assert {hit.document_id for hit in hits} == {2}


def test_hits_are_ranked_best_first_with_their_text_and_location(backend):
    backend.upsert(1, make_chunks(1, ["El horario de la oficina de Madrid es de 8 a 18 h", "Normas de aparcamiento"]))
    hits = search(backend, "horario oficina Madrid")
    assert hits[0].text.startswith("El horario")
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_matching_is_language_aware_stemmed_and_accent_blind(backend):
    spanish = make_chunks(1, ["Solicitudes de vacaciones: 23 días laborables por año."])
    english = [
        IndexedChunk(**{**chunk.__dict__, "language": "en"})
        for chunk in make_chunks(2, ["Requests for annual leave are approved by managers."])
    ]
    backend.upsert(1, spanish)
    backend.upsert(2, english)
    assert search(backend, "solicitud vacación dias", k=1)[0].document_id == 1
    assert search(backend, "REQUEST approving leaves", k=1)[0].document_id == 2


def test_user_text_is_never_fts_syntax():
    query = fts_query('vacaciones" OR NEAR(a b) *', language="es", analyses=("es",))
    assert query == '{es_head es_body} : ("vacacion" OR "or" OR "near" OR "b")'
    assert fts_query("¿Qué es?", language="es") == ""


@pytest.fixture
def elasticsearch_client() -> Iterator[Any]:
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip("ELASTICSEARCH_URL is not set: no Elasticsearch server runs on this machine")
    from elasticsearch import Elasticsearch

    yield Elasticsearch(url)


def test_elasticsearch_index_made_for_another_width_is_rebuilt_behind_its_alias(elasticsearch_client: Any) -> None:
    """After a model of another dimension (issue 14: 384 -> 512) the mapping still holds the old width;
    ``reindex`` sees it and rebuilds into a new index of the new width, swapped in behind the alias."""
    from ingestion.bulk import reindex_action
    from ingestion.search.elastic import ElasticsearchBackend

    alias = f"faro-contract-{uuid.uuid4().hex[:8]}"
    width = get_embedder().dimension
    old_chunks = make_chunks(1, ["Las vacaciones son 23 días laborables."])
    old_chunks = [replace(chunk, vector=chunk.vector[: width // 2]) for chunk in old_chunks]  # the old model's
    before = ElasticsearchBackend(elasticsearch_client, alias=alias, dimension=width // 2)
    before.upsert(1, old_chunks)
    [old_index] = before._live_indexes()

    upgraded = ElasticsearchBackend(elasticsearch_client, alias=alias, dimension=width)  # the new release
    try:
        assert upgraded.vector_dimension() == width // 2, "the template changed, the live mapping did not"
        assert reindex_action(index_dimension=upgraded.vector_dimension(), model_dimension=width) == "rebuild"
        new_index = upgraded.rebuild([(1, make_chunks(1, ["Las vacaciones son 23 días laborables."]))])
        assert upgraded._live_indexes() == [new_index] and new_index != old_index
        assert not elasticsearch_client.indices.exists(index=old_index)
        assert upgraded.vector_dimension() == width
        hits = upgraded.search("vacaciones", get_embedder().embed(["vacaciones"])[0], principals=EVERYONE, k=5)
        assert [hit.document_id for hit in hits] == [1]
    finally:
        upgraded.drop()
