"""Build the Faro demo corpus.

Reads the Markdown sources in ``demo/sources/*.md`` and writes the shipped
documents into ``demo/corpus/`` in mixed formats (PDF, DOCX, HTML, Markdown and
plain text), plus ``demo/manifest.json`` describing them.

Run with:  /work/main/.venv/bin/python demo/build_corpus.py

The build is deterministic: fixed creation dates in PDF and DOCX metadata and
fixed timestamps inside the DOCX zip container, so re-running it produces
byte-identical files.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import sys
import textwrap
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from fpdf import FPDF
from fpdf.enums import XPos, YPos

DEMO_DIR = Path(__file__).resolve().parent
SOURCES_DIR = DEMO_DIR / "sources"
CORPUS_DIR = DEMO_DIR / "corpus"
MANIFEST_PATH = DEMO_DIR / "manifest.json"

COMPANY = "Lumen Ingeniería S.L."
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)
ZIP_DATE = (2026, 1, 1, 0, 0, 0)

# One entry per source document: output format, access groups and metadata.
# groups == [] means visible to all staff.
DOCUMENTS: dict[str, dict] = {
    "politica-vacaciones": {
        "format": "pdf",
        "language": "es",
        "groups": [],
        "tags": ["rrhh", "vacaciones", "permisos", "ausencias"],
    },
    "politica-teletrabajo": {
        "format": "docx",
        "language": "es",
        "groups": [],
        "tags": ["rrhh", "teletrabajo", "trabajo híbrido", "desconexión digital"],
    },
    "politica-gastos-viajes": {
        "format": "pdf",
        "language": "es",
        "groups": [],
        "tags": ["finanzas", "gastos", "viajes", "dietas"],
    },
    "seguridad-informatica": {
        "format": "html",
        "language": "es",
        "groups": [],
        "tags": ["ti", "seguridad", "contraseñas", "mfa", "phishing"],
    },
    "proteccion-datos": {
        "format": "md",
        "language": "es",
        "groups": [],
        "tags": ["legal", "protección de datos", "rgpd", "privacidad"],
    },
    "codigo-conducta": {
        "format": "docx",
        "language": "es",
        "groups": [],
        "tags": ["cumplimiento", "ética", "conducta", "canal ético"],
    },
    "onboarding-guide": {
        "format": "html",
        "language": "en",
        "groups": [],
        "tags": ["hr", "onboarding", "new joiners", "training"],
    },
    "beneficios-sociales": {
        "format": "md",
        "language": "es",
        "groups": ["hr"],
        "tags": ["rrhh", "confidencial", "salarios", "beneficios", "retribución flexible"],
    },
    "equipment-use-policy": {
        "format": "docx",
        "language": "en",
        "groups": [],
        "tags": ["it", "equipment", "laptops", "returns"],
    },
    "prevencion-riesgos": {
        "format": "txt",
        "language": "es",
        "groups": [],
        "tags": ["prl", "salud", "seguridad laboral", "emergencias"],
    },
    "compras-proveedores": {
        "format": "pdf",
        "language": "es",
        "groups": ["finance"],
        "tags": ["finanzas", "compras", "proveedores", "aprobaciones", "restringido"],
    },
    "communication-style-guide": {
        "format": "md",
        "language": "en",
        "groups": [],
        "tags": ["communication", "style guide", "people team", "writing"],
    },
}

EFFECTIVE_DATE = "2026-01-01"


# --------------------------------------------------------------------------
# Minimal Markdown parser (only the subset used by the sources)
# --------------------------------------------------------------------------


@dataclass
class Block:
    kind: str  # heading | para | ul | ol | table | quote
    text: str = ""
    level: int = 0
    items: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class ParsedDoc:
    title: str
    blocks: list[Block]


_ul_re = re.compile(r"^\s*[-*]\s+(.*)$")
_ol_re = re.compile(r"^\s*\d+\.\s+(.*)$")
_h_re = re.compile(r"^(#{1,6})\s+(.*)$")


def parse_markdown(text: str) -> ParsedDoc:
    lines = text.splitlines()
    blocks: list[Block] = []
    title = ""
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line.strip():
            i += 1
            continue
        m = _h_re.match(line)
        if m:
            level = len(m.group(1))
            if level == 1 and not title:
                title = m.group(2).strip()
            blocks.append(Block("heading", text=m.group(2).strip(), level=level))
            i += 1
            continue
        if line.lstrip().startswith("|"):
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            blocks.append(Block("table", rows=rows))
            continue
        if line.lstrip().startswith(">"):
            qlines = []
            while i < len(lines) and lines[i].lstrip().startswith(">"):
                qlines.append(lines[i].lstrip()[1:].strip())
                i += 1
            blocks.append(Block("quote", items=qlines))
            continue
        if _ul_re.match(line):
            items = []
            while i < len(lines) and _ul_re.match(lines[i]):
                items.append(_ul_re.match(lines[i]).group(1).strip())
                i += 1
            blocks.append(Block("ul", items=items))
            continue
        if _ol_re.match(line):
            items = []
            while i < len(lines) and _ol_re.match(lines[i]):
                items.append(_ol_re.match(lines[i]).group(1).strip())
                i += 1
            blocks.append(Block("ol", items=items))
            continue
        para = [line.strip()]
        i += 1
        while (
            i < len(lines)
            and lines[i].strip()
            and not (
                _h_re.match(lines[i])
                or _ul_re.match(lines[i])
                or _ol_re.match(lines[i])
                or lines[i].lstrip().startswith(("|", ">"))
            )
        ):
            para.append(lines[i].strip())
            i += 1
        blocks.append(Block("para", text=" ".join(para)))
    if not title:
        raise ValueError("source has no '# Title' line")
    return ParsedDoc(title=title, blocks=blocks)


def split_bold(text: str) -> list[tuple[str, bool]]:
    """Split '**bold** rest' into [(text, is_bold), ...]."""
    parts = text.split("**")
    return [(p, idx % 2 == 1) for idx, p in enumerate(parts) if p]


def strip_inline(text: str) -> str:
    return text.replace("**", "")


def is_metadata_line(block: Block) -> bool:
    """The 'Código: ... | Versión ...' line under the title."""
    return block.kind == "para" and bool(re.match(r"^(Código|Code):", block.text))


# --------------------------------------------------------------------------
# PDF (fpdf2 core fonts, latin-1)
# --------------------------------------------------------------------------

_LATIN1_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2022": "-",
    "\u20ac": "EUR",
}


def to_latin1(text: str) -> str:
    for bad, good in _LATIN1_REPLACEMENTS.items():
        text = text.replace(bad, good)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ValueError(f"character not encodable in latin-1: {text!r}") from exc
    return text


class CorpusPDF(FPDF):
    def __init__(self, header_left: str, header_right: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.header_left = to_latin1(header_left)
        self.header_right = to_latin1(header_right)

    def header(self):
        self.set_font("helvetica", "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(self.epw / 2, 5, self.header_left, align="L")
        self.cell(self.epw / 2, 5, self.header_right, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(6)
        self.set_text_color(0, 0, 0)

    def footer(self):
        self.set_y(-15)
        self.set_font("helvetica", "", 9)
        self.set_text_color(110, 110, 110)
        self.cell(0, 10, f"Página {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)


BODY_SIZE = 11
LINE_H = 5.8


def build_pdf(doc: ParsedDoc, out: Path, meta: dict) -> None:
    code = ""
    for b in doc.blocks:
        if is_metadata_line(b):
            code = b.text.split("|")[0].split(":", 1)[1].strip()
            break
    classification = {
        "finance": "RESTRINGIDO - Área Financiera",
        "hr": "CONFIDENCIAL - Departamento de Personas",
    }.get(meta["groups"][0] if meta["groups"] else "", "Uso interno")
    pdf = CorpusPDF(f"{COMPANY} - {code}", classification)
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(to_latin1(doc.title))
    pdf.set_author(to_latin1(COMPANY))
    pdf.set_subject(to_latin1(doc.title))
    pdf.set_creator("Faro demo corpus builder")
    pdf.set_keywords(to_latin1(", ".join(meta["tags"])))
    pdf.set_lang(meta["language"])
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()

    def ensure_space(mm: float) -> None:
        if pdf.get_y() + mm > pdf.page_break_trigger:
            pdf.add_page()

    for block in doc.blocks:
        if block.kind == "heading":
            text = to_latin1(block.text)
            if block.level == 1:
                pdf.set_font("helvetica", "B", 18)
                pdf.multi_cell(0, 9, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(2)
            else:
                size = 14 if block.level == 2 else 12
                ensure_space(22)
                pdf.ln(3 if block.level == 2 else 1.5)
                pdf.start_section(text, level=block.level - 2)
                pdf.set_font("helvetica", "B", size)
                pdf.multi_cell(0, 7 if block.level == 2 else 6.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(1.5)
        elif block.kind == "para":
            if is_metadata_line(block):
                pdf.set_font("helvetica", "I", 9)
                pdf.set_text_color(80, 80, 80)
                pdf.multi_cell(0, 4.8, to_latin1(block.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.set_text_color(0, 0, 0)
                pdf.ln(2)
                continue
            pdf.set_font("helvetica", "", BODY_SIZE)
            pdf.multi_cell(0, LINE_H, to_latin1(block.text), markdown=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
        elif block.kind in ("ul", "ol", "quote"):
            pdf.set_font("helvetica", "", BODY_SIZE)
            for n, item in enumerate(block.items, start=1):
                marker = "-" if block.kind != "ol" else f"{n}."
                pdf.set_x(pdf.l_margin + 4)
                pdf.cell(7, LINE_H, marker)
                pdf.multi_cell(0, LINE_H, to_latin1(item), markdown=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                pdf.ln(0.8)
            pdf.ln(1.5)
        elif block.kind == "table":
            ncols = len(block.rows[0])
            widths = _column_widths(block.rows)
            pdf.set_font("helvetica", "", 10)
            ensure_space(20)
            with pdf.table(
                col_widths=widths,
                line_height=5.2,
                text_align="LEFT",
                first_row_as_headings=True,
                padding=1.5,
            ) as table:
                for row in block.rows:
                    trow = table.row()
                    cells = (row + [""] * ncols)[:ncols]
                    for c in cells:
                        trow.cell(to_latin1(strip_inline(c)))
            pdf.set_font("helvetica", "", BODY_SIZE)
            pdf.ln(3)
    pdf.output(str(out))


def _column_widths(rows: list[list[str]]) -> list[int]:
    ncols = len(rows[0])
    lengths = [max(len(r[c]) if c < len(r) else 0 for r in rows) for c in range(ncols)]
    # Soften extremes so short columns stay readable.
    return [max(8, min(60, n)) for n in lengths]


# --------------------------------------------------------------------------
# DOCX (python-docx)
# --------------------------------------------------------------------------


def _add_runs(paragraph, text: str) -> None:
    for chunk, bold in split_bold(text):
        run = paragraph.add_run(chunk)
        if bold:
            run.bold = True


def _restart_numbering(document, paragraphs) -> None:
    """Give a 'List Number' list its own w:num so numbering restarts at 1."""
    style = document.styles["List Number"]
    style_num_id = style.element.pPr.numPr.numId.val
    numbering = document.part.numbering_part.element
    abstract_id = None
    for num in numbering.num_lst:
        if num.numId == style_num_id:
            abstract_id = num.abstractNumId.val
            break
    if abstract_id is None:
        return
    new_num = numbering.add_num(abstract_id)
    new_num.add_lvlOverride(ilvl=0).add_startOverride(1)
    for p in paragraphs:
        num_pr = p._p.get_or_add_pPr().get_or_add_numPr()
        num_pr.get_or_add_ilvl().val = 0
        num_pr.get_or_add_numId().val = new_num.numId


def build_docx(doc: ParsedDoc, out: Path, meta: dict) -> None:
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)

    props = document.core_properties
    props.title = doc.title
    props.author = COMPANY
    props.last_modified_by = COMPANY
    props.subject = doc.title
    props.keywords = ", ".join(meta["tags"])
    props.language = meta["language"]
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.last_printed = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1
    props.comments = ""

    for block in doc.blocks:
        if block.kind == "heading":
            document.add_heading(block.text, level=min(block.level, 3))
        elif block.kind == "para":
            p = document.add_paragraph()
            _add_runs(p, block.text)
            if is_metadata_line(block):
                for run in p.runs:
                    run.italic = True
                    run.font.size = Pt(9)
        elif block.kind == "ul":
            for item in block.items:
                _add_runs(document.add_paragraph(style="List Bullet"), item)
        elif block.kind == "ol":
            paras = []
            for item in block.items:
                p = document.add_paragraph(style="List Number")
                _add_runs(p, item)
                paras.append(p)
            _restart_numbering(document, paras)
        elif block.kind == "quote":
            for line in block.items:
                p = document.add_paragraph(style="Quote")
                _add_runs(p, line)
        elif block.kind == "table":
            ncols = len(block.rows[0])
            table = document.add_table(rows=0, cols=ncols)
            table.style = "Table Grid"
            for r, row in enumerate(block.rows):
                cells = table.add_row().cells
                for c, value in enumerate((row + [""] * ncols)[:ncols]):
                    para = cells[c].paragraphs[0]
                    run = para.add_run(strip_inline(value))
                    if r == 0:
                        run.bold = True
            # Mark first row as a repeating header row.
            tr_pr = table.rows[0]._tr.get_or_add_trPr()
            header = tr_pr.makeelement(qn("w:tblHeader"), {})
            tr_pr.append(header)
            document.add_paragraph()

    buf = io.BytesIO()
    document.save(buf)
    _write_deterministic_zip(buf.getvalue(), out)


def _write_deterministic_zip(data: bytes, out: Path) -> None:
    """Re-pack a zip with fixed timestamps so the bytes are reproducible."""
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            dst.writestr(zi, src.read(info.filename))


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------

_email_re = re.compile(r"\b([a-z0-9._%+-]+@[a-z0-9.-]+\.example)\b", re.I)
_url_re = re.compile(r"(https?://[^\s<)]+[^\s<).,;:])")


def _inline_html(text: str) -> str:
    out = []
    for chunk, bold in split_bold(text):
        esc = html.escape(chunk, quote=False)
        esc = _url_re.sub(r'<a href="\1">\1</a>', esc)
        esc = _email_re.sub(r'<a href="mailto:\1">\1</a>', esc)
        out.append(f"<strong>{esc}</strong>" if bold else esc)
    return "".join(out)


_HTML_UI = {
    "es": {
        "home": "Inicio",
        "policies": "Políticas",
        "portal": "Portal de Personas",
        "support": "Soporte TI",
        "skip": "Saltar al contenido",
        "footer": "Intranet de Lumen Ingeniería S.L. - Documento de uso interno.",
        "nav_label": "Navegación principal",
    },
    "en": {
        "home": "Home",
        "policies": "Policies",
        "portal": "People Portal",
        "support": "IT Support",
        "skip": "Skip to content",
        "footer": "Lumen Ingeniería S.L. intranet - internal use only.",
        "nav_label": "Main navigation",
    },
}


def build_html(doc: ParsedDoc, out: Path, meta: dict) -> None:
    ui = _HTML_UI[meta["language"]]
    body: list[str] = []
    for block in doc.blocks:
        if block.kind == "heading":
            lvl = min(block.level, 6)
            ascii_text = unicodedata.normalize("NFKD", block.text).encode("ascii", "ignore")
            slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.decode().lower()).strip("-")
            body.append(f'<h{lvl} id="{html.escape(slug)}">{_inline_html(block.text)}</h{lvl}>')
        elif block.kind == "para":
            cls = ' class="doc-meta"' if is_metadata_line(block) else ""
            body.append(f"<p{cls}>{_inline_html(block.text)}</p>")
        elif block.kind in ("ul", "ol"):
            tag = block.kind
            items = "\n".join(f"  <li>{_inline_html(i)}</li>" for i in block.items)
            body.append(f"<{tag}>\n{items}\n</{tag}>")
        elif block.kind == "quote":
            body.append("<blockquote>" + "<br>\n".join(_inline_html(i) for i in block.items) + "</blockquote>")
        elif block.kind == "table":
            head = "".join(f"<th>{_inline_html(c)}</th>" for c in block.rows[0])
            rows = "\n".join(
                "    <tr>" + "".join(f"<td>{_inline_html(c)}</td>" for c in r) + "</tr>" for r in block.rows[1:]
            )
            body.append(f"<table>\n  <thead><tr>{head}</tr></thead>\n  <tbody>\n{rows}\n  </tbody>\n</table>")
    main = "\n".join(body)
    page = f"""<!DOCTYPE html>
<html lang="{meta["language"]}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(doc.title)} | Intranet Lumen</title>
<meta name="description" content="{html.escape(doc.title)} - {html.escape(COMPANY)}">
<style>
  body {{ font-family: Arial, Helvetica, sans-serif; margin: 0; color: #222; line-height: 1.5; }}
  header, footer {{ background: #14395b; color: #fff; padding: 0.8rem 2rem; }}
  header a, footer a {{ color: #fff; }}
  nav ul {{ list-style: none; padding: 0; margin: 0.4rem 0 0; display: flex; gap: 1.5rem; }}
  main {{ max-width: 52rem; margin: 2rem auto; padding: 0 2rem; }}
  table {{ border-collapse: collapse; width: 100%; margin: 1rem 0; }}
  th, td {{ border: 1px solid #bbb; padding: 0.4rem 0.6rem; text-align: left; vertical-align: top; }}
  th {{ background: #e8eef4; }}
  .doc-meta {{ color: #666; font-size: 0.85rem; }}
  .skip {{ position: absolute; left: -999px; }}
</style>
</head>
<body>
<a class="skip" href="#contenido">{ui["skip"]}</a>
<header>
  <div class="brand"><strong>Lumen</strong> Intranet</div>
  <nav aria-label="{ui["nav_label"]}">
    <ul>
      <li><a href="/">{ui["home"]}</a></li>
      <li><a href="/politicas/">{ui["policies"]}</a></li>
      <li><a href="https://personas.lumen.example">{ui["portal"]}</a></li>
      <li><a href="mailto:soporte@lumen.example">{ui["support"]}</a></li>
    </ul>
  </nav>
</header>
<main id="contenido">
<article>
{main}
</article>
</main>
<footer>
  <p>{html.escape(ui["footer"])}</p>
</footer>
</body>
</html>
"""
    out.write_text(page, encoding="utf-8", newline="\n")


# --------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------


def build_txt(doc: ParsedDoc, out: Path, meta: dict) -> None:
    width = 78
    lines: list[str] = []
    for block in doc.blocks:
        if block.kind == "heading":
            text = strip_inline(block.text)
            if block.level == 1:
                lines += [text.upper(), "=" * len(text), ""]
            elif block.level == 2:
                lines += ["", text, "-" * len(text), ""]
            else:
                lines += ["", text, ""]
        elif block.kind == "para":
            lines += [*textwrap.wrap(strip_inline(block.text), width), ""]
        elif block.kind in ("ul", "ol", "quote"):
            for n, item in enumerate(block.items, start=1):
                marker = {"ul": "  - ", "ol": f"  {n}. ", "quote": "  > "}[block.kind]
                lines += textwrap.wrap(
                    strip_inline(item), width, initial_indent=marker, subsequent_indent=" " * len(marker)
                )
            lines.append("")
        elif block.kind == "table":
            header = block.rows[0]
            for row in block.rows[1:]:
                pairs = "; ".join(f"{h}: {strip_inline(v)}" for h, v in zip(header, row, strict=False))
                lines += textwrap.wrap(pairs, width, initial_indent="  * ", subsequent_indent="    ")
            lines.append("")
    text = "\n".join(lines).strip() + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)
    out.write_text(text, encoding="utf-8", newline="\n")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

BUILDERS = {"pdf": build_pdf, "docx": build_docx, "html": build_html, "txt": build_txt}


def main() -> int:
    sources = sorted(SOURCES_DIR.glob("*.md"))
    stems = {p.stem for p in sources}
    missing = set(DOCUMENTS) - stems
    unknown = stems - set(DOCUMENTS)
    if missing or unknown:
        print(f"source/config mismatch: missing={sorted(missing)} unknown={sorted(unknown)}", file=sys.stderr)
        return 1

    if CORPUS_DIR.exists():
        shutil.rmtree(CORPUS_DIR)
    CORPUS_DIR.mkdir(parents=True)

    manifest = []
    for src in sources:
        meta = DOCUMENTS[src.stem]
        fmt = meta["format"]
        out = CORPUS_DIR / f"{src.stem}.{fmt}"
        text = src.read_text(encoding="utf-8")
        doc = parse_markdown(text)
        if fmt == "md":
            shutil.copyfile(src, out)
        else:
            BUILDERS[fmt](doc, out, meta)
        manifest.append(
            {
                "file": out.name,
                "title": doc.title,
                "language": meta["language"],
                "groups": list(meta["groups"]),
                "tags": list(meta["tags"]),
                "effective_date": EFFECTIVE_DATE,
                "format": fmt,
            }
        )
        print(f"  {out.name:36s} {fmt:5s} {meta['language']}  groups={meta['groups']}")

    manifest.sort(key=lambda e: e["file"])
    MANIFEST_PATH.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(manifest)} files to {CORPUS_DIR} and {MANIFEST_PATH.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
