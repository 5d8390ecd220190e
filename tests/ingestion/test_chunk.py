import pytest

from ingestion.chunk import SECTION_SEPARATOR, chunk_document
from ingestion.parse import Block, ParsedDocument


def words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def test_chunks_never_span_two_sections():
    parsed = ParsedDocument(
        (Block("uno dos tres", ("Política", "1. Objeto")), Block("cuatro cinco", ("Política", "2. Ámbito")))
    )
    chunks = chunk_document(parsed, document_id=1)
    assert [c.text for c in chunks] == ["uno dos tres", "cuatro cinco"]
    assert chunks[1].section == f"Política{SECTION_SEPARATOR}2. Ámbito"


def test_long_section_is_split_into_overlapping_windows_within_budget():
    parsed = ParsedDocument((Block(words(250), ("S",)),))
    chunks = chunk_document(parsed, document_id=1, max_words=100, overlap_words=20)
    assert all(len(c.text.split()) <= 100 for c in chunks)
    assert chunks[0].text.split()[-20:] == chunks[1].text.split()[:20]
    covered = set().union(*(c.text.split() for c in chunks))
    assert covered == set(words(250).split())


def test_page_range_follows_the_blocks_in_the_chunk():
    parsed = ParsedDocument((Block(words(10, "a"), ("S",), 2), Block(words(10, "b"), ("S",), 3)))
    [chunk] = chunk_document(parsed, document_id=1)
    assert (chunk.page_start, chunk.page_end) == (2, 3)


def test_ids_are_content_hashes():
    parsed = ParsedDocument((Block("hola mundo", ("S",)),))
    first = chunk_document(parsed, document_id=1)
    assert first == chunk_document(parsed, document_id=1)
    assert first[0].chunk_id != chunk_document(parsed, document_id=2)[0].chunk_id
    changed = ParsedDocument((Block("hola mundo cruel", ("S",)),))
    assert first[0].chunk_id != chunk_document(changed, document_id=1)[0].chunk_id


def test_overlap_must_be_smaller_than_window():
    with pytest.raises(ValueError):
        chunk_document(ParsedDocument(()), document_id=1, max_words=10, overlap_words=10)
