from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render

from ingestion.selectors import access_document


@login_required
def document_detail(request: HttpRequest, document_id: int) -> HttpResponse:
    document = access_document(request.user, document_id)  # type: ignore[arg-type]
    return render(
        request,
        "ingestion/document_detail.html",
        {"document": document, "chunks": document.chunks.all(), "highlight": request.GET.get("chunk", "")},
    )


@login_required
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    document = access_document(request.user, document_id)  # type: ignore[arg-type]
    return FileResponse(document.file.open("rb"), as_attachment=False, filename=document.original_name)
