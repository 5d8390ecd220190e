"""Answers are rendered from Markdown to safe HTML with citation chips."""

from __future__ import annotations

from chatbot.events import Source
from chatbot.rendering import answer_html

SOURCES: list[Source] = [
    {
        "n": 1,
        "document_id": 3,
        "title": 'Vacaciones "2026"',
        "location": "3. Días",
        "quote": "",
        "url": "/documents/3/?chunk=a#chunk-a",
    }
]


def test_markdown_is_rendered_and_citations_become_links_to_the_passage():
    html = answer_html("Tienes **23 días** [1].\n\n- uno\n- dos", SOURCES)
    assert "<strong>23 días</strong>" in html
    assert (
        '<a class="cite" href="/documents/3/?chunk=a#chunk-a" data-n="1"'
        ' title="Vacaciones &quot;2026&quot; — 3. Días">1</a>' in html
    )
    assert "<ul>\n<li>uno</li>" in html


def test_html_scripts_links_and_images_from_the_model_never_become_markup():
    html = answer_html(
        "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) ![i](http://evil/i.png) <http://evil>",
        SOURCES,
    )
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "<a" not in html  # only citations are links
    assert "&lt;script&gt;" in html


def test_unknown_citations_stay_text_and_headings_are_demoted():
    html = answer_html("# Título\n\nVer [4].", SOURCES)
    assert "<h3>Título</h3>" in html and "Ver [4]." in html
