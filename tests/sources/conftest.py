from __future__ import annotations

from collections.abc import Iterable

from accounts.models import User
from accounts.principals import principals_for_user
from ingestion.embed import get_embedder
from ingestion.pipeline import documents_ingest
from ingestion.search import get_search_backend
from sources.services import SyncResult, source_sync


def found(user: User, query: str) -> set[int]:
    """The documents a full-text search by ``user`` for ``query`` returns (real backend, the user's principals)."""
    vector = get_embedder().embed([query])[0]
    hits = get_search_backend().search(query, vector, principals=principals_for_user(user), k=20, mode="bm25")
    return {hit.document_id for hit in hits}


def sync_and_index(source_id: int) -> SyncResult:
    """A sync, then the ingestion pipeline over what it registered (what the workers do after a queued sync)."""
    result = source_sync(source_id=source_id, queue=False)
    index(result.document_ids)
    return result


def index(document_ids: Iterable[int]) -> None:
    documents_ingest(document_ids=list(document_ids))
