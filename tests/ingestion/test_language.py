"""Language detection measured on labelled text: the demo corpus (its manifest says each file's language),
hand-written employee questions in both languages, and the English benchmark queries when present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion.language import detect_language
from ingestion.parsers import parse_file

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo"
DATASETS = ROOT.parent / "shared" / "datasets"

SPANISH_QUESTIONS = [
    "¿Cuántos días de vacaciones tengo al año?",
    "cuantos dias de vacaciones tengo",
    "vacaciones",
    "nómina de marzo",
    "nomina marzo",
    "salario medio",
    "horario oficina Madrid",
    "¿Puedo teletrabajar los viernes?",
    "teletrabajo política",
    "gastos de viaje",
    "política de gastos",
    "quien aprueba las compras",
    "¿Quién aprueba una compra de más de 5.000 euros?",
    "permiso por matrimonio",
    "baja por paternidad",
    "¿Cómo solicito un anticipo?",
    "dietas y kilometraje",
    "canal ético denuncias",
    "contraseña olvidada",
    "¿Qué hago si pierdo el portátil?",
    "seguro médico para familiares",
    "retribución flexible",
    "prevención de riesgos laborales en la oficina",
    "formación obligatoria",
    "¿Se pueden acumular las vacaciones al año siguiente?",
    "días de libre disposición",
    "protección de datos personales de clientes",
    "proveedores homologados",
    "reembolso de taxis",
    "¿Hay ayuda para la comida?",
]
ENGLISH_QUESTIONS = [
    "How many vacation days do I get per year?",
    "vacation days",
    "Can I work from home on Fridays?",
    "who approves purchases",
    "travel expenses policy",
    "What is the dress code?",
    "laptop lost or stolen",
    "password reset",
    "onboarding checklist for new joiners",
    "Which tone should emails to staff use?",
    "equipment return when leaving the company",
    "personal use of company phone",
    "Is there a parking allowance?",
    "health insurance for family members",
    "first day schedule",
    "How do I report a security incident?",
    "mileage reimbursement",
    "style guide headings",
    "When is payday?",
    "Can I keep my laptop after I leave?",
]


def demo_texts() -> list[tuple[str, str]]:
    """(expected language, text) for every demo file, whole and in 60-word pieces."""
    manifest = json.loads((DEMO / "manifest.json").read_text(encoding="utf-8"))
    labelled = []
    for entry in manifest:
        parsed = parse_file(DEMO / "corpus" / entry["file"])
        labelled.append((entry["language"], parsed.text))
        words = parsed.text.split()
        for start in range(0, len(words), 60):
            labelled.append((entry["language"], f"{entry['title']}. {' '.join(words[start : start + 60])}"))
    return labelled


def accuracy(labelled: list[tuple[str, str]]) -> float:
    return sum(detect_language(text) == language for language, text in labelled) / len(labelled)


def test_detects_the_demo_documents_and_their_pieces():
    assert accuracy(demo_texts()) >= 0.98


def test_detects_short_questions_in_both_languages():
    labelled = [("es", q) for q in SPANISH_QUESTIONS] + [("en", q) for q in ENGLISH_QUESTIONS]
    assert accuracy(labelled) >= 0.9
    assert detect_language("¿Cuántos días de vacaciones tengo al año?") == "es"
    assert detect_language("How many vacation days do I get per year?") == "en"


@pytest.mark.skipif(not DATASETS.is_dir(), reason="the shared benchmark datasets are not beside the checkout")
def test_detects_the_english_benchmark_queries():
    labelled = []
    for name in ("scifact", "conditionalqa"):
        with (DATASETS / name / "queries.jsonl").open(encoding="utf-8") as handle:
            labelled += [("en", json.loads(line)["text"]) for line in handle]
    assert accuracy(labelled) >= 0.98


def test_a_long_text_in_a_third_language_is_not_called_spanish_or_english():
    french = (
        "Les salariés à temps plein bénéficient de vingt-cinq jours de congés payés par an. Les demandes "
        "doivent être adressées au responsable au moins deux semaines à l'avance, et le solde restant à la "
        "fin de l'année peut être reporté jusqu'au trente et un mars de l'année suivante."
    )
    assert detect_language(french) == "fr"


def test_text_without_letters_gets_the_default():
    assert detect_language("2026 - 42", default="en") == "en"
    assert detect_language("") == "es"
