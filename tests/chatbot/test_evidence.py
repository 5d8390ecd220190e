"""Passage evidence uses the vectors the index stored, and computes the same ones where a backend gives none."""

from __future__ import annotations

import dataclasses

import pytest

from accounts.principals import PUBLIC
from chatbot.rag.evidence import passage_evidence
from ingestion.embed import get_embedder
from ingestion.search import get_search_backend

pytestmark = pytest.mark.django_db

QUESTION = "¿Cuántos días de vacaciones tengo al año?"


class NoEmbedder:
    name = "no-embedder"

    def embed(self, texts):
        raise AssertionError(f"embedded {len(texts)} passages the search had given vectors for")


def test_embedded_hits_carry_their_stored_vectors_and_evidence_needs_no_embedding(policies):
    embedder = get_embedder()
    query_vector = embedder.embed([QUESTION])[0]
    hits = get_search_backend().search(QUESTION, query_vector, principals=frozenset({PUBLIC}), k=3)
    assert hits and all(hit.vector is not None for hit in hits)

    evidence = passage_evidence(QUESTION, query_vector, hits, embedder=NoEmbedder())  # type: ignore[arg-type]
    assert [item.semantic for item in evidence] == [
        round(float(hit.vector @ query_vector), 4) for hit in hits if hit.vector is not None
    ]


def test_a_hit_without_a_vector_is_embedded_as_the_index_embedded_it(policies):
    embedder = get_embedder()
    query_vector = embedder.embed([QUESTION])[0]
    hit = get_search_backend().search(QUESTION, query_vector, principals=frozenset({PUBLIC}), k=1)[0]
    from_index = passage_evidence(QUESTION, query_vector, [hit], embedder=embedder)
    without = dataclasses.replace(hit, vector=None, chunk_id=hit.chunk_id + "-fresh")  # not in any cache
    computed = passage_evidence(QUESTION, query_vector, [without], embedder=embedder)
    assert computed[0].semantic == pytest.approx(from_index[0].semantic, abs=1e-3)
    assert computed[0].lexical == from_index[0].lexical
