"""The answer flow, one question at a time:

1. record the question (opening a conversation if needed) and read the turns before it;
2. rewrite a follow-up into a standalone query (``chatbot.rag.rewrite``);
3. retrieve under the user's principals and measure the evidence (``chatbot.rag.evidence``);
4. refuse when the evidence is below ``ANSWER_MIN_EVIDENCE``: say so, list the closest documents, and do
   not call the generator; otherwise stream a grounded answer, falling back to quoted passages when the
   generator fails or runs out of time, and stopping when the person asks;
5. check the citations (``chatbot.rag.citations``), rate the confidence (``chatbot.rag.confidence``),
   render the answer as safe HTML and record it with its provenance.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import suppress

from django.conf import settings

from accounts.models import User
from accounts.principals import principals_for_user
from chatbot.db import orm
from chatbot.events import ConversationEvent, DoneEvent, ErrorEvent, ServerEvent, SourcesEvent, TokenEvent
from chatbot.llm import ChatMessage, GenerationError, GenerationRequest, LLMClient, Passage, get_llm_client
from chatbot.llm.extractive import extractive_answer
from chatbot.models import Conversation
from chatbot.rag.citations import CitationCheck, check_citations
from chatbot.rag.confidence import answer_confidence
from chatbot.rag.context import fit_passages
from chatbot.rag.prompts import FALLBACK_NOTICE, PROMPT_VERSION, build_messages, refusal_text
from chatbot.rag.retrieval import closest_documents, retrieve, sources_from_hits
from chatbot.rag.rewrite import REWRITE_TIMEOUT_SECONDS, resolve_mode, rewrite_query
from chatbot.rendering import answer_html
from chatbot.services import AnswerProvenance, ConversationNotFound, answer_record, question_record
from ingestion.language import detect_language

logger = logging.getLogger(__name__)


async def pieces_until(stream: AsyncIterator[str], *, stop: asyncio.Event, deadline: float) -> AsyncIterator[str]:
    """The stream's pieces until it ends or ``stop`` is set (then it returns quietly); ``TimeoutError`` once
    the loop time passes ``deadline``. The stream is closed either way, which stops its generator.

    The deadline is checked around each piece rather than with ``asyncio.timeout`` around the loop: a
    timeout scope left open across ``yield`` would cancel whatever the caller awaits in between."""
    loop = asyncio.get_running_loop()
    stop_wait = asyncio.ensure_future(stop.wait())
    pending: asyncio.Future[str] | None = None
    try:
        while True:
            pending = asyncio.ensure_future(anext(stream))
            done, _ = await asyncio.wait(
                {pending, stop_wait}, timeout=max(0.0, deadline - loop.time()), return_when=asyncio.FIRST_COMPLETED
            )
            if pending in done:
                finished, pending = pending, None
                try:
                    piece = finished.result()
                except StopAsyncIteration:
                    return
                yield piece
            elif stop_wait in done:
                return
            else:
                raise TimeoutError
    finally:
        stop_wait.cancel()
        if pending is not None:
            pending.cancel()
            await asyncio.wait({pending})
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with suppress(Exception):
                await aclose()


def _record_question(
    *, user: User, conversation_id: int | None, question: str
) -> tuple[Conversation, list[ChatMessage], frozenset[str]]:
    """One thread hop for the question's database work: record it, read the history and the principals."""
    conversation, history = question_record(user=user, conversation_id=conversation_id, question=question)
    return conversation, history, principals_for_user(user)


def _ms(since: float) -> int:
    return round(1000 * (time.monotonic() - since))


async def answer_stream(
    *,
    user: User,
    conversation_id: int | None,
    question: str,
    llm: LLMClient | None = None,
    stop: asyncio.Event | None = None,
    adapter: str = "",
) -> AsyncIterator[ServerEvent]:
    started = time.monotonic()
    stop = stop or asyncio.Event()
    try:
        conversation, history, principals = await orm(_record_question)(
            user=user, conversation_id=conversation_id, question=question
        )
    except ConversationNotFound:
        yield ErrorEvent(type="error", code="not_found", message="Conversation not found.")
        return
    yield ConversationEvent(type="conversation", id=conversation.pk, title=conversation.title)

    language = detect_language(question)
    llm = llm or get_llm_client()
    rewrite = await rewrite_query(
        question=question,
        history=history,
        llm=llm,
        mode=resolve_mode(settings.QUERY_REWRITE, settings.LLM_BACKEND),
        language=language,
        timeout=REWRITE_TIMEOUT_SECONDS,
    )
    retrieval = await asyncio.to_thread(retrieve, rewrite.query, principals=principals, k=settings.SEARCH_TOP_K)
    retrieval_ms = _ms(started)
    evidence = retrieval.score
    refused = not retrieval.hits or evidence < settings.ANSWER_MIN_EVIDENCE

    parts: list[str] = []
    first_token_ms: int | None = None
    fallback = False
    model_name, adapter_id = "none", ""
    passages: tuple[Passage, ...] = ()
    if refused:
        hits = closest_documents(retrieval.hits)
        sources = sources_from_hits(hits)
        parts.append(refusal_text(language, [(source["n"], source["title"]) for source in sources]))
        first_token_ms = _ms(started)
        yield TokenEvent(type="token", text=parts[0])
    else:
        sources = sources_from_hits(retrieval.hits)
        passages = tuple(
            Passage(n=s["n"], title=s["title"], location=s["location"], text=h.text)
            for s, h in zip(sources, retrieval.hits, strict=True)
        )
        prompt_passages = fit_passages(passages, question=question, max_words=settings.GENERATOR_CONTEXT_WORDS)
        request = GenerationRequest(
            question=question,
            language=language,
            passages=prompt_passages,
            messages=build_messages(question=question, language=language, passages=prompt_passages, history=history),
            max_new_tokens=settings.GENERATOR_MAX_NEW_TOKENS,
            adapter=adapter,
        )
        model_name, adapter_id = llm.model_name, llm.adapter_for(request)
        deadline = asyncio.get_running_loop().time() + settings.GENERATOR_TIMEOUT_SECONDS
        try:
            if not stop.is_set():
                async for piece in pieces_until(llm.stream(request), stop=stop, deadline=deadline):
                    if first_token_ms is None:
                        first_token_ms = _ms(started)
                    parts.append(piece)
                    yield TokenEvent(type="token", text=piece)
            if not stop.is_set() and not "".join(parts).strip():
                raise GenerationError("empty answer")
        except (GenerationError, TimeoutError) as error:
            logger.warning("generator %s failed, answering extractively: %s", model_name, error)
            fallback = True
            text = f"{FALLBACK_NOTICE.get(language, FALLBACK_NOTICE['en'])}\n\n{extractive_answer(request)}"
            if parts:
                text = "\n\n" + text
            parts.append(text)
            first_token_ms = first_token_ms if first_token_ms is not None else _ms(started)
            yield TokenEvent(type="token", text=text)

    stopped = stop.is_set() and not refused and not fallback
    text = "".join(parts)
    if refused:
        check = CitationCheck(text=text, cited=(), removed=(), judged=0, unsupported=())
    else:
        check = check_citations(text, passages)
    confidence = answer_confidence(
        refused=refused,
        evidence=evidence,
        supported_share=check.supported_share,
        min_evidence=settings.ANSWER_MIN_EVIDENCE,
        high_evidence=settings.ANSWER_HIGH_EVIDENCE,
    )
    html = answer_html(check.text, sources)
    yield SourcesEvent(type="sources", sources=sources)
    message = await orm(answer_record)(
        user=user,
        conversation=conversation,
        question=question,
        content=check.text,
        sources=list(sources),
        provenance=AnswerProvenance(
            rewritten_query=rewrite.query,
            retrieval=retrieval.provenance(),
            evidence=evidence,
            prompt_version=PROMPT_VERSION,
            model=model_name,
            adapter=adapter_id,
            fallback=fallback,
            refused=refused,
            stopped=stopped,
            confidence=confidence,
            unsupported=list(check.unsupported),
            latency_retrieval_ms=retrieval_ms,
            latency_first_token_ms=first_token_ms,
            latency_total_ms=_ms(started),
        ),
    )
    yield DoneEvent(
        type="done",
        message_id=message.pk,
        model=model_name,
        adapter=adapter_id,
        fallback=fallback,
        refused=refused,
        stopped=stopped,
        confidence=confidence,
        text=check.text,
        html=html,
        unsupported=len(check.unsupported),
    )
