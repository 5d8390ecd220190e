"""What ``reindex`` does when the index was made for another embedding model's vector width: the decision,
and its orchestration around a fixed-width index (the Elasticsearch side against a real server is in
test_search_contract.py; the embedded path end to end in test_commands.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from ingestion import bulk
from ingestion.bulk import documents_load_paths, documents_reindex, reindex_action
from ingestion.embed import get_embedder
from ingestion.models import Document
from ingestion.search import FixedDimensionBackend, IndexedChunk, SearchBackend
from tests.conftest import TEST_FILES


@pytest.mark.parametrize(
    ("index_dimension", "action"),
    [(384, "rebuild"), (512, "replace"), (None, "replace")],
    ids=["another-width", "same-width", "no-fixed-width"],
)
def test_only_an_index_fixed_to_another_width_is_rebuilt(index_dimension: int | None, action: str) -> None:
    assert reindex_action(index_dimension=index_dimension, model_dimension=512) == action


class FixedWidthIndex:
    """The real index under test, seen as one fixed to ``width`` (as an Elasticsearch mapping is)."""

    def __init__(self, index: SearchBackend, width: int) -> None:
        self.index = index
        self.width = width
        self.rebuilt: list[list[tuple[int, Sequence[IndexedChunk]]]] = []

    def vector_dimension(self) -> int | None:
        return self.width

    def rebuild(self, documents: Iterable[tuple[int, Sequence[IndexedChunk]]]) -> str:
        self.rebuilt.append(list(documents))
        self.index.clear()
        self.width = get_embedder().dimension
        return "faro-chunks-new"

    def clear(self) -> None:
        self.index.clear()


@pytest.mark.django_db
def test_an_index_of_another_width_is_rebuilt_empty_then_every_indexed_document_re_embedded(
    search_index: SearchBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(TEST_FILES / "notes.txt", tmp_path / "notes.txt")
    shutil.copy(TEST_FILES / "encrypted.pdf", tmp_path / "encrypted.pdf")
    documents_load_paths(paths=[tmp_path / "notes.txt", tmp_path / "encrypted.pdf"], owner=None)
    notes = Document.objects.get(original_name="notes.txt")
    assert notes.embedding_model == get_embedder().name[-300:]  # already the current model's name
    index = FixedWidthIndex(search_index, width=get_embedder().dimension + 1)
    assert isinstance(index, FixedDimensionBackend)
    monkeypatch.setattr(bulk, "get_search_backend", lambda: index)

    ids, documents = documents_reindex(everything=False, model_changed=True)

    assert index.rebuilt == [[]]  # one swap, to an empty index of the model's width
    assert ids == [notes.pk], "every indexed document, its model's name notwithstanding; failed ones stay"
    assert [document.status for document in documents] == [Document.Status.INDEXED]
    assert Document.objects.get(original_name="encrypted.pdf").status == Document.Status.FAILED
    assert documents_reindex(everything=False, model_changed=True)[0] == []  # the width matches now
    assert index.rebuilt == [[]]
