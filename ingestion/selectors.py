from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.principals import PUBLIC, principals_for_user
from ingestion.models import Chunk, Document

# The documents search serves (``ingestion.services.document_update``): indexed ones, and those whose new
# version (or title) waits for the worker while the previous version's chunks are still served. A page
# refused for those would 404 on the citations of answers written just before the new version came.
SERVED = Q(status=Document.Status.INDEXED) | Q(
    Exists(Chunk.objects.filter(document_id=OuterRef("pk"))),
    status__in=[Document.Status.PENDING, Document.Status.PROCESSING],
)


def document_list_for_user(user: User) -> QuerySet[Document]:
    """Documents search serves (``SERVED``) that the user may see: for all staff, for one of the user's
    groups, or owned."""
    principals = principals_for_user(user)
    if not principals:
        return Document.objects.none()
    visible = Q(owner_id=user.pk) | Q(groups__in=user.groups.all())
    if PUBLIC in principals:
        visible |= Q(all_staff=True)
    return Document.objects.filter(visible, SERVED).distinct()


def access_document(user: User, document_id: int) -> Document:
    """The document if the user may see it; ``Http404`` for missing and forbidden alike."""
    document = document_list_for_user(user).filter(pk=document_id).first()
    if document is None:
        raise Http404("No such document.")
    return document
