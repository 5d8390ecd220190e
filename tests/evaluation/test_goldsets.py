"""Gold sets: the shipped demo set and BEIR folders with answers.jsonl (ConditionalQA's layout)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from evaluation.answers import evaluation_user
from evaluation.goldsets import DEMO_GOLD_SET, gold_set_demo_all_ensure, gold_set_demo_ensure
from evaluation.models import GoldSet
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db
CONDITIONALQA = ROOT.parent / "shared" / "datasets" / "conditionalqa"


def test_the_demo_set_names_documents_of_the_demo_corpus():
    manifest = json.loads((ROOT / "demo" / "manifest.json").read_text(encoding="utf-8"))
    titles = {entry["title"] for entry in manifest}
    gold_set = gold_set_demo_ensure()
    assert gold_set.groups == ["hr"] and gold_set.corpus_path == ""
    answerable = gold_set.questions.filter(answerable=True)
    assert answerable.count() >= 15 and gold_set.questions.filter(answerable=False).count() >= 5
    for question in answerable:
        assert question.expected_documents and set(question.expected_documents) <= titles
        assert question.reference_answer
    assert gold_set_demo_ensure().pk == gold_set.pk  # imported once


def test_every_demo_set_is_imported_each_asked_as_its_groups():
    sets = {gold_set.name: gold_set for gold_set in gold_set_demo_all_ensure()}
    assert set(sets) == {"demo", "demo-out-of-scope", "demo-employees", "demo-other-groups"}
    assert sets["demo-employees"].groups == ["hr", "finance"]
    # Questions only HR's or Finance's documents answer, asked as a member of Sales, who may read neither:
    # every one must be refused.
    other = sets["demo-other-groups"]
    assert other.groups == ["sales"]
    assert other.questions.count() == 20 and not other.questions.filter(answerable=True).exists()
    manifest = json.loads((ROOT / "demo" / "manifest.json").read_text(encoding="utf-8"))
    readers = {entry["title"]: set(entry["groups"]) for entry in manifest}
    payload = json.loads((DEMO_GOLD_SET.parent / "demo-other-groups.json").read_text(encoding="utf-8"))
    asker = set(evaluation_user(other.groups).groups.values_list("name", flat=True))
    for row in payload["questions"]:
        assert readers[row["hidden_document"]] and not readers[row["hidden_document"]] & asker, row["key"]
    assert gold_set_demo_ensure("demo-other-groups").pk == other.pk  # imported once
    with pytest.raises(ValueError):
        gold_set_demo_ensure("conditionalqa")


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    rows = [{"_id": "d1", "title": "Leave", "text": "You get 23 days."}, {"_id": "d2", "title": "Cars", "text": "No."}]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    queries = [{"_id": "q1", "text": "How many days of leave?"}, {"_id": "q2", "text": "Can I park?"}]
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(r) for r in queries), encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    answers = [
        {"_id": "q1", "answers": ["23 days"], "not_answerable": False},
        {"_id": "q2", "answers": [], "not_answerable": True},
    ]
    (folder / "answers.jsonl").write_text("\n".join(json.dumps(r) for r in answers), encoding="utf-8")
    return folder


def test_a_beir_folder_with_answers_imports_in_place(tmp_path):
    folder = write_beir(tmp_path / "tiny")
    call_command("import_gold_set", "--beir", str(folder), "--name", "tiny")
    gold_set = GoldSet.objects.get(name="tiny")
    assert gold_set.corpus_path == str(folder.resolve())
    first, second = gold_set.questions.order_by("key")
    assert (first.key, first.expected_documents, first.reference_answer, first.answerable) == (
        "q1",
        ["d1"],
        "23 days",
        True,
    )
    assert second.answerable is False
    call_command("import_gold_set", "--beir", str(folder), "--name", "tiny")  # again: replaced, not doubled
    assert gold_set.questions.count() == 2


@pytest.mark.skipif(not CONDITIONALQA.is_dir(), reason="../shared/datasets/conditionalqa is not present")
def test_conditionalqa_imports_with_its_unanswerable_questions():
    call_command("import_gold_set", "--beir", str(CONDITIONALQA), "--name", "conditionalqa")
    gold_set = GoldSet.objects.get(name="conditionalqa")
    assert gold_set.questions.count() == 285
    assert gold_set.questions.filter(answerable=False).count() == 14


def test_bad_sources_are_refused(tmp_path):
    with pytest.raises(CommandError, match="not a BEIR folder"):
        call_command("import_gold_set", "--beir", str(tmp_path), "--name", "x")
    with pytest.raises(CommandError, match="needs --name"):
        call_command("import_gold_set", "--beir", str(tmp_path))
    assert DEMO_GOLD_SET.is_file()
