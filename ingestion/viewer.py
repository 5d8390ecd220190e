"""The document viewer's text: the document once, in reading order, from its indexed chunks.

A long section is chunked into windows that overlap (``ingestion/chunk.py``), so printing the chunks one
after another repeats each overlap. Here each chunk loses the start it shares with the chunk before it in
the same section, except the cited one, which is shown whole (the chunk before it loses that end instead),
so the highlighted passage is exactly what was cited. Headings mark each new section and, for paginated
documents, each new page. The text is Markdown (tables, lists, emphasis from DOCX, HTML and Markdown
sources; PDFs read as paragraphs), rendered without raw HTML, links or images and sanitised with nh3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from ingestion.models import Chunk

MIN_OVERLAP_CHARS = 12  # a shorter shared edge is a coincidence, not the chunker's overlap
MAX_OVERLAP_CHARS = 4000
_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip
_ATTRIBUTES = {"ol": {"start"}, "th": {"align"}, "td": {"align"}}


@dataclass(frozen=True)
class ViewerBlock:
    chunk_id: str
    html: SafeString
    section: str  # set when this block starts a section
    page: int | None  # set when this block starts a page
    highlight: bool


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")
    md.disable(["link", "image", "autolink", "reference", "heading", "lheading"])
    return md


def shared_edge(previous: str, current: str) -> int:
    """Length of the longest end of ``previous`` that ``current`` starts with (0 below MIN_OVERLAP_CHARS)."""
    if not previous or not current:
        return 0
    start = max(0, len(previous) - MAX_OVERLAP_CHARS)
    position = previous.find(current[0], start)
    while position != -1 and len(previous) - position >= MIN_OVERLAP_CHARS:
        if current.startswith(previous[position:]):
            return len(previous) - position
        position = previous.find(current[0], position + 1)
    return 0


def table_header(text: str) -> str:
    """The header and rule rows a table chunk starts with (the chunker repeats them in each window)."""
    lines = text.split("\n", 2)
    if len(lines) >= 2 and lines[0].startswith("|") and lines[1].startswith("|") and not lines[1].strip("|-: "):
        return f"{lines[0]}\n{lines[1]}\n"
    return ""


def render_text(text: str) -> SafeString:
    html = _markdown().render(text)
    return mark_safe(nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES))


def viewer_blocks(chunks: Sequence[Chunk], *, highlight: str = "") -> list[ViewerBlock]:
    """One block per chunk in reading order, without the text it shares with its neighbours."""
    # A table's repeated header stays (a table needs it); only the rows the windows share go.
    headers = [table_header(chunk.text) for chunk in chunks]
    edges = [0] + [
        shared_edge(before.text, after.text[len(header) :]) if before.section == after.section else 0
        for (before, after), header in zip(pairwise(chunks), headers[1:], strict=True)
    ]
    blocks: list[ViewerBlock] = []
    section, page = None, None
    for index, chunk in enumerate(chunks):
        cited = chunk.chunk_id == highlight
        start = 0 if cited or not edges[index] else len(headers[index]) + edges[index]
        following_cited = index + 1 < len(chunks) and chunks[index + 1].chunk_id == highlight
        end = len(chunk.text) - (edges[index + 1] if following_cited else 0)
        text = chunk.text[start:end] if start < end else ""
        if start and headers[index]:
            text = headers[index] + text.lstrip("\n")
        new_section = chunk.section if chunk.section != section else ""
        new_page = chunk.page_start if chunk.page_start is not None and chunk.page_start != page else None
        section, page = chunk.section, chunk.page_end if chunk.page_end is not None else chunk.page_start
        blocks.append(
            ViewerBlock(
                chunk_id=chunk.chunk_id,
                html=render_text(text.strip()) if text.strip() else mark_safe(""),
                section=new_section,
                page=new_page,
                highlight=cited,
            )
        )
    return blocks
