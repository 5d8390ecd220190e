"""Elasticsearch backend (production), elasticsearch-py 9 on the free Basic licence.

- **Index template** (``<alias>-*``): the same analysis as the embedded backend, done by Elasticsearch:
  per language a pair of fields (``head_<a>`` = title and section, ``body_<a>`` = text) with an analyzer
  that lower-cases, folds accents, drops *our* stop words (``ingestion.search.analysis.STOP_WORDS``) and
  applies the Snowball stemmer; a chunk fills only its language's pair. ``principals`` is a keyword;
  ``vector`` a ``dense_vector`` (cosine, HNSW). Display fields are stored, not indexed.
- **Versioned indexes behind an alias**: reads and writes go to the alias (``ELASTICSEARCH_INDEX``); a full
  reindex (``rebuild``, e.g. after changing the embedding model) fills a new ``<alias>-<version>`` index
  and swaps the alias in one atomic ``update_aliases`` call, then drops the old index: no downtime.
- **Writes**: one ``streaming_bulk`` stream per document holds the new chunks and deletions of the old
  ones; the index refreshes only when told (``refresh_interval: -1``), once after the stream, so a search
  sees the old or the new chunk set (a concurrent writer's refresh can expose the in-between briefly).
- **Hybrid on the Basic licence**: one ``msearch`` round trip with a BM25 query and a ``knn`` search, both
  filtered by principals, fused in Python by ``ingestion.search.fusion.fuse`` (Elasticsearch's own RRF
  retriever needs a paid licence).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ingestion.language import detect_language
from ingestion.search.analysis import ANALYSES, LANGUAGES, STOP_WORDS, analysis_for
from ingestion.search.base import IndexedChunk, SearchHit, SearchMode
from ingestion.search.fusion import (
    DEFAULT_FUSION_PROFILE,
    Candidates,
    FusionProfile,
    fuse,
    fusion_profile_for,
    fusion_weights,
)

_SNOWBALL = {"es": "Spanish", "en": "English"}
HEAD_BOOST = 1.0
_DISPLAY_FIELDS = ["chunk_id", "document_id", "title", "section", "text", "page_start", "page_end"]


def analysis_settings() -> dict[str, Any]:
    """One analyzer per analysis, mirroring ``ingestion.search.analysis`` (fold, then stop words, then stem)."""
    filters: dict[str, Any] = {"faro_fold": {"type": "asciifolding", "preserve_original": False}}
    analyzers: dict[str, Any] = {
        "faro_simple": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "faro_fold"]}
    }
    for language in LANGUAGES:
        filters[f"faro_stop_{language}"] = {"type": "stop", "stopwords": sorted(STOP_WORDS[language])}
        filters[f"faro_stem_{language}"] = {"type": "snowball", "language": _SNOWBALL[language]}
        analyzers[f"faro_{language}"] = {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "faro_fold", f"faro_stop_{language}", f"faro_stem_{language}"],
        }
    return {"filter": filters, "analyzer": analyzers}


def index_template_body(alias: str, dimension: int) -> dict[str, Any]:
    """Keyword arguments of ``indices.put_index_template`` for every versioned index behind ``alias``."""
    analysed = {
        f"{part}_{analysis}": {"type": "text", "analyzer": f"faro_{analysis}"}
        for analysis in ANALYSES
        for part in ("head", "body")
    }
    return {
        "name": alias,
        "index_patterns": [f"{alias}-*"],
        "priority": 200,
        "template": {
            "settings": {
                "number_of_shards": 1,
                "number_of_replicas": 0,
                "refresh_interval": "-1",  # writers refresh once per document, see ``upsert``
                "analysis": analysis_settings(),
            },
            "mappings": {
                "dynamic": "strict",
                "properties": {
                    "chunk_id": {"type": "keyword"},
                    "document_id": {"type": "long"},
                    "title": {"type": "text", "index": False},
                    "section": {"type": "text", "index": False},
                    "text": {"type": "text", "index": False},
                    "page_start": {"type": "integer", "index": False},
                    "page_end": {"type": "integer", "index": False},
                    "language": {"type": "keyword"},
                    "principals": {"type": "keyword"},
                    **analysed,
                    "vector": {
                        "type": "dense_vector",
                        "dims": dimension,
                        "index": True,
                        "similarity": "cosine",
                        "index_options": {"type": "hnsw", "m": 16, "ef_construction": 100},
                    },
                },
            },
        },
    }


def chunk_source(chunk: IndexedChunk) -> dict[str, Any]:
    analysis = analysis_for(chunk.language)
    return {
        "chunk_id": chunk.chunk_id,
        "document_id": chunk.document_id,
        "title": chunk.title,
        "section": chunk.section,
        "text": chunk.text,
        "page_start": chunk.page_start,
        "page_end": chunk.page_end,
        "language": chunk.language,
        "principals": sorted(chunk.principals),
        f"head_{analysis}": f"{chunk.title}\n{chunk.section}",
        f"body_{analysis}": chunk.text,
        "vector": np.asarray(chunk.vector, dtype=np.float32).tolist(),
    }


def access_filter(principals: frozenset[str]) -> dict[str, Any]:
    return {"terms": {"principals": sorted(principals)}}


def lexical_body(query: str, *, principals: frozenset[str], size: int) -> dict[str, Any]:
    """BM25 over every analysis' pair of fields (each analyses the query its own way), after the filter."""
    return {
        "size": size,
        "_source": _DISPLAY_FIELDS,
        "query": {
            "bool": {
                "filter": [access_filter(principals)],
                "should": [
                    {
                        "combined_fields": {
                            "query": query,
                            "fields": [f"head_{analysis}^{HEAD_BOOST}", f"body_{analysis}"],
                            "operator": "or",
                        }
                    }
                    for analysis in ANALYSES
                ],
                "minimum_should_match": 1,
            }
        },
    }


def semantic_body(vector: np.ndarray, *, principals: frozenset[str], size: int) -> dict[str, Any]:
    """Approximate kNN (HNSW) with the principals as a pre-filter, so a restricted user gets ``size`` hits."""
    return {
        "size": size,
        "_source": _DISPLAY_FIELDS,
        "knn": {
            "field": "vector",
            "query_vector": np.asarray(vector, dtype=np.float32).tolist(),
            "k": size,
            "num_candidates": min(10_000, max(100, 4 * size)),
            "filter": access_filter(principals),
        },
    }


def elasticsearch_client() -> Any:
    """A client from ``ELASTICSEARCH_URL`` and its credentials and CA certificate settings."""
    from django.conf import settings
    from elasticsearch import Elasticsearch

    options: dict[str, Any] = {"request_timeout": 30}
    if settings.ELASTICSEARCH_USERNAME:
        options["basic_auth"] = (settings.ELASTICSEARCH_USERNAME, settings.ELASTICSEARCH_PASSWORD or "")
    if settings.ELASTICSEARCH_CA_CERT:
        options["ca_certs"] = settings.ELASTICSEARCH_CA_CERT
    return Elasticsearch(settings.ELASTICSEARCH_URL, **options)


class ElasticsearchBackend:
    def __init__(
        self,
        client: Any,
        *,
        alias: str,
        dimension: int,
        candidates: int = 50,
        embedding_languages: frozenset[str] | None = None,
        fusion_profile: FusionProfile = DEFAULT_FUSION_PROFILE,
    ) -> None:
        self.client = client
        self.alias = alias
        self.dimension = dimension
        self.candidates = candidates
        self.embedding_languages = embedding_languages
        self.fusion_profile = fusion_profile
        self.client.indices.put_index_template(**index_template_body(alias, dimension))
        if not self.client.indices.exists_alias(name=alias):
            self.client.indices.create(index=self._new_index_name(), aliases={alias: {"is_write_index": True}})

    @classmethod
    def from_settings(cls) -> ElasticsearchBackend:
        from django.conf import settings

        from ingestion.embed import get_embedder

        return cls(
            elasticsearch_client(),
            alias=settings.ELASTICSEARCH_INDEX,
            dimension=get_embedder().dimension,
            candidates=settings.SEARCH_CANDIDATES,
            embedding_languages=settings.SEARCH_EMBEDDING_LANGUAGES,
            fusion_profile=fusion_profile_for(settings.EMBEDDING_MODEL),
        )

    def _new_index_name(self) -> str:
        return f"{self.alias}-{time.strftime('%Y%m%d%H%M%S')}-{time.monotonic_ns() % 1_000_000:06d}"

    def _live_indexes(self) -> list[str]:
        return sorted(self.client.indices.get_alias(name=self.alias).keys())

    # -- writes ----------------------------------------------------------------------------------
    def _existing_ids(self, index: str, document_id: int) -> set[str]:
        from elasticsearch.helpers import scan

        query = {"query": {"term": {"document_id": document_id}}, "_source": False}
        return {hit["_id"] for hit in scan(self.client, index=index, query=query)}

    def _bulk(self, actions: Iterable[dict[str, Any]]) -> None:
        from elasticsearch.helpers import streaming_bulk

        for _ok, _item in streaming_bulk(self.client, actions, raise_on_error=True, chunk_size=200):
            pass

    def upsert(self, document_id: int, chunks: Sequence[IndexedChunk]) -> None:
        for chunk in chunks:
            if chunk.document_id != document_id:
                raise ValueError(f"chunk {chunk.chunk_id} belongs to document {chunk.document_id}")
        keep = {chunk.chunk_id for chunk in chunks}
        stale = self._existing_ids(self.alias, document_id) - keep

        def actions() -> Iterator[dict[str, Any]]:
            for chunk in chunks:
                yield {"_op_type": "index", "_index": self.alias, "_id": chunk.chunk_id, "_source": chunk_source(chunk)}
            for chunk_id in sorted(stale):
                yield {"_op_type": "delete", "_index": self.alias, "_id": chunk_id}

        self._bulk(actions())
        self.client.indices.refresh(index=self.alias)  # new and removed chunks become visible together

    def upsert_many(self, documents: Sequence[tuple[int, Sequence[IndexedChunk]]]) -> None:
        # Each document in its own bulk request and refresh, as ``upsert``: its old and new chunks must
        # never be visible together, and one request per document keeps that simple.
        for document_id, chunks in documents:
            self.upsert(document_id, chunks)

    def delete(self, document_id: int) -> None:
        self.client.delete_by_query(
            index=self.alias, query={"term": {"document_id": document_id}}, refresh=True, conflicts="proceed"
        )

    def set_principals(self, document_id: int, principals: frozenset[str]) -> None:
        self.client.update_by_query(
            index=self.alias,
            query={"term": {"document_id": document_id}},
            script={
                "source": "ctx._source.principals = params.principals",
                "params": {"principals": sorted(principals)},
            },
            refresh=True,
            conflicts="proceed",
        )

    def clear(self) -> None:
        self.client.delete_by_query(index=self.alias, query={"match_all": {}}, refresh=True, conflicts="proceed")

    def rebuild(self, documents: Iterable[tuple[int, Sequence[IndexedChunk]]]) -> str:
        """Full reindex without downtime: fill a new versioned index, then point the alias at it in one
        atomic step and drop the old one. Returns the new index name."""
        new_index = self._new_index_name()
        self.client.indices.create(index=new_index)

        def actions() -> Iterator[dict[str, Any]]:
            for _document_id, chunks in documents:
                for chunk in chunks:
                    yield {
                        "_op_type": "index",
                        "_index": new_index,
                        "_id": chunk.chunk_id,
                        "_source": chunk_source(chunk),
                    }

        self._bulk(actions())
        self.client.indices.refresh(index=new_index)
        old = self._live_indexes()
        self.client.indices.update_aliases(
            actions=[
                *({"remove": {"index": index, "alias": self.alias}} for index in old),
                {"add": {"index": new_index, "alias": self.alias, "is_write_index": True}},
            ]
        )
        for index in old:
            self.client.indices.delete(index=index, ignore_unavailable=True)
        return new_index

    def vector_dimension(self) -> int | None:
        """The ``dims`` of the newest index behind the alias (during a swap both are behind it): the width
        its mapping was created with, which a template put later for another model does not change."""
        live = self._live_indexes()
        if not live:
            return None
        mappings = self.client.indices.get_mapping(index=live[-1])
        vector = mappings[live[-1]]["mappings"].get("properties", {}).get("vector", {})
        dims = vector.get("dims")
        return int(dims) if dims is not None else None

    def drop(self) -> None:
        """Delete every index behind the alias and the template (throwaway indexes, tests)."""
        for index in self._live_indexes():
            self.client.indices.delete(index=index, ignore_unavailable=True)
        self.client.indices.delete_index_template(name=self.alias)

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
        depth = max(k, self.candidates)
        searches: list[dict[str, Any]] = []
        if mode != "dense":
            searches += [{"index": self.alias}, lexical_body(query, principals=principals, size=depth)]
        if mode != "bm25":
            searches += [{"index": self.alias}, semantic_body(query_vector, principals=principals, size=depth)]
        responses = self.client.msearch(searches=searches)["responses"]
        for response in responses:
            if "error" in response:
                raise RuntimeError(f"Elasticsearch search failed: {response['error']}")
        lexical_response = responses[0] if mode != "dense" else None
        semantic_response = responses[-1] if mode != "bm25" else None
        sources: dict[str, dict[str, Any]] = {}

        def scores(response: dict[str, Any] | None, *, cosine: bool) -> dict[str, float]:
            ranked: dict[str, float] = {}
            for hit in response["hits"]["hits"] if response else []:
                sources[hit["_id"]] = hit["_source"]
                # A cosine dense_vector scores (1 + cos) / 2; fusion wants the cosine itself.
                ranked[hit["_id"]] = 2 * float(hit["_score"]) - 1 if cosine else float(hit["_score"])
            return ranked

        semantic = scores(semantic_response, cosine=True)
        lexical = scores(lexical_response, cosine=False)
        languages = {chunk_id: str(source.get("language") or "") for chunk_id, source in sources.items()}
        candidates = Candidates(lexical=lexical, semantic=semantic, cosine=semantic, languages=languages)
        language = detect_language(query)
        weights = fusion_weights(
            query=query,
            query_language=language,
            embedding_languages=self.embedding_languages,
            profile=self.fusion_profile,
        )
        return [
            SearchHit(
                chunk_id=chunk_id,
                document_id=int(sources[chunk_id]["document_id"]),
                score=score,
                title=sources[chunk_id]["title"],
                section=sources[chunk_id]["section"],
                text=sources[chunk_id]["text"],
                page_start=sources[chunk_id].get("page_start"),
                page_end=sources[chunk_id].get("page_end"),
            )
            for chunk_id, score in fuse(candidates, weights=weights, mode=mode)[:k]
        ]
