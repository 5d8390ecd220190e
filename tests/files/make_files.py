"""Regenerate the test corpus in this folder, byte for byte: ``.venv/bin/python tests/files/make_files.py``.

Good files of every format (text-layer PDF with a ruled table, a PDF with a scanned page, a scanned image,
DOCX, HTML, Markdown, text) and bad ones (encrypted PDF, DOCX zip bomb, an image without text, files whose
extension lies). Scans are text drawn with Pillow's built-in font, so no system font is needed.
corrupt.pdf, broken.docx and empty.txt are kept as they are.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter

HERE = Path(__file__).resolve().parent
FIXED = datetime(2026, 1, 1, tzinfo=UTC)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def scan(lines: list[str], *, width: int = 1240, size: int = 30) -> Image.Image:
    """A white page with black text, like a clean 150 dpi scan."""
    font = ImageFont.load_default(size=size)
    image = Image.new("L", (width, 120 + len(lines) * int(size * 1.6)), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((80, 60 + number * int(size * 1.6)), line, fill=0, font=font)
    return image


def pdf_document(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED)
    pdf.set_title(title)
    pdf.set_auto_page_break(True, 20)
    return pdf


def heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("helvetica", "B", 13)
    pdf.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)


def paragraph(pdf: FPDF, text: str) -> None:
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def policy_tables_pdf() -> None:
    pdf = pdf_document("Política de vacaciones")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, "Política de vacaciones", new_x="LMARGIN", new_y="NEXT")
    heading(pdf, "1. Objeto")
    paragraph(pdf, "Esta política regula las vacaciones anuales de toda la plantilla de Lumen.")
    heading(pdf, "2. Días de vacaciones")
    paragraph(pdf, "Cada persona disfruta de 23 días laborables de vacaciones al año natural.")
    pdf.add_page()
    heading(pdf, "3. Solicitud")
    paragraph(pdf, "Las vacaciones se solicitan en el Portal de Personas con quince días de antelación.")
    paragraph(pdf, "Los plazos de respuesta dependen de la duración solicitada:")
    with pdf.table(col_widths=(60, 60, 60), first_row_as_headings=True) as table:
        for row in (
            ("Duración", "Antelación", "Respuesta"),
            ("Hasta 3 días", "5 días", "48 horas"),
            ("Hasta 10 días", "15 días", "5 días"),
            ("Más de 10 días", "30 días", "10 días"),
        ):
            cells = table.row()
            for value in row:
                cells.cell(value)
    pdf.ln(4)
    paragraph(pdf, "Si el responsable no contesta en plazo, la solicitud se considera aprobada.")
    pdf.output(str(HERE / "policy-tables.pdf"))


def mixed_scan_pdf() -> None:
    """Page 1 has a text layer; page 2 is only a scanned image (OCR must read it, and only it)."""
    pdf = pdf_document("Permisos retribuidos")
    pdf.add_page()
    heading(pdf, "1. Permisos retribuidos")
    paragraph(pdf, "La plantilla tiene derecho a permisos retribuidos por matrimonio y mudanza.")
    pdf.add_page()
    buffer = io.BytesIO()
    scan(
        [
            "2. Permiso por mudanza",
            "El permiso por mudanza es de un dia laborable.",
            "Se justifica con el certificado de empadronamiento.",
        ]
    ).save(buffer, format="PNG")
    buffer.seek(0)
    pdf.image(buffer, x=0, y=0, w=210)
    pdf.output(str(HERE / "mixed-scan.pdf"))


def images() -> None:
    scan(
        [
            "Aviso de seguridad",
            "Bloquea la pantalla cuando te levantes del puesto.",
            "Las contraseñas tienen al menos 14 caracteres.",
        ]
    ).save(HERE / "scanned-notice.png", optimize=False)
    blank = Image.new("L", (800, 600), 235)
    draw = ImageDraw.Draw(blank)
    for step in range(0, 600, 40):
        draw.ellipse((step, step // 2, step + 160, step // 2 + 120), outline=120, width=6)
    blank.save(HERE / "no-text.png", optimize=False)


def _deterministic_zip(data: bytes, out: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in sorted(source.namelist()):
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(name))


def handbook_docx() -> None:
    document = Document()
    document.core_properties.title = "Manual de acogida"
    document.core_properties.created = FIXED.replace(tzinfo=None)
    document.core_properties.modified = FIXED.replace(tzinfo=None)
    document.add_heading("Manual de acogida", level=0)
    document.add_heading("1. Primer día", level=1)
    document.add_paragraph("El primer día recoges el portátil en recepción a las 9:00.")
    document.add_paragraph("Activa tu cuenta corporativa", style="List Number")
    document.add_paragraph("Configura la autenticación multifactor", style="List Number")
    document.add_heading("2. Horario y equipos", level=1)
    document.add_paragraph("Este cuadro resume el horario de cada oficina:")
    table = document.add_table(rows=3, cols=2)
    schedule = (("Oficina", "Horario"), ("Madrid", "8:00 a 18:00"), ("Valencia", "8:30 a 17:30"))
    for row, values in zip(table.rows, schedule, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("Después de la tabla, el texto sigue en su orden.")
    document.add_heading("2.1 Material", level=2)
    document.add_paragraph("Portátil con cifrado de disco", style="List Bullet")
    document.add_paragraph("Auriculares con micrófono", style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    _deterministic_zip(buffer.getvalue(), HERE / "handbook.docx")


def zip_bomb_docx() -> None:
    """A .docx whose document.xml declares 64 MB of zeros squeezed ~1000:1."""
    with zipfile.ZipFile(HERE / "zip-bomb.docx", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", ZIP_TIME), '<?xml version="1.0"?><Types/>')
        info = zipfile.ZipInfo("word/document.xml", ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, b"\x00" * (64 * 1024 * 1024))


def encrypted_pdf() -> None:
    writer = PdfWriter(clone_from=PdfReader(HERE / "policy-tables.pdf"))
    writer.encrypt(user_password="secreto", owner_password="secreto-owner", algorithm="RC4-128")
    writer._ID = None
    with (HERE / "encrypted.pdf").open("wb") as out:
        writer.write(out)


def liars() -> None:
    """Files whose extension does not match their content."""
    (HERE / "picture-named.pdf").write_bytes((HERE / "scanned-notice.png").read_bytes())
    (HERE / "pdf-named.docx").write_bytes((HERE / "policy-tables.pdf").read_bytes())


def text_formats() -> None:
    (HERE / "intranet.html").write_text(
        """<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>Gastos | Intranet</title>
<style>.x { color: red }</style><script>window.tracking = "SECRET-TRACKER";</script></head>
<body>
<header><a href="/">Inicio</a> <a href="/ayuda">Centro de ayuda</a></header>
<nav><ul><li><a href="/a">Enlace uno</a></li><li><a href="/b">Enlace dos</a></li></ul></nav>
<main>
<h1>Política de gastos</h1>
<p>Los gastos de viaje se reembolsan con el <strong>justificante</strong> original.</p>
<div style="display:none">Texto oculto que no debe indexarse</div>
<h2>1. Dietas</h2>
<p>La dieta diaria en territorio nacional es de 53,34 euros.</p>
<ul><li>Desayuno incluido en el hotel</li><li>Cena con factura</li></ul>
<h2>2. Kilometraje</h2>
<div>El kilometraje se paga a 0,26 euros por kilómetro.</div>
<table><tr><th>Concepto</th><th>Importe</th></tr><tr><td>Parking</td><td>Real</td></tr></table>
<button onclick="alert(1)">Imprimir</button>
<form><input name="q" value="buscar"></form>
</main>
<aside>Noticias del día</aside>
<footer>Copyright Lumen - aviso legal</footer>
</body></html>
""",
        encoding="utf-8",
    )
    (HERE / "guide.md").write_text(
        """# Guía de compras

Introducción a las compras de material.

## 1. Umbrales

| Importe | Aprobación |
| --- | --- |
| Hasta 3.000 EUR | Responsable |
| Más de 3.000 EUR | Dirección financiera |

## 2. Pasos

1. Pide tres presupuestos.
2. Registra el pedido.
""",
        encoding="utf-8",
    )
    (HERE / "notes.txt").write_text(
        "Notas de la oficina\n\n1. Horario\nLa oficina abre de 8:00 a 20:00.\n\n2. Limpieza\n"
        "La limpieza se realiza cada tarde a partir de las 19:00.\n",
        encoding="utf-8",
    )


def main() -> None:
    policy_tables_pdf()
    mixed_scan_pdf()
    images()
    handbook_docx()
    zip_bomb_docx()
    encrypted_pdf()
    liars()
    text_formats()


if __name__ == "__main__":
    main()
