"""Stage 3: embeddings. One ``Embedder`` protocol; the sentence-transformers implementation loads the
model from a local directory (``EMBEDDING_MODEL``) and never downloads."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cache
from typing import Protocol

import numpy as np
from django.conf import settings


class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension (cosine = dot product)."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    def __init__(self, model_path: str, *, batch_size: int = 32) -> None:
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
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


@cache
def get_embedder() -> Embedder:
    return SentenceTransformerEmbedder(settings.EMBEDDING_MODEL, batch_size=settings.EMBEDDING_BATCH_SIZE)
