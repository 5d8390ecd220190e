"""The parser registry is the one answer to "is this file supported": every entry point asks it."""

import zipfile
from pathlib import Path, PurePosixPath

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile

from ingestion.admin import _check_upload
from ingestion.archive import archive_expand
from ingestion.parsers import (
    PARSERS,
    SUPPORTED_EXTENSIONS,
    ParseError,
    is_supported,
    parse_file,
    parser_for,
    parser_for_mime_type,
)
from ingestion.parsers import markdown as markdown_parser
from ingestion.parsers import pdf as pdf_parser
from sources.readers import supported


def test_each_extension_and_mime_type_belongs_to_one_parser():
    extensions = [extension for parser in PARSERS for extension in parser.extensions]
    mime_types = [mime_type for parser in PARSERS for mime_type in parser.mime_types]
    assert len(extensions) == len(set(extensions)) and len(mime_types) == len(set(mime_types))
    assert set(SUPPORTED_EXTENSIONS) == set(extensions)
    assert all(extension == extension.lower() and extension.startswith(".") for extension in extensions)
    for parser in PARSERS:
        assert all(parser_for(f"file{extension}") is parser for extension in parser.extensions)
        assert all(parser_for_mime_type(mime_type) is parser for mime_type in parser.mime_types)


def test_a_name_or_path_in_any_case_is_supported_by_its_extension():
    assert parser_for("Informe.PDF") is pdf_parser.PARSER
    assert parser_for(Path("/srv/docs/guia.markdown")) is markdown_parser.PARSER
    assert parser_for_mime_type("text/markdown; charset=utf-8") is markdown_parser.PARSER
    assert is_supported(PurePosixPath("rrhh/bajas.md"))
    assert not is_supported("hoja.xlsx") and not is_supported("README") and not is_supported(".pdf")


def test_the_refusal_names_every_format_in_the_registry(tmp_path):
    path = tmp_path / "hoja.xlsx"
    path.write_text("hola")
    with pytest.raises(ParseError, match=r"use PDF, DOCX, HTML, Markdown, text or an image\.$"):
        parse_file(path)


@pytest.mark.parametrize("name", ["a.pdf", "b.DOCX", "c.htm", "d.md", "e.txt", "f.webp", "g.xlsx", "h", "i.zip"])
def test_admin_archive_and_sources_give_the_registry_s_answer(name, tmp_path):
    upload = SimpleUploadedFile(name, b"hola")
    try:
        _check_upload(upload)
        admin_accepts = True
    except forms.ValidationError:
        admin_accepts = False
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(name, "hola")
    expanded, _skipped = archive_expand(archive, tmp_path, name="upload.zip")
    assert admin_accepts == bool(expanded) == supported(name) == is_supported(name)
