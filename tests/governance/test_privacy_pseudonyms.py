"""Texts stored together (a chat turn's question and answer, an audit event's fields) share pseudonyms."""

from __future__ import annotations

import re

import pytest

from governance.privacy import pseudonymised_texts


@pytest.mark.django_db
def test_a_question_and_its_answer_name_one_person_with_one_pseudonym(settings):
    settings.PSEUDONYM_KEY = "test-key"
    question, answer = pseudonymised_texts(
        "Soy Pedro Martínez Soto, mi móvil es el +34 612 345 678", "Hola Pedro, anoto el 612-345-678."
    ) or ["", ""]
    people = [set(re.findall(r"<PERSON_\w+>", text)) for text in (question, answer)]
    phones = [set(re.findall(r"<PHONE_\w+>", text)) for text in (question, answer)]
    assert people[0] == people[1] and len(people[0]) == 1
    assert phones[0] == phones[1] and len(phones[0]) == 1
    assert "Martínez" not in question and "Pedro" not in answer
