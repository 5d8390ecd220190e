"""The tone scorer against the style guide's own example and against texts that break one rule each."""

from __future__ import annotations

import pytest

from tuning.scorer import guess_language, mean_tone_score, tone_score

GOOD_ES = """Hola, equipo:

Ya puedes solicitar tus vacaciones de verano en el Portal de Personas. Cada equipo publicará su calendario \
antes del 30 de abril de 2026. Recuerda pedirlas con 15 días de antelación.

Si tienes dudas, escribe a rrhh@lumen.example.

Un saludo,
el equipo de Personas"""

GOOD_EN = """Hi Marta,

You can request your summer holidays in the People Portal before 30 April 2026.

Best,
the People team"""


def test_the_style_guides_own_example_passes_every_rule():
    score = tone_score(GOOD_ES)
    assert score.language == "es"
    assert score.failed == []
    assert score.score == 1.0


def test_an_english_message_uses_the_english_greeting_and_sign_off():
    score = tone_score(GOOD_EN)
    assert score.language == "en"
    assert score.failed == []
    assert "informal_address" not in score.checks  # tú/usted is a Spanish rule


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (GOOD_ES.replace("Hola, equipo:", "Equipo:"), "greeting"),
        (GOOD_ES.replace("Hola, equipo:", "Hola, estimados compañeros:"), "no_formal_greeting"),
        (GOOD_ES.replace("Un saludo,\nel equipo de Personas", "Gracias."), "sign_off"),
        (GOOD_ES.replace("Si tienes dudas", "Si usted tiene dudas"), "informal_address"),
        (GOOD_ES.replace("Recuerda", "¡Recuerda!! Rápido!"), "exclamations"),
        (GOOD_ES.replace("Recuerda", "🌴 Recuerda"), "no_emoji"),
        (GOOD_ES.replace("Recuerda", "Se ruega que recuerdes"), "no_banned_phrases"),
        (GOOD_ES.replace("30 de abril de 2026", "30/04/26"), "no_numeric_dates"),
        (GOOD_ES.replace("escribe a rrhh@lumen.example", "pincha aquí"), "descriptive_links"),
        (GOOD_ES.replace("Recuerda pedirlas", "Recuerda " + "pedirlas muy " * 13), "sentence_length"),
        (GOOD_ES.replace("Recuerda pedirlas", "Recuerda. " * 151), "answer_length"),
    ],
)
def test_each_rule_fails_on_its_own(text, rule):
    score = tone_score(text)
    assert score.failed == [rule]
    assert score.score == pytest.approx(1 - 1 / len(score.checks))


def test_a_greeting_and_sign_off_without_an_answer_is_not_full_marks():
    assert tone_score("Hola:\n\nUn saludo,\nel equipo de Personas").failed == ["has_body"]


def test_greeting_and_sign_off_lines_are_not_counted_as_sentences():
    short = "Hola:\n\nTienes 23 días.\n\nUn saludo,\nel equipo de Personas"
    assert tone_score(short).failed == []


def test_language_guess_and_mean():
    assert guess_language("¿Cuántos días de vacaciones tengo?") == "es"
    assert guess_language("How many days of holiday do I have?") == "en"
    assert mean_tone_score([GOOD_ES, "Estimado señor: por la presente le informo."]) < 1.0
    assert mean_tone_score([]) == 0.0
