"""Parsing real files of every supported format, and a specific, readable reason for every bad one."""

import pytest

from ingestion.parsers import ParseError, parse_file
from tests.conftest import DEMO_CORPUS, TEST_FILES
from tests.system_packages import requires_ocr


def test_pdf_keeps_pages_and_numbered_sections_and_drops_running_headers():
    parsed = parse_file(DEMO_CORPUS / "politica-vacaciones.pdf")
    assert parsed.title == "Política de vacaciones y permisos"
    [days] = [b for b in parsed.blocks if "23 días laborables" in b.text]
    assert days.page == 1
    assert days.section == ("3. Días de vacaciones",)
    assert max(b.page or 0 for b in parsed.blocks) >= 2
    assert not any("Uso interno" in b.text for b in parsed.blocks)  # the running page header
    assert not any(b.text.startswith("Página ") for b in parsed.blocks)
    assert parsed.ocr_pages == ()  # a text layer is never OCRed


def test_pdf_tables_become_markdown_tables_in_reading_order():
    parsed = parse_file(TEST_FILES / "policy-tables.pdf")
    kinds = [(b.kind, b.page) for b in parsed.blocks if b.section == ("3. Solicitud",)]
    assert kinds == [("text", 2), ("table", 2), ("text", 2)]  # text, the table, the text after it
    [table] = [b for b in parsed.blocks if b.kind == "table"]
    assert table.text.splitlines()[:3] == [
        "| Duración | Antelación | Respuesta |",
        "| --- | --- | --- |",
        "| Hasta 3 días | 5 días | 48 horas |",
    ]
    assert "Hasta 3 días" not in " ".join(b.text for b in parsed.blocks if b.kind == "text")  # not twice


@requires_ocr
def test_scanned_pdf_page_is_read_by_ocr_and_only_that_page():
    parsed = parse_file(TEST_FILES / "mixed-scan.pdf")
    assert parsed.ocr_pages == (2,)
    [scanned] = [b for b in parsed.blocks if b.page == 2]
    assert "mudanza" in scanned.text and "empadronamiento" in scanned.text
    assert scanned.section == ("2. Permiso por mudanza",)  # a numbered heading read from the scan
    assert any(b.page == 1 and "matrimonio" in b.text for b in parsed.blocks)


@requires_ocr
def test_image_is_read_by_ocr_and_reports_progress():
    reports = []
    parsed = parse_file(TEST_FILES / "scanned-notice.png", on_progress=lambda *report: reports.append(report))
    assert "Bloquea la pantalla" in parsed.text
    assert "14 caracteres" in parsed.text
    assert ("ocr", 0.0, "OCR page 1/1") in reports


def test_docx_keeps_headings_lists_and_tables_in_document_order():
    parsed = parse_file(TEST_FILES / "handbook.docx")
    assert parsed.title == "Manual de acogida"
    texts = [b.text for b in parsed.blocks]
    table = next(i for i, b in enumerate(parsed.blocks) if b.kind == "table")
    assert "resume el horario" in texts[table - 1] and "Después de la tabla" in texts[table + 1]
    assert texts[table].splitlines()[2] == "| Madrid | 8:00 a 18:00 |"
    assert "1. Activa tu cuenta corporativa\n2. Configura la autenticación multifactor" in texts
    assert "- Portátil con cifrado de disco\n- Auriculares con micrófono" in texts
    assert parsed.blocks[-1].section[-2:] == ("2. Horario y equipos", "2.1 Material")


def test_demo_docx_headings_become_sections():
    parsed = parse_file(DEMO_CORPUS / "politica-teletrabajo.docx")
    assert parsed.title == "Política de teletrabajo"
    assert ("Política de teletrabajo", "3. Modalidad de trabajo híbrido") in {b.section for b in parsed.blocks}


def test_html_keeps_main_content_only_and_drops_code_and_hidden_text():
    parsed = parse_file(TEST_FILES / "intranet.html")
    text = parsed.text
    assert parsed.title == "Política de gastos"
    assert "53,34 euros" in text and "0,26 euros por kilómetro" in text  # in <p> and in a bare <div>
    assert "| Parking | Real |" in text
    assert "- Desayuno incluido en el hotel\n- Cena con factura" in text
    for boilerplate in ("SECRET-TRACKER", "Texto oculto", "Centro de ayuda", "Enlace uno", "Noticias", "aviso legal"):
        assert boilerplate not in text
    assert "Imprimir" not in text and "buscar" not in text  # controls and forms
    demo = parse_file(DEMO_CORPUS / "seguridad-informatica.html").text
    assert "14 caracteres" in demo and "Soporte TI" not in demo and "Documento de uso interno" not in demo


def test_markdown_and_plain_text_sections_and_tables():
    markdown = parse_file(TEST_FILES / "guide.md")
    [table] = [b for b in markdown.blocks if b.kind == "table"]
    assert table.section == ("Guía de compras", "1. Umbrales")
    assert "| Hasta 3.000 EUR | Responsable |" in table.text
    plain = parse_file(TEST_FILES / "notes.txt")
    assert [b.section for b in plain.blocks][1:] == [("1. Horario",), ("2. Limpieza",)]
    demo = parse_file(DEMO_CORPUS / "prevencion-riesgos.txt")
    assert not any(set(b.text) <= set("-= ") for b in demo.blocks)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("corrupt.pdf", "The PDF is damaged"),
        ("encrypted.pdf", "The PDF is password-protected"),
        ("empty.txt", "The file is empty"),
        ("broken.docx", "The DOCX file is damaged"),
        ("zip-bomb.docx", "refused as a possible zip bomb"),
        ("picture-named.pdf", "named .pdf but its content is an image"),
        ("pdf-named.docx", "named .docx but its content is a PDF"),
        pytest.param("no-text.png", "No text was found in the image", marks=requires_ocr),
    ],
)
def test_bad_files_fail_with_a_specific_reason(name, reason):
    with pytest.raises(ParseError, match=reason):
        parse_file(TEST_FILES / name)


def test_unsupported_extension_is_refused(tmp_path):
    path = tmp_path / "notes.xyz"
    path.write_text("hola")
    with pytest.raises(ParseError, match=r"Unsupported file type \.xyz"):
        parse_file(path)


def test_binary_content_named_as_text_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes((TEST_FILES / "policy-tables.pdf").read_bytes())
    with pytest.raises(ParseError, match=r"named \.txt but its content is a PDF"):
        parse_file(path)


def test_text_is_text_even_when_it_starts_like_a_binary_format(tmp_path):
    path = tmp_path / "abstract.txt"
    path.write_text("BMI-1 autoantibody as a biomarker\n\nBMI-1 is overexpressed in many cancers.\n", encoding="utf-8")
    assert "overexpressed" in parse_file(path).text
    windows = tmp_path / "ansi.txt"
    windows.write_bytes("Política de compras: año 2026.\n".encode("cp1252"))
    assert "Política de compras: año 2026." in parse_file(windows).text
