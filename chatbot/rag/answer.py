"""The answer flow: record the question, retrieve under the user's principals, stream a grounded answer
(falling back to quoted passages when the generator fails or runs out of time), record the answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.models import User
from accounts.principals import principals_for_user
from chatbot.events import ConversationEvent, DoneEvent, ErrorEvent, ServerEvent, SourcesEvent, TokenEvent
from chatbot.llm import GenerationError, GenerationRequest, LLMClient, Passage, get_llm_client
from chatbot.llm.extractive import extractive_answer
from chatbot.rag.prompts import FALLBACK_NOTICE, NOT_FOUND, build_messages
from chatbot.rag.retrieval import retrieve, sources_from_hits
from chatbot.services import ConversationNotFound, answer_record, question_record
from ingestion.language import detect_language

logger = logging.getLogger(__name__)


async def answer_stream(
    *, user: User, conversation_id: int | None, question: str, llm: LLMClient | None = None
) -> AsyncIterator[ServerEvent]:
    try:
        conversation, history = await database_sync_to_async(question_record)(
            user=user, conversation_id=conversation_id, question=question
        )
    except ConversationNotFound:
        yield ErrorEvent(type="error", message="Conversation not found.")
        return
    yield ConversationEvent(type="conversation", id=conversation.pk)

    language = detect_language(question)
    principals = await database_sync_to_async(principals_for_user)(user)
    hits = await asyncio.to_thread(retrieve, question, principals=principals, k=settings.SEARCH_TOP_K)
    sources = sources_from_hits(hits)
    retrieval = [{"chunk_id": hit.chunk_id, "document_id": hit.document_id, "score": hit.score} for hit in hits]

    parts: list[str] = []
    fallback = False
    if not hits:
        model_name = "none"
        parts.append(NOT_FOUND.get(language, NOT_FOUND["en"]))
        yield TokenEvent(type="token", text=parts[0])
    else:
        passages = tuple(
            Passage(n=s["n"], title=s["title"], location=s["location"], text=h.text)
            for s, h in zip(sources, hits, strict=True)
        )
        request = GenerationRequest(
            question=question,
            language=language,
            passages=passages,
            messages=build_messages(question=question, language=language, passages=passages, history=history),
            max_new_tokens=settings.GENERATOR_MAX_NEW_TOKENS,
        )
        llm = llm or get_llm_client()
        model_name = llm.model_name
        try:
            async with asyncio.timeout(settings.GENERATOR_TIMEOUT_SECONDS):
                async for piece in llm.stream(request):
                    parts.append(piece)
                    yield TokenEvent(type="token", text=piece)
            if not "".join(parts).strip():
                raise GenerationError("empty answer")
        except (GenerationError, TimeoutError) as error:
            logger.warning("generator %s failed, answering extractively: %s", model_name, error)
            fallback = True
            text = f"{FALLBACK_NOTICE.get(language, FALLBACK_NOTICE['en'])}\n\n{extractive_answer(request)}"
            if parts:
                text = "\n\n" + text
            parts.append(text)
            yield TokenEvent(type="token", text=text)

    yield SourcesEvent(type="sources", sources=sources)
    message = await database_sync_to_async(answer_record)(
        conversation=conversation,
        content="".join(parts),
        model=model_name,
        fallback=fallback,
        sources=list(sources),
        retrieval=retrieval,
    )
    yield DoneEvent(type="done", message_id=message.pk, model=model_name, fallback=fallback)
