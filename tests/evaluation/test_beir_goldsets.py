"""The demo company's BEIR folders (evaluation/goldsets/beir) are what build_beir.py writes from the demo
sources and the question files, and each direction of the cross-language set holds at least 40 questions."""

from __future__ import annotations

import importlib.util
import json

from django.conf import settings

from evaluation.retrieval import beir_load

GOLDSETS = settings.BASE_DIR / "evaluation" / "goldsets"


def _builder():
    spec = importlib.util.spec_from_file_location("build_beir", GOLDSETS / "build_beir.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_folders_are_current():
    for relative, content in _builder().build().items():
        assert (GOLDSETS / "beir" / relative).read_text(encoding="utf-8") == content, relative


def test_each_cross_language_direction_asks_about_documents_in_the_other_language():
    manifest = json.loads((settings.BASE_DIR / "demo" / "manifest.json").read_text(encoding="utf-8"))
    languages = {item["file"].rsplit(".", 1)[0]: item["language"] for item in manifest}
    for direction in ("es-en", "en-es"):
        dataset = beir_load(GOLDSETS / "beir" / f"crosslingual-{direction}")
        assert len(dataset.queries) >= 40
        target = direction.split("-")[1]
        assert {languages[doc] for grades in dataset.judgements.values() for doc in grades} == {target}
