from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.principals import PUBLIC, principals_for_user
from ingestion.models import Document


def document_list_for_user(user: User) -> QuerySet[Document]:
    """Indexed documents the user may see: for all staff, for one of the user's groups, or owned."""
    principals = principals_for_user(user)
    if not principals:
        return Document.objects.none()
    visible = Q(owner_id=user.pk) | Q(groups__in=user.groups.all())
    if PUBLIC in principals:
        visible |= Q(all_staff=True)
    return Document.objects.filter(visible, status=Document.Status.INDEXED).distinct()


def access_document(user: User, document_id: int) -> Document:
    """The document if the user may see it; ``Http404`` for missing and forbidden alike."""
    document = document_list_for_user(user).filter(pk=document_id).first()
    if document is None:
        raise Http404("No such document.")
    return document
