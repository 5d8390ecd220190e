"""Sentence-level evidence (chatbot.rag.sentences): what counts as a quotable sentence, and which one leads."""

from __future__ import annotations

import numpy as np
import pytest

from chatbot.llm.base import Passage
from chatbot.rag.sentences import passage_sentences, rank_sentences, select_answer


def test_front_matter_headings_contents_and_boilerplate_are_never_sentences():
    text = (
        "---\ntitle: Vacaciones\nlang: es\n---\n"
        "# Política de vacaciones\n\n"
        "CONFIDENCIAL - USO EXCLUSIVO DEL DEPARTAMENTO DE PERSONAS\n\n"
        "Código: RRHH-POL-003 | Versión 4.0 | En vigor desde el 1 de enero de 2026\n\n"
        "Índice\n\n"
        "1. Objeto ........................ 2\n\n"
        "## 3. Días de vacaciones\n\n"
        "Toda persona empleada disfruta de **23 días laborables** de vacaciones al año."
    )
    assert passage_sentences(text) == ["Toda persona empleada disfruta de 23 días laborables de vacaciones al año."]


def test_a_table_row_is_one_sentence_naming_its_columns():
    text = "| Causa | Duración |\n|---|---|\n| Matrimonio o pareja de hecho | 15 días naturales |\n| Mudanza | 1 día |"
    assert passage_sentences(text) == [
        "Causa: Matrimonio o pareja de hecho; Duración: 15 días naturales.",
        "Causa: Mudanza; Duración: 1 día.",
    ]


def test_inline_list_items_and_quotes_split_but_abbreviations_do_not():
    text = "> Las dietas se abonan según la tabla de la p. 2 de este anexo. - Los tickets no hacen falta nunca."
    assert passage_sentences(text) == [
        "Las dietas se abonan según la tabla de la p. 2 de este anexo.",
        "Los tickets no hacen falta nunca.",
    ]


def test_the_sentence_that_answers_leads_and_only_its_passage_is_cited():
    passages = (
        Passage(
            1,
            "Política de vacaciones",
            "3. Días de vacaciones",
            (
                "Esta política explica cómo se generan y se disfrutan las vacaciones anuales. "
                "Toda persona empleada a tiempo completo disfruta de 23 días laborables de vacaciones al año. "
                "Los festivos locales no cuentan como vacaciones."
            ),
        ),
        Passage(2, "Política de teletrabajo", "2. Días", "Se puede teletrabajar hasta 3 días por semana en total."),
    )
    ranking = rank_sentences(
        question="¿Cuántos días de vacaciones tengo al año?",
        language="es",
        question_vector=None,
        passages=passages,
        embedder=None,
    )
    answer = select_answer(ranking)
    assert answer[0].text.startswith("Toda persona empleada a tiempo completo disfruta de 23 días")
    assert {sentence.n for sentence in answer} == {1}


def test_without_sentences_nothing_is_answerable():
    ranking = rank_sentences(question="¿Cuántos días?", language="es", question_vector=None, passages=(), embedder=None)
    assert ranking.answerability == 0.0 and select_answer(ranking) == ()


class FixedEmbedder:
    """Every text the same unit vector: each sentence's cosine with the question is 1."""

    name = "fixed-test-embedder"
    dimension = 2

    def embed(self, texts):
        return np.tile(np.asarray([[0.6, 0.8]], dtype=np.float32), (len(texts), 1))


def test_a_sentence_in_another_language_the_vectors_read_covers_the_question_by_its_cosine():
    passages = (
        Passage(1, "Equipment use and return policy", "Leaving", "You must return your laptop on your last day."),
        Passage(2, "Política de equipos", "Salida", "Debes devolver el portátil el último día de trabajo."),
    )
    ranking = rank_sentences(
        question="¿Qué tengo que devolver el último día?",
        language="es",
        question_vector=np.asarray([0.6, 0.8], dtype=np.float32),
        passages=passages,
        embedder=FixedEmbedder(),  # type: ignore[arg-type]
        passage_support=[1.0, 1.0],
        cross_language=[True, False],
    )
    english = next(s for s in ranking.sentences if s.n == 1)
    spanish = next(s for s in ranking.sentences if s.n == 2)
    assert english.features.cross_language and english.features.own == 0.0
    assert english.features.coverage == pytest.approx(1.0)  # its cosine, not the 0 words it shares
    assert not spanish.features.cross_language
    assert spanish.features.coverage == pytest.approx(spanish.features.own + 0.25 * spanish.features.context)
