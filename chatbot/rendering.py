"""Answers as safe HTML: Markdown rendered on the server, citations as links, then sanitised.

Model output is untrusted: markdown-it-py renders it with raw HTML, links and images disabled (a citation
is the only link an answer may carry), ``[n]`` markers naming a provided source become citation chips, and
nh3 (the ammonia sanitiser) keeps only a small allow-list of tags and attributes, whatever slipped through.
The browser inserts this HTML as is; everything else it shows is built from text nodes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import cache

import nh3
from markdown_it import MarkdownIt

from chatbot.events import Source

_CITATION = re.compile(r"\[(\d+)\]")
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "hr", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "class", "title", "data-n"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}


@cache
def _markdown() -> MarkdownIt:
    # Headings of an answer are demoted to h3+ so they never outrank the page's own.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")
    md.disable(["link", "image", "autolink", "reference"])
    return md


def _demote_headings(rendered: str) -> str:
    return re.sub(r"<(/?)h([12])>", lambda m: f"<{m.group(1)}h{int(m.group(2)) + 2}>", rendered)


def answer_html(text: str, sources: Sequence[Source]) -> str:
    by_n = {source["n"]: source for source in sources}

    def cite(match: re.Match[str]) -> str:
        source = by_n.get(int(match.group(1)))
        if source is None:
            return match.group(0)
        label = f"{source['title']} — {source['location']}" if source["location"] else source["title"]
        return (
            f'<a class="cite" href="{html.escape(source["url"])}" data-n="{source["n"]}"'
            f' title="{html.escape(label)}">{source["n"]}</a>'
        )

    rendered = _demote_headings(_markdown().render(text))
    # Citation markers only ever appear in text here: raw HTML and links are disabled above.
    rendered = _CITATION.sub(cite, rendered)
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel=None,
        strip_comments=True,
    )
