"""Language-aware analysis shared by indexing and querying."""

from __future__ import annotations

from ingestion.search.analysis import analysis_for, analyze, fold, query_terms


def test_folding_makes_accents_and_case_irrelevant():
    assert fold("Días Año CAMIÓN pingüino") == "dias ano camion pinguino"
    assert analyze("Días de vacaciones", "es") == analyze("dias de VACACIONES", "es")


def test_spanish_stemming_joins_inflections_and_drops_function_words():
    assert analyze("las vacaciones", "es") == analyze("vacación", "es") == ["vacacion"]
    assert analyze("solicitudes", "es") == analyze("solicitud", "es")
    assert "de" not in analyze("días de vacaciones", "es")


def test_english_stemming_and_stop_words():
    assert analyze("the running of the genomes", "en") == ["run", "genom"]


def test_other_languages_are_folded_but_not_stemmed():
    assert analysis_for("fr") == "simple"
    assert analyze("Les congés payés", "simple") == ["les", "conges", "payes"]


def test_query_terms_drop_the_question_language_stop_words_in_every_analysis():
    assert query_terms("¿Cuántos días de vacaciones tengo al año?", query_language="es", analysis="es") == [
        "dias",
        "vacacion",
        "ano",
    ]
    # "de" is Spanish noise even when matched against English text.
    assert "de" not in query_terms("días de vacaciones", query_language="es", analysis="en")
    assert query_terms("¿Qué es?", query_language="es", analysis="es") == []


def test_tokens_are_letters_and_digits_only():
    assert analyze('vacaciones" OR NEAR(a_b) *', "simple") == ["vacaciones", "or", "near", "a", "b"]
