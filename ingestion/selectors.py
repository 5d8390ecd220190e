from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.principals import principals_for_user, visible_documents
from ingestion.models import Chunk, Document

# The documents search serves (``ingestion.services.document_update``): indexed ones, and those whose new
# version (or title) waits for the worker while the previous version's chunks are still served. A page
# refused for those would 404 on the citations of answers written just before the new version came.
SERVED = Q(status=Document.Status.INDEXED) | Q(
    Exists(Chunk.objects.filter(document_id=OuterRef("pk"))),
    status__in=[Document.Status.PENDING, Document.Status.PROCESSING],
)


def document_list_for_user(user: User) -> QuerySet[Document]:
    """Documents search serves (``SERVED``) that the user may see: ``accounts.principals.may_see``, read as
    the document's fields (for all staff, for one of the user's groups, or owned)."""
    principals = principals_for_user(user)
    if not principals:
        return Document.objects.none()
    visible = visible_documents(principals)
    condition = Q(owner_id__in=visible.owner_ids) | Q(groups__in=visible.group_ids)
    if visible.all_staff:
        condition |= Q(all_staff=True)
    return Document.objects.filter(condition, SERVED).distinct()


def access_document(user: User, document_id: int) -> Document:
    """The document if the user may see it; ``Http404`` for missing and forbidden alike."""
    document = document_list_for_user(user).filter(pk=document_id).first()
    if document is None:
        raise Http404("No such document.")
    return document
