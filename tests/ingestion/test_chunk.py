"""Heading-aware chunking measured with the embedding model's own tokenizer."""

import pytest

from ingestion.chunk import SECTION_SEPARATOR, chunk_document, embedding_prefix, embedding_text
from ingestion.embed import get_embedder
from ingestion.parsers import Block, ParsedDocument, parse_file
from tests.conftest import DEMO_CORPUS, TEST_FILES


@pytest.fixture(scope="module")
def embedder():
    return get_embedder()


def words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def test_chunks_never_span_two_sections(embedder):
    parsed = ParsedDocument(
        (Block("uno dos tres", ("Política", "1. Objeto")), Block("cuatro cinco", ("Política", "2. Ámbito")))
    )
    chunks = chunk_document(parsed, document_id=1, counter=embedder)
    assert [c.text for c in chunks] == ["uno dos tres", "cuatro cinco"]
    assert chunks[1].section == f"Política{SECTION_SEPARATOR}2. Ámbito"


def test_every_chunk_fits_the_token_budget_measured_by_the_tokenizer(embedder):
    text = " ".join(["Las vacaciones se solicitan con quince días de antelación en el Portal de Personas."] * 60)
    parsed = ParsedDocument((Block(text, ("Política de vacaciones", "3. Solicitud"), 2),))
    chunks = chunk_document(parsed, document_id=1, counter=embedder, title="Política de vacaciones", max_tokens=100)
    assert len(chunks) > 5
    sizes = embedder.count_tokens([embedding_text("Política de vacaciones", c.section, c.text) for c in chunks])
    assert max(sizes) <= 100
    assert min(sizes[:-1]) >= 70  # windows are filled, not cut short
    assert all(c.page_start == c.page_end == 2 for c in chunks)


def test_the_model_limit_caps_a_larger_setting(embedder):
    parsed = ParsedDocument((Block(words(2000), ("S",)),))
    chunks = chunk_document(parsed, document_id=1, counter=embedder, max_tokens=10_000, overlap_tokens=20)
    assert max(embedder.count_tokens([embedding_text("", c.section, c.text) for c in chunks])) <= embedder.max_tokens


def test_long_sections_overlap_a_little_and_lose_nothing(embedder):
    parsed = ParsedDocument((Block(words(400), ("S",)),))
    chunks = chunk_document(parsed, document_id=1, counter=embedder, max_tokens=120, overlap_tokens=20)
    first, second = chunks[0].text.split(), chunks[1].text.split()
    shared = [word for word in first if word in second]
    assert 2 <= len(shared) <= 12 and first[-len(shared) :] == second[: len(shared)]
    covered = set().union(*(c.text.split() for c in chunks))
    assert covered == set(words(400).split())


def test_a_section_a_little_over_the_budget_splits_into_halves_not_a_full_window_and_a_tail(embedder):
    # A short tail chunk would be a few words under the full heading: mostly heading, for BM25 and vectors.
    # Just over the budget by the model's own count (90 words with MiniLM's WordPiece, 100 with the
    # multilingual model's SentencePiece).
    n = next(n for n in range(20, 400) if embedder.count_tokens([embedding_text("", "S", words(n))])[0] > 200)
    parsed = ParsedDocument((Block(words(n), ("S",)),))
    chunks = chunk_document(parsed, document_id=1, counter=embedder, max_tokens=200, overlap_tokens=20)
    sizes = embedder.count_tokens([embedding_text("", c.section, c.text) for c in chunks])
    assert len(chunks) == 2
    assert max(sizes) <= 200
    assert min(sizes) >= 0.8 * max(sizes)
    assert set().union(*(c.text.split() for c in chunks)) == set(words(n).split())


def test_a_long_table_is_split_between_rows_repeating_its_header(embedder):
    rows = ["| Ciudad | Importe |", "| --- | --- |"] + [f"| Ciudad número {i} | {i * 10} euros |" for i in range(80)]
    parsed = ParsedDocument((Block("\n".join(rows), ("Dietas",), 3, "table"),))
    chunks = chunk_document(parsed, document_id=1, counter=embedder, max_tokens=120, overlap_tokens=10)
    assert len(chunks) > 2
    for chunk in chunks:
        lines = chunk.text.splitlines()
        assert lines[:2] == rows[:2]
        assert all(line.startswith("| ") and line.endswith(" |") for line in lines)  # whole rows only


def test_section_path_and_page_range_make_the_citation(embedder):
    parsed = parse_file(DEMO_CORPUS / "politica-vacaciones.pdf")
    chunks = chunk_document(parsed, document_id=1, counter=embedder, title=parsed.title)
    [days] = [c for c in chunks if "23 días laborables" in c.text]
    assert days.section == "3. Días de vacaciones" and days.page_start == 1
    policy = chunk_document(parse_file(TEST_FILES / "policy-tables.pdf"), document_id=2, counter=embedder)
    [table] = [c for c in policy if "| Hasta 3 días |" in c.text]
    assert (table.section, table.page_start, table.page_end) == ("3. Solicitud", 2, 2)


def test_page_range_follows_the_blocks_in_the_chunk(embedder):
    parsed = ParsedDocument((Block(words(10, "a"), ("S",), 2), Block(words(10, "b"), ("S",), 3)))
    [chunk] = chunk_document(parsed, document_id=1, counter=embedder)
    assert (chunk.page_start, chunk.page_end) == (2, 3)


def test_the_title_is_embedded_once_before_the_headings():
    assert embedding_prefix("Política", f"Política{SECTION_SEPARATOR}3. Solicitud") == "Política. 3. Solicitud\n"
    assert embedding_prefix("Política", "") == "Política\n"


def test_ids_are_content_hashes(embedder):
    parsed = ParsedDocument((Block("hola mundo", ("S",)),))
    first = chunk_document(parsed, document_id=1, counter=embedder)
    assert first == chunk_document(parsed, document_id=1, counter=embedder)
    assert first[0].chunk_id != chunk_document(parsed, document_id=2, counter=embedder)[0].chunk_id
    changed = ParsedDocument((Block("hola mundo cruel", ("S",)),))
    assert first[0].chunk_id != chunk_document(changed, document_id=1, counter=embedder)[0].chunk_id


def test_overlap_must_be_small(embedder):
    with pytest.raises(ValueError):
        chunk_document(ParsedDocument(()), document_id=1, counter=embedder, max_tokens=40, overlap_tokens=20)
