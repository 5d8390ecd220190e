"""HTML: **BeautifulSoup** (lxml parser) keeps the page's main landmark and only its text: scripts, styles,
hidden elements, navigation, forms and embedded objects never reach the index."""

from __future__ import annotations

import re
from typing import Any

from ingestion.parsers.base import Block, ParsedDocument, Parser, Sections, markdown_table, read_text

_HTML_DROP = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "form",
    "button", "input", "select", "textarea", "nav", "aside", "dialog", "head",
)  # fmt: skip
_HTML_CHROME = ("header", "footer")  # page chrome when outside the main landmark
_HTML_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"}
_HTML_BLOCKS = {
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "pre", "blockquote",
    "figure", "figcaption", "table", "header", "footer", "address", "details", "summary", "hr", "br",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _html_hidden(element: Any) -> bool:
    attrs = element.attrs or {}
    return (
        "hidden" in attrs
        or str(attrs.get("aria-hidden", "")).lower() == "true"
        or bool(_HIDDEN_STYLE.search(str(attrs.get("style", ""))))
        or str(attrs.get("role", "")).lower() in _HTML_DROP_ROLES
    )


def _parse_html(html: str) -> ParsedDocument:
    from bs4 import BeautifulSoup, Comment, Tag
    from bs4.element import NavigableString

    soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for comment in soup.find_all(string=lambda text: isinstance(text, Comment)):
        comment.extract()
    for tag in soup(_HTML_DROP):
        tag.decompose()
    for tag in soup.find_all(_html_hidden):
        tag.decompose()
    root: Any = soup.find("main") or soup.find(True, attrs={"role": "main"})
    articles = soup.find_all("article")
    if root is None and len(articles) == 1:
        root = articles[0]
    if root is None:
        root = soup.body or soup
        for tag in root.find_all(_HTML_CHROME):
            tag.decompose()

    sections = Sections()
    blocks: list[Block] = []
    inline: list[str] = []
    h1 = ""

    def flush(prefix: str = "") -> None:
        text = " ".join(" ".join(inline).split())
        inline.clear()
        if text:
            blocks.append(Block(prefix + text, sections.current))

    def walk(element: Any, list_marker: str = "") -> None:
        nonlocal h1
        for child in element.children:
            if isinstance(child, NavigableString):
                inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name not in _HTML_BLOCKS:
                walk(child, list_marker)
                continue
            flush()
            if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
                text = child.get_text(" ", strip=True)
                if text:
                    sections.enter(int(name[1]), text)
                    if name == "h1" and not h1:
                        h1 = text
            elif name == "table":
                rows = [
                    [cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])]
                    for row in child.find_all("tr")
                ]
                table = markdown_table(rows)
                if table:
                    blocks.append(Block(table, sections.current, None, "table"))
            elif name in ("ul", "ol"):
                for number, item in enumerate(child.find_all("li", recursive=False), start=1):
                    marker = f"{number}. " if name == "ol" else "- "
                    walk(item, marker)
                    flush(marker)
            elif name == "pre":
                text = child.get_text()
                if text.strip():
                    blocks.append(Block(text.strip("\n"), sections.current))
            else:
                walk(child, list_marker)
                flush()

    walk(root)
    flush()
    # Merge consecutive list items into one block so a list stays together in a chunk.
    merged: list[Block] = []
    for block in blocks:
        is_item = bool(re.match(r"^(- |\d+\. )", block.text)) and block.kind == "text"
        if is_item and merged and merged[-1].section == block.section and merged[-1].kind == "list":
            merged[-1] = Block(f"{merged[-1].text}\n{block.text}", block.section, None, "list")
        else:
            merged.append(Block(block.text, block.section, None, "list" if is_item else block.kind))
    return ParsedDocument(tuple(merged), h1 or title)


PARSER = Parser(
    label="HTML",
    extensions=(".html", ".htm"),
    mime_types=("text/html",),
    content="text",
    parse=lambda path, progress: _parse_html(read_text(path)),
)
