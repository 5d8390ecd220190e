"""Request bodies and orchestration of the Elasticsearch backend, without a server (the contract suite in
test_search_contract.py runs against a real one when ELASTICSEARCH_URL is set)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ingestion.search import IndexedChunk
from ingestion.search.analysis import STOP_WORDS
from ingestion.search.elastic import (
    ElasticsearchBackend,
    chunk_source,
    index_template_body,
    lexical_body,
    semantic_body,
)

HR = frozenset({"group:hr", "public"})


def chunk(chunk_id: str, language: str = "es") -> IndexedChunk:
    return IndexedChunk(
        chunk_id=chunk_id,
        document_id=7,
        title="Política de vacaciones",
        section="3. Días",
        text="23 días laborables",
        page_start=1,
        page_end=1,
        language=language,
        principals=frozenset({"public"}),
        vector=np.full(4, 0.5, dtype=np.float32),
    )


def test_template_has_per_language_analysed_fields_keyword_principals_and_a_cosine_hnsw_vector():
    body = index_template_body("faro-chunks", 384)
    assert body["index_patterns"] == ["faro-chunks-*"]
    properties = body["template"]["mappings"]["properties"]
    assert properties["principals"] == {"type": "keyword"}
    assert properties["vector"]["similarity"] == "cosine"
    assert properties["vector"]["dims"] == 384
    assert properties["vector"]["index_options"]["type"] == "hnsw"
    assert properties["body_es"]["analyzer"] == "faro_es"
    assert properties["head_en"]["analyzer"] == "faro_en"
    assert properties["body_simple"]["analyzer"] == "faro_simple"
    analysis = body["template"]["settings"]["analysis"]
    assert analysis["analyzer"]["faro_es"]["filter"] == ["lowercase", "faro_fold", "faro_stop_es", "faro_stem_es"]
    assert analysis["filter"]["faro_stem_es"] == {"type": "snowball", "language": "Spanish"}
    assert set(analysis["filter"]["faro_stop_en"]["stopwords"]) == STOP_WORDS["en"]


def test_a_chunk_fills_only_its_language_fields():
    source = chunk_source(chunk("c1", language="es"))
    assert source["body_es"] == "23 días laborables"
    assert source["head_es"] == "Política de vacaciones\n3. Días"
    assert not any(key.endswith(("_en", "_simple")) for key in source)
    assert source["principals"] == ["public"]
    assert "body_simple" in chunk_source(chunk("c2", language="fr"))


def test_lexical_and_knn_requests_filter_by_principals():
    lexical = lexical_body("¿Cuántos días?", principals=HR, size=50)
    query = lexical["query"]["bool"]
    assert query["filter"] == [{"terms": {"principals": ["group:hr", "public"]}}]
    assert {clause["combined_fields"]["fields"][1] for clause in query["should"]} == {
        "body_es",
        "body_en",
        "body_simple",
    }
    assert lexical["size"] == 50 and "vector" not in lexical["_source"]
    semantic = semantic_body(np.ones(3, dtype=np.float32), principals=HR, size=50)
    assert semantic["knn"]["filter"] == {"terms": {"principals": ["group:hr", "public"]}}
    assert semantic["knn"]["k"] == 50 and semantic["knn"]["num_candidates"] >= 50
    assert semantic["knn"]["query_vector"] == [1.0, 1.0, 1.0]


class FakeIndices:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.aliases: dict[str, list[str]] = {}

    def put_index_template(self, **kwargs: Any) -> None:
        self.calls.append(("put_index_template", kwargs))

    def exists_alias(self, *, name: str) -> bool:
        return name in self.aliases

    def create(self, *, index: str, aliases: dict[str, Any] | None = None) -> None:
        self.calls.append(("create", {"index": index, "aliases": aliases}))
        for alias in aliases or {}:
            self.aliases.setdefault(alias, []).append(index)

    def get_alias(self, *, name: str) -> dict[str, Any]:
        return {index: {} for index in self.aliases.get(name, [])}

    def update_aliases(self, *, actions: list[dict[str, Any]]) -> None:
        self.calls.append(("update_aliases", {"actions": actions}))

    def refresh(self, *, index: str) -> None:
        self.calls.append(("refresh", {"index": index}))

    def delete(self, **kwargs: Any) -> None:
        self.calls.append(("delete", kwargs))


class FakeClient:
    def __init__(self, responses: list[dict[str, Any]]) -> None:
        self.indices = FakeIndices()
        self.responses = responses
        self.searches: list[dict[str, Any]] = []

    def msearch(self, *, searches: list[dict[str, Any]]) -> dict[str, Any]:
        self.searches = searches
        return {"responses": self.responses}


def hit(chunk_id: str, score: float) -> dict[str, Any]:
    return {
        "_id": chunk_id,
        "_score": score,
        "_source": {
            "chunk_id": chunk_id,
            "document_id": 7,
            "title": "T",
            "section": "",
            "text": chunk_id,
            "page_start": None,
            "page_end": None,
        },
    }


def test_first_use_creates_a_versioned_index_behind_the_alias():
    client = FakeClient([])
    ElasticsearchBackend(client, alias="faro-chunks", dimension=4)
    [create] = [kwargs for name, kwargs in client.indices.calls if name == "create"]
    assert create["index"].startswith("faro-chunks-")
    assert create["aliases"] == {"faro-chunks": {"is_write_index": True}}


def test_rebuild_swaps_the_alias_in_one_call(monkeypatch):
    client = FakeClient([])
    backend = ElasticsearchBackend(client, alias="faro-chunks", dimension=4)
    [old] = client.indices.aliases["faro-chunks"]
    monkeypatch.setattr(backend, "_bulk", lambda actions: list(actions))
    new = backend.rebuild([(7, [chunk("c1")])])
    [swap] = [kwargs["actions"] for name, kwargs in client.indices.calls if name == "update_aliases"]
    assert swap == [
        {"remove": {"index": old, "alias": "faro-chunks"}},
        {"add": {"index": new, "alias": "faro-chunks", "is_write_index": True}},
    ]
    assert ("delete", {"index": old, "ignore_unavailable": True}) in client.indices.calls


def test_search_sends_one_msearch_and_fuses_both_lists():
    lexical = {"hits": {"hits": [hit("a", 12.0), hit("b", 6.0)]}}
    semantic = {"hits": {"hits": [hit("b", 0.9), hit("c", 0.7)]}}  # (1 + cos) / 2
    client = FakeClient([lexical, semantic])
    backend = ElasticsearchBackend(client, alias="faro-chunks", dimension=4, embedding_languages=None)
    hits = backend.search("vacation days", np.ones(4, dtype=np.float32), principals=HR, k=3)
    assert [header for header in client.searches[::2]] == [{"index": "faro-chunks"}] * 2
    assert "query" in client.searches[1] and "knn" in client.searches[3]
    assert {h.chunk_id for h in hits} == {"a", "b", "c"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    client.responses = [lexical]
    assert [h.chunk_id for h in backend.search("vacation days", np.ones(4), principals=HR, k=3, mode="bm25")] == [
        "a",
        "b",
    ]
    assert backend.search("x", np.ones(4), principals=frozenset(), k=3) == []


def test_a_hit_in_another_language_is_fused_on_its_vector_when_the_model_reads_both():
    def in_language(chunk_id: str, score: float, language: str) -> dict[str, Any]:
        found = hit(chunk_id, score)
        found["_source"]["language"] = language
        return found

    lexical = {
        "hits": {
            "hits": [in_language("es-a", 12.0, "es"), in_language("es-b", 9.0, "es"), in_language("guide", 1.0, "en")]
        }
    }
    semantic = {
        "hits": {
            "hits": [in_language("guide", 0.81, "en"), in_language("es-a", 0.67, "es"), in_language("es-b", 0.66, "es")]
        }
    }
    question = "¿Qué hago si me roban el portátil?"
    multilingual = ElasticsearchBackend(
        FakeClient([lexical, semantic]), alias="faro-chunks", dimension=4, embedding_languages=None
    )
    assert multilingual.search(question, np.ones(4), principals=HR, k=3)[0].chunk_id == "guide"
    english = ElasticsearchBackend(
        FakeClient([lexical, semantic]), alias="faro-chunks", dimension=4, embedding_languages=frozenset({"en"})
    )
    assert english.search(question, np.ones(4), principals=HR, k=3)[0].chunk_id == "es-a"
