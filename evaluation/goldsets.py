"""Gold sets in and out: the JSON file shipped for the demo corpus, and BEIR folders with ``answers.jsonl``
(``../shared/datasets/conditionalqa``), read in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from evaluation.models import GoldQuestion, GoldSet
from evaluation.retrieval import beir_load

DEMO_GOLD_SET = settings.BASE_DIR / "evaluation" / "goldsets" / "demo.json"
# The demo company's sets (``evaluation/goldsets/<name>.json``, named as their file): the first questions,
# questions outside its documents (half sharing their words), employees' paraphrases, several asked in the
# other language than the document's, and questions only other groups' documents answer (asked as Sales,
# who may read neither HR's nor Finance's; each set names the groups it is asked as).
DEMO_GOLD_SETS = ("demo", "demo-out-of-scope", "demo-employees", "demo-other-groups")


def _replace_questions(gold_set: GoldSet, questions: list[dict[str, Any]]) -> None:
    gold_set.questions.all().delete()
    GoldQuestion.objects.bulk_create(
        GoldQuestion(
            gold_set=gold_set,
            key=str(row["key"]),
            question=str(row["question"]),
            expected_documents=[str(doc) for doc in row.get("expected_documents", [])],
            reference_answer=str(row.get("reference_answer") or ""),
            answer_spans=[str(span) for span in row.get("answer_spans", [])],
            evidence_sentences=[str(sentence) for sentence in row.get("evidence_sentences", [])],
            answerable=bool(row.get("answerable", True)),
        )
        for row in questions
    )


@transaction.atomic
def gold_set_import_file(*, path: Path, name: str | None = None) -> GoldSet:
    """A JSON gold set: ``{name, description, groups, questions: [{key, question, expected_documents
    (titles), reference_answer, answer_spans, answerable}]}``. Importing again replaces the questions."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    if not payload.get("questions"):
        raise ValueError(f"{path} has no questions")
    gold_set, _ = GoldSet.objects.update_or_create(
        name=name or payload["name"],
        defaults={
            "description": payload.get("description", ""),
            "source": str(path),
            "corpus_path": "",
            "groups": [str(group) for group in payload.get("groups", [])],
        },
    )
    _replace_questions(gold_set, payload["questions"])
    return gold_set


@transaction.atomic
def gold_set_import_beir(*, directory: Path, name: str, split: str = "test", description: str = "") -> GoldSet:
    """Questions and judgements of a BEIR folder, with reference answers, evidence sentences and the
    answerable flag from its ``answers.jsonl`` (``{_id, answers, evidences, not_answerable}``) when there is
    one (each answer is also a span a correct answer holds). The corpus stays in the folder and is indexed
    afresh by every run."""
    dataset = beir_load(directory, split=split)
    answers: dict[str, dict[str, Any]] = {}
    answers_file = directory / "answers.jsonl"
    if answers_file.is_file():
        with answers_file.open(encoding="utf-8") as handle:
            answers = {str(row["_id"]): row for row in map(json.loads, handle) if row}
    gold_set, _ = GoldSet.objects.update_or_create(
        name=name,
        defaults={
            "description": description or f"BEIR folder {directory.resolve().name} ({split})",
            "source": str(directory.resolve()),
            "corpus_path": str(directory.resolve()),
            "groups": [],
        },
    )
    questions = []
    for key, text in dataset.queries.items():
        answer = answers.get(key, {})
        questions.append(
            {
                "key": key,
                "question": text,
                "expected_documents": [doc for doc, grade in dataset.judgements[key].items() if grade > 0],
                "reference_answer": " | ".join(str(a) for a in answer.get("answers", [])),
                "answer_spans": [str(a) for a in answer.get("answers", [])],
                "evidence_sentences": [str(e) for e in answer.get("evidences", [])],
                "answerable": not answer.get("not_answerable", False),
            }
        )
    _replace_questions(gold_set, questions)
    return gold_set


def gold_set_demo_ensure(name: str = "demo") -> GoldSet:
    """A gold set shipped for the demo company (one of ``DEMO_GOLD_SETS``), imported from the repository on
    first use."""
    if name not in DEMO_GOLD_SETS:
        raise ValueError(f"{name!r} is not a demo gold set ({', '.join(DEMO_GOLD_SETS)})")
    found = GoldSet.objects.filter(name=name).first()
    return found if found is not None else gold_set_import_file(path=DEMO_GOLD_SET.parent / f"{name}.json", name=name)


def gold_set_demo_all_ensure() -> list[GoldSet]:
    """Every gold set shipped for the demo company, imported on first use."""
    return [gold_set_demo_ensure(name) for name in DEMO_GOLD_SETS]
