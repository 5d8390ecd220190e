"""Sentence-level evidence (chatbot.rag.sentences): what counts as a quotable sentence, and which one leads."""

from __future__ import annotations

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
