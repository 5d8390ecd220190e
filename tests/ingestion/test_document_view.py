import pytest
from django.test import Client

from ingestion.models import Document
from ingestion.pipeline import document_ingest
from ingestion.services import document_new_version
from tests.conftest import TEST_FILES

pytestmark = pytest.mark.django_db


def test_citation_link_opens_the_document_at_the_highlighted_passage(policies, charlie):
    document = policies["vacation"]
    chunk = document.chunks.get(text__contains="23 días laborables")
    client = Client()
    client.force_login(charlie)
    page = client.get(f"/documents/{document.pk}/?chunk={chunk.chunk_id}").content.decode()
    assert f'id="chunk-{chunk.chunk_id}" class="passage highlight"' in page
    assert page.count("passage highlight") == 1
    original = client.get(f"/documents/{document.pk}/original/")
    assert original.status_code == 200
    assert b"".join(original.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]


def test_hr_document_is_invisible_to_sales(policies, charlie, alice):
    benefits = policies["benefits"]
    client = Client()
    client.force_login(charlie)
    assert client.get(f"/documents/{benefits.pk}/").status_code == 404
    client.force_login(alice)
    assert client.get(f"/documents/{benefits.pk}/").status_code == 200


def test_anonymous_visitors_are_sent_to_login(policies):
    response = Client().get(f"/documents/{policies['vacation'].pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("language", "indexing", "changed"),
    [
        (
            "en",
            "A new version of this document is being indexed",
            "This document was updated after the answer cited it",
        ),
        ("es", "Se está indexando una versión nueva de este documento", "Este documento se actualizó después de que"),
    ],
)
def test_a_citation_still_opens_while_a_new_version_is_indexed_then_says_the_document_changed(
    policies, charlie, dana, tmp_path, language, indexing, changed
):
    """An answer cited a passage; a new version was uploaded just after. While it waits for the worker,
    search still serves the cited version, so its page does too, cited passage highlighted; once the new
    version is indexed, the link opens it and says the cited passage is no longer there. In either language."""
    document = policies["vacation"]
    chunk = document.chunks.get(text__contains="23 días laborables")
    link = f"/documents/{document.pk}/?chunk={chunk.chunk_id}"
    new = tmp_path / "vacaciones.md"
    new.write_text("# Vacaciones\n\nLas vacaciones anuales son de 25 días laborables por año natural.\n")
    assert document_new_version(document=document, path=new, actor=dana)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(charlie)

    waiting = client.get(link)
    assert waiting.status_code == 200
    page = waiting.content.decode()
    assert f'id="chunk-{chunk.chunk_id}" class="passage highlight"' in page and "23 días laborables" in page
    assert indexing in page

    assert document_ingest(document_id=document.pk).status == Document.Status.INDEXED
    page = client.get(link).content.decode()
    assert "passage highlight" not in page and "25 días laborables" in page
    assert changed in page
    assert indexing not in page


def test_while_a_new_version_waits_the_page_keeps_its_access_and_a_failed_one_withdraws_it(
    policies, alice, charlie, dana
):
    benefits = policies["benefits"]  # HR only
    assert document_new_version(document=benefits, path=TEST_FILES / "corrupt.pdf", actor=dana)
    client = Client()
    client.force_login(charlie)
    assert client.get(f"/documents/{benefits.pk}/").status_code == 404  # forbidden still looks missing
    client.force_login(alice)
    assert client.get(f"/documents/{benefits.pk}/").status_code == 200

    assert document_ingest(document_id=benefits.pk).status == Document.Status.FAILED
    assert client.get(f"/documents/{benefits.pk}/").status_code == 404  # withdrawn, as from search
