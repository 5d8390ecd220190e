"""Parsing real files of every supported format, and readable failures for bad ones."""

import pytest

from ingestion.parse import ParseError, parse_file
from tests.conftest import DEMO_CORPUS, TEST_FILES


def test_pdf_keeps_pages_and_numbered_sections_and_drops_running_headers():
    parsed = parse_file(DEMO_CORPUS / "politica-vacaciones.pdf")
    assert parsed.title == "Política de vacaciones y permisos"
    [days] = [b for b in parsed.blocks if "23 días laborables" in b.text]
    assert days.page == 1
    assert days.section == ("3. Días de vacaciones",)
    assert max(b.page or 0 for b in parsed.blocks) >= 2
    assert not any("Uso interno" in b.text for b in parsed.blocks)  # the running page header
    assert not any(b.text.startswith("Página ") for b in parsed.blocks)


def test_docx_headings_become_sections_and_lists_and_tables_are_kept():
    parsed = parse_file(DEMO_CORPUS / "politica-teletrabajo.docx")
    assert parsed.title == "Política de teletrabajo"
    sections = {b.section for b in parsed.blocks}
    assert ("Política de teletrabajo", "3. Modalidad de trabajo híbrido") in sections
    assert any(b.text.startswith("- ") for b in parsed.blocks)
    assert any(" | " in b.text for b in parsed.blocks)


def test_html_keeps_main_content_only():
    parsed = parse_file(DEMO_CORPUS / "seguridad-informatica.html")
    text = parsed.text
    assert "Contraseñas" in " ".join(" ".join(b.section) for b in parsed.blocks)
    assert "14 caracteres" in text
    html = (DEMO_CORPUS / "seguridad-informatica.html").read_text(encoding="utf-8")
    boilerplate = ["Soporte TI", "Documento de uso interno"]  # a navigation link and the footer
    assert all(phrase in html for phrase in boilerplate)
    assert not any(phrase in text for phrase in boilerplate)


def test_markdown_and_plain_text_sections():
    markdown = parse_file(DEMO_CORPUS / "proteccion-datos.md")
    assert markdown.blocks[1].section[0] == markdown.title
    plain = parse_file(DEMO_CORPUS / "prevencion-riesgos.txt")
    assert any(b.section and b.section[-1].startswith("1. ") for b in plain.blocks)
    assert not any(set(b.text) <= set("-= ") for b in plain.blocks)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("corrupt.pdf", "The PDF is damaged"),
        ("empty.txt", "The file is empty"),
        ("broken.docx", "The DOCX file is damaged"),
    ],
)
def test_bad_files_fail_with_a_readable_reason(name, reason):
    with pytest.raises(ParseError, match=reason):
        parse_file(TEST_FILES / name)


def test_unsupported_extension_is_refused(tmp_path):
    path = tmp_path / "notes.xyz"
    path.write_text("hola")
    with pytest.raises(ParseError, match=r"Unsupported file type \.xyz"):
        parse_file(path)
