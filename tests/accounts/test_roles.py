import pytest
from django.contrib.auth.models import Group

from accounts.roles import AUDITORS, KNOWLEDGE_ADMINS

pytestmark = pytest.mark.django_db


def test_roles_exist_after_migrate_with_their_permissions(dana, auditor, charlie):
    assert Group.objects.filter(name__in=[KNOWLEDGE_ADMINS, AUDITORS]).count() == 2
    assert dana.has_perm("ingestion.add_document")
    assert auditor.has_perm("chatbot.view_message") and not auditor.has_perm("ingestion.add_document")
    assert not charlie.has_perm("ingestion.view_document")
