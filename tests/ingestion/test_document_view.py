import pytest
from django.test import Client

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
