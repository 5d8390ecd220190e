"""Elasticsearch backend (production). Works on the free Basic licence: a ``match`` query and a ``knn``
search, each filtered by principals, fused in Python by the same code as the embedded backend
(Elasticsearch's own RRF retriever needs a paid licence)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ingestion.search.base import IndexedChunk, SearchHit
from ingestion.search.fusion import reciprocal_rank_fusion


def index_body(dimension: int) -> dict[str, Any]:
    text_field = {
        "type": "text",
        "analyzer": "standard",
        "fields": {"es": {"type": "text", "analyzer": "spanish"}, "en": {"type": "text", "analyzer": "english"}},
    }
    return {
        "settings": {"number_of_shards": 1, "number_of_replicas": 0},
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "chunk_id": {"type": "keyword"},
                "document_id": {"type": "long"},
                "title": text_field,
                "section": text_field,
                "text": text_field,
                "page_start": {"type": "integer"},
                "page_end": {"type": "integer"},
                "language": {"type": "keyword"},
                "principals": {"type": "keyword"},
                "vector": {"type": "dense_vector", "dims": dimension, "index": True, "similarity": "cosine"},
            },
        },
    }


class ElasticsearchBackend:
    def __init__(self, client: Any, *, index: str, dimension: int = 384, candidates: int = 50) -> None:
        self.client = client
        self.index = index
        self.dimension = dimension
        self.candidates = candidates
        if not self.client.indices.exists(index=index):
            self.client.indices.create(index=index, **index_body(dimension))

    @classmethod
    def from_settings(cls) -> ElasticsearchBackend:
        from django.conf import settings
        from elasticsearch import Elasticsearch

        auth = None
        if settings.ELASTICSEARCH_USERNAME:
            auth = (settings.ELASTICSEARCH_USERNAME, settings.ELASTICSEARCH_PASSWORD or "")
        options: dict[str, Any] = {"basic_auth": auth, "request_timeout": 30}
        if settings.ELASTICSEARCH_CA_CERT:
            options["ca_certs"] = settings.ELASTICSEARCH_CA_CERT
        client = Elasticsearch(settings.ELASTICSEARCH_URL, **options)
        return cls(client, index=settings.ELASTICSEARCH_INDEX)

    def _actions(self, chunks: Sequence[IndexedChunk]) -> Iterator[dict[str, Any]]:
        for chunk in chunks:
            yield {
                "_op_type": "index",
                "_index": self.index,
                "_id": chunk.chunk_id,
                "_source": {
                    "chunk_id": chunk.chunk_id,
                    "document_id": chunk.document_id,
                    "title": chunk.title,
                    "section": chunk.section,
                    "text": chunk.text,
                    "page_start": chunk.page_start,
                    "page_end": chunk.page_end,
                    "language": chunk.language,
                    "principals": sorted(chunk.principals),
                    "vector": np.asarray(chunk.vector, dtype=np.float32).tolist(),
                },
            }

    def upsert(self, document_id: int, chunks: Sequence[IndexedChunk]) -> None:
        from elasticsearch.helpers import streaming_bulk

        for _ok, _item in streaming_bulk(self.client, self._actions(chunks), raise_on_error=True):
            pass
        # New chunk ids are indexed first, then every other chunk of the document goes, so a search sees
        # the old or the new version, never neither (a brief overlap is possible within one refresh).
        keep = [chunk.chunk_id for chunk in chunks]
        self.client.delete_by_query(
            index=self.index,
            query={
                "bool": {"filter": [{"term": {"document_id": document_id}}], "must_not": [{"ids": {"values": keep}}]}
            },
            refresh=True,
            conflicts="proceed",
        )

    def delete(self, document_id: int) -> None:
        self.client.delete_by_query(
            index=self.index, query={"term": {"document_id": document_id}}, refresh=True, conflicts="proceed"
        )

    def clear(self) -> None:
        self.client.delete_by_query(index=self.index, query={"match_all": {}}, refresh=True, conflicts="proceed")

    def search(self, query: str, query_vector: np.ndarray, *, principals: frozenset[str], k: int) -> list[SearchHit]:
        if not principals or k <= 0:
            return []
        access = {"terms": {"principals": sorted(principals)}}
        lexical = self.client.search(
            index=self.index,
            size=self.candidates,
            query={
                "bool": {
                    "filter": [access],
                    "must": [
                        {
                            "multi_match": {
                                "query": query,
                                "fields": ["text", "text.es", "text.en", "title^0.5", "section^0.5"],
                                "type": "most_fields",
                            }
                        }
                    ],
                }
            },
            source_excludes=["vector"],
        )
        semantic = self.client.search(
            index=self.index,
            size=self.candidates,
            knn={
                "field": "vector",
                "query_vector": np.asarray(query_vector, dtype=np.float32).tolist(),
                "k": self.candidates,
                "num_candidates": self.candidates * 4,
                "filter": access,
            },
            source_excludes=["vector"],
        )
        sources: dict[str, dict[str, Any]] = {}
        rankings: list[list[str]] = []
        for response in (lexical, semantic):
            ranking = []
            for hit in response["hits"]["hits"]:
                sources[hit["_id"]] = hit["_source"]
                ranking.append(hit["_id"])
            rankings.append(ranking)
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
            for chunk_id, score in reciprocal_rank_fusion(rankings)[:k]
        ]
