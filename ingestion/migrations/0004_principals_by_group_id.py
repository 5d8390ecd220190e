"""Chunks name their groups by key (``group-id:<pk>``), no longer by name (``group:<name>``): re-stamp every
indexed document in the configured search backend (see ``accounts/principals.py`` for why). Until it has
run, members of a group miss that group's documents (the old stamps match nobody): access fails closed.
Reversible: going back stamps the names again, for the release before this one."""

from typing import Any

from django.db import migrations


def _restamp(apps: Any, principal: Any) -> None:
    document_model = apps.get_model("ingestion", "Document")
    documents = document_model.objects.filter(chunk_count__gt=0).prefetch_related("groups").order_by("pk")
    if not documents.exists():
        return  # a new database (and every test database): no index to touch
    from ingestion.search import get_search_backend

    backend = get_search_backend()
    for document in documents.iterator(chunk_size=500):
        principals = {principal(group) for group in document.groups.all()}
        if document.all_staff:
            principals.add("public")
        if document.owner_id is not None:
            principals.add(f"user:{document.owner_id}")
        backend.set_principals(document.pk, frozenset(principals))


def by_group_id(apps: Any, schema_editor: Any) -> None:
    from accounts.principals import group_principal

    _restamp(apps, lambda group: group_principal(group.pk))


def by_group_name(apps: Any, schema_editor: Any) -> None:
    _restamp(apps, lambda group: f"group:{group.name}")


class Migration(migrations.Migration):
    dependencies = [
        ("ingestion", "0003_document_verbose_names"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(by_group_id, by_group_name, elidable=True)]
