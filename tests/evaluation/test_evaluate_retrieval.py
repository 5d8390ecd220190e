"""``evaluate_retrieval`` end to end on a tiny BEIR folder, through the real pipeline and model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from evaluation.retrieval import beir_load

CORPUS = [
    {"_id": "vac", "title": "Vacation policy", "text": "Full-time staff get 23 working days of paid vacation a year."},
    {"_id": "car", "title": "Company cars", "text": "Company cars are assigned to the sales team for client visits."},
    {"_id": "lap", "title": "Laptops", "text": "A lost or stolen laptop must be reported to IT security at once."},
]
QUERIES = [
    {"_id": "q1", "text": "How many vacation days do I get each year?"},
    {"_id": "q2", "text": "I lost my laptop, who do I tell?"},
    {"_id": "q3", "text": "A question nobody judged"},
]


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(row) for row in CORPUS) + "\n", encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text("\n".join(json.dumps(row) for row in QUERIES) + "\n", encoding="utf-8")
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tvac\t1\nq2\tlap\t1\n")
    return tmp_path


def test_only_judged_queries_are_kept(beir):
    dataset = beir_load(beir)
    assert list(dataset.queries) == ["q1", "q2"]
    assert dataset.judgements["q2"] == {"lap": 1}
    assert [entry.corpus_id for entry in dataset.corpus] == ["vac", "car", "lap"]


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_the_command_prints_and_writes_every_figure(beir, tmp_path, mode, capsys):
    output = tmp_path / "figures.json"
    call_command(
        "evaluate_retrieval", "--beir", str(beir), "--mode", mode, "--json", str(output), "--no-embedding-cache"
    )
    figures = json.loads(output.read_text())
    for key in ("ndcg@10", "recall@10", "recall@100", "mrr@10", "docs", "queries", "index_seconds"):
        assert key in figures
    assert figures["ndcg@10"] == pytest.approx(1.0)
    assert figures["docs"] == 3 and figures["queries"] == 2 and figures["mode"] == mode
    assert figures["query_ms_p95"] >= figures["query_ms_p50"] > 0
    assert "ndcg@10" in capsys.readouterr().out


def test_a_folder_that_is_not_beir_is_refused(tmp_path):
    with pytest.raises(CommandError, match="not a BEIR folder"):
        call_command("evaluate_retrieval", "--beir", str(tmp_path))
