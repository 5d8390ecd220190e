"""The embedder encodes concurrent callers together and gives each exactly its own vectors."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ingestion.embed import SentenceTransformerEmbedder, get_embedder

QUESTIONS = [
    "¿Cuántos días de vacaciones tengo al año?",
    "How do I report a lost laptop?",
    "¿Puedo teletrabajar desde otro país?",
    "What is the expense limit for a hotel night?",
    "¿Quién aprueba una compra de más de 5.000 euros?",
    "Where do I find the code of conduct?",
]


@pytest.fixture
def embedder() -> SentenceTransformerEmbedder:
    model = get_embedder()
    assert isinstance(model, SentenceTransformerEmbedder)
    return model


def test_concurrent_callers_share_batches_and_get_their_own_vectors(embedder, monkeypatch):
    alone = {question: embedder.embed([question])[0] for question in QUESTIONS}
    calls: list[int] = []
    encode = embedder._model.encode
    gate = threading.Event()

    def counting_encode(texts, **kwargs):
        calls.append(len(texts))
        gate.wait(5)  # hold the first batch until every caller has queued behind it
        return encode(texts, **kwargs)

    monkeypatch.setattr(embedder._model, "encode", counting_encode)
    callers = QUESTIONS * 4
    with ThreadPoolExecutor(max_workers=len(callers)) as pool:
        futures = [pool.submit(embedder.embed, [question]) for question in callers]
        deadline = time.monotonic() + 30
        while len(embedder._queue) < len(callers) - 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # the first caller is encoding alone; the others queue behind it
        gate.set()
        results = [future.result() for future in futures]

    assert calls == [1, len(callers) - 1]
    for question, vectors in zip(callers, results, strict=True):
        assert vectors.shape == (1, embedder.dimension)
        np.testing.assert_allclose(vectors[0], alone[question], atol=1e-5)


def test_a_failed_batch_fails_every_caller_in_it_and_the_next_call_works(embedder, monkeypatch):
    encode = embedder._model.encode

    def broken_encode(texts, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(embedder._model, "encode", broken_encode)
    with pytest.raises(RuntimeError, match="out of memory"):
        embedder.embed(["¿Cuántos días de vacaciones tengo al año?"])
    monkeypatch.setattr(embedder._model, "encode", encode)
    assert embedder.embed(["vacaciones"]).shape == (1, embedder.dimension)
    assert embedder._queue == []
