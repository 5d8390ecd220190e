"""The viewer's text: overlapping chunks read once, in order; the cited one whole (ingestion/viewer.py)."""

from __future__ import annotations

from ingestion.models import Chunk
from ingestion.viewer import shared_edge, viewer_blocks

FIRST = "Los días se generan cada mes. Por ejemplo, quien se incorpora en julio"
SECOND = "Por ejemplo, quien se incorpora en julio recibe la mitad. Las vacaciones se piden en el portal."


def chunk(n: int, text: str, *, section: str = "3. Días", page: int = 1) -> Chunk:
    return Chunk(chunk_id=f"c{n}", ordinal=n, text=text, section=section, page_start=page, page_end=page)


def test_the_overlap_between_two_chunks_is_shown_once() -> None:
    blocks = viewer_blocks([chunk(0, FIRST), chunk(1, SECOND)])
    text = " ".join(str(block.html) for block in blocks)
    assert text.count("Por ejemplo, quien se incorpora en julio") == 1
    assert "Los días se generan cada mes." in text and "recibe la mitad" in text
    assert [block.section for block in blocks] == ["3. Días", ""]  # the heading once per section


def test_the_cited_chunk_is_whole_and_the_one_before_gives_up_the_shared_end() -> None:
    blocks = viewer_blocks([chunk(0, FIRST), chunk(1, SECOND)], highlight="c1")
    assert "Por ejemplo, quien se incorpora en julio recibe" in str(blocks[1].html) and blocks[1].highlight
    assert "Por ejemplo" not in str(blocks[0].html)


def test_chunks_of_different_sections_are_never_trimmed_and_pages_are_marked() -> None:
    blocks = viewer_blocks([chunk(0, FIRST), chunk(1, SECOND, section="4. Otra", page=2)])
    assert "Por ejemplo, quien se incorpora en julio recibe" in str(blocks[1].html)
    assert [block.page for block in blocks] == [1, 2]


def test_a_short_coincidence_is_not_an_overlap_and_markdown_is_rendered_without_html() -> None:
    assert shared_edge("termina en la", "la siguiente") == 0
    blocks = viewer_blocks([chunk(0, "Hasta **2 días por semana** <script>x()</script>")])
    assert "<strong>2 días por semana</strong>" in str(blocks[0].html) and "<script>" not in str(blocks[0].html)


def test_a_table_window_keeps_its_repeated_header_and_loses_only_the_shared_rows() -> None:
    header = "| Causa | Duración |\n| --- | --- |\n"
    first = chunk(0, header + "| Matrimonio | 15 días |\n| Mudanza | 1 día |")
    second = chunk(1, header + "| Mudanza | 1 día |\n| Fallecimiento | 2 días |")
    shown = str(viewer_blocks([first, second])[1].html)
    assert "<th>Causa</th>" in shown and "<td>Fallecimiento</td>" in shown and "Mudanza" not in shown
