"""The chat page and the small HTTP actions around it (rename, delete, feedback). Thin: each calls one
service or selector; someone else's conversation or answer is answered as not found."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.gates import AuthenticatedHttpRequest, chat_required
from chatbot.selectors import (
    ConversationNotFound,
    MessageNotFound,
    access_conversation,
    conversation_list_for_user,
    conversation_messages_for_user,
)
from chatbot.services import COMMENT_MAX_CHARS, conversation_delete, conversation_rename, feedback_record


def ui_strings() -> dict[str, str]:
    """Every text the chat script shows, translated for the page's language."""
    return {
        "sources": _("Sources"),
        "closest": _("Closest documents"),
        "fallback": _("The documents' own sentences: the model could not give an answer they support."),
        "stopped": _("Stopped."),
        "disconnected": _("Connection lost. Reconnecting…"),
        "error": _("Error"),
        "confidence_high": _("High confidence"),
        "confidence_medium": _("Medium confidence"),
        "confidence_low": _("Low confidence"),
        "refused": _("Not in the documentation"),
        "unsupported": _("Sentences the documents do not support were left out."),
        "copy": _("Copy"),
        "copied": _("Copied"),
        "helpful": _("Helpful"),
        "not_helpful": _("Not helpful"),
        "comment_placeholder": _("Tell us more (optional)"),
        "send_comment": _("Send"),
        "thanks": _("Thanks for your feedback."),
        "rename": _("Rename"),
        "delete": _("Delete"),
        "delete_confirm": _("Delete this conversation?"),
        "rate_limited": _("Too many questions: try again in {seconds} s."),
        "busy": _("An answer is still being written: wait for it or stop it."),
        "too_large": _("That message is too long."),
        "internal": _("Something went wrong; please try again."),
        "not_found": _("Conversation not found."),
        "unauthenticated": _("Your session has ended; sign in again."),
    }


@chat_required
def chat(request: AuthenticatedHttpRequest, conversation_id: int | None = None) -> HttpResponse:
    current = None
    history: list[dict[str, Any]] = []
    if conversation_id is not None:
        try:
            current = access_conversation(request.user, conversation_id)
        except ConversationNotFound as missing:
            raise Http404 from missing
        history = conversation_messages_for_user(request.user, current)
    return render(
        request,
        "chatbot/chat.html",
        {
            "conversations": conversation_list_for_user(request.user),
            "current": current,
            "history": history,
            "strings": ui_strings(),
        },
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@chat_required
@require_POST
def rename(request: AuthenticatedHttpRequest, conversation_id: int) -> HttpResponseBase:
    try:
        conversation = conversation_rename(
            user=request.user, conversation_id=conversation_id, title=request.POST.get("title", "")
        )
    except ConversationNotFound as missing:
        raise Http404 from missing
    except ValueError as invalid:
        return JsonResponse({"error": str(invalid)}, status=400)
    if _wants_json(request):
        return JsonResponse({"id": conversation.pk, "title": conversation.title})
    return redirect("conversation", conversation.pk)


@chat_required
@require_POST
def delete(request: AuthenticatedHttpRequest, conversation_id: int) -> HttpResponseBase:
    try:
        conversation_delete(user=request.user, conversation_id=conversation_id)
    except ConversationNotFound as missing:
        raise Http404 from missing
    if _wants_json(request):
        return JsonResponse({"deleted": conversation_id, "url": reverse("chat")})
    return redirect("chat")


@chat_required
@require_POST
def feedback(request: AuthenticatedHttpRequest, message_id: int) -> JsonResponse:
    """``{"rating": 1 | -1, "comment": "…"}`` (JSON body) on one of the user's answers."""
    try:
        body = json.loads(request.body or b"{}")
        rating, comment = body.get("rating"), body.get("comment", "")
    except (ValueError, AttributeError):
        return JsonResponse({"error": "Send JSON."}, status=400)
    if not isinstance(rating, int) or not isinstance(comment, str) or len(comment) > COMMENT_MAX_CHARS:
        return JsonResponse({"error": "rating is 1 or -1; comment is optional text."}, status=400)
    try:
        recorded = feedback_record(user=request.user, message_id=message_id, rating=rating, comment=comment)
    except MessageNotFound as missing:
        raise Http404 from missing
    except ValueError as invalid:
        return JsonResponse({"error": str(invalid)}, status=400)
    return JsonResponse({"rating": recorded.rating, "comment": recorded.comment})
