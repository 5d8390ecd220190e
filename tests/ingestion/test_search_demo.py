"""Ranking on the demo company's documents, through the real upload pipeline and the configured backend."""

from __future__ import annotations

import pytest

from accounts.principals import principals_for_user
from ingestion.embed import get_embedder
from ingestion.search import get_search_backend

pytestmark = pytest.mark.django_db


def ask(question: str, user, k: int = 5):
    vector = get_embedder().embed([question])[0]
    return get_search_backend().search(question, vector, principals=principals_for_user(user), k=k)


def test_the_annual_vacation_question_finds_the_section_that_answers_it_first(policies, charlie):
    hits = ask("¿Cuántos días de vacaciones tengo al año?", charlie)
    assert hits[0].document_id == policies["vacation"].pk
    assert "23 días laborables" in hits[0].text


def test_an_unaccented_question_finds_the_same_section(policies, charlie):
    hits = ask("cuantos dias de vacaciones tengo al ano", charlie)
    assert "23 días laborables" in hits[0].text


def test_charlie_never_gets_the_hr_only_benefits(policies, charlie, alice):
    question = "retribución flexible seguro médico"
    assert policies["benefits"].pk not in {hit.document_id for hit in ask(question, charlie)}
    assert policies["benefits"].pk in {hit.document_id for hit in ask(question, alice)}
