"""The answer flow, one question at a time, each step a function over one ``Draft``:

1. ``_record``: record the question (opening a conversation if needed) and read the turns before it;
2. ``_rewrite``: rewrite a follow-up into a standalone query (``chatbot.rag.rewrite``);
3. ``_retrieve``: retrieve under the user's principals, measure the passages' evidence
   (``chatbot.rag.evidence``) and rank their sentences against the question (``chatbot.rag.sentences``);
4. ``_refuse`` when nothing the person may read answers (passage evidence below ``min_evidence`` or the
   best sentence below ``min_answerability``, the embedding model's thresholds: ``chatbot.rag.thresholds``):
   say so, list the closest documents, call no generator. Retrieval only ever sees what the person may
   read, so a question answered only by documents of other groups is refused by the same rule, in the same
   words, as one no document answers: nothing says whether other documents exist.
   Otherwise ``_generate``: stream the answer through the grounding gate (``chatbot.rag.grounding``), so
   only sentences the passages support are shown; fall back to the extractive answer (the chosen sentences,
   quoted and cited) when the generator fails, runs out of time, or what it said does not pass the gate;
   stop when the person asks;
5. ``_finish``: check the citations (``chatbot.rag.citations``), rate the confidence
   (``chatbot.rag.confidence``), render the answer as safe HTML and record it with its provenance.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, field

from django.conf import settings

from accounts.models import User
from accounts.principals import principals_for_user
from chatbot.db import orm
from chatbot.events import (
    ConversationEvent,
    DoneEvent,
    ErrorEvent,
    FallbackReason,
    RetrievedEvent,
    ServerEvent,
    Source,
    SourcesEvent,
    TokenEvent,
)
from chatbot.llm import ChatMessage, GenerationError, GenerationRequest, LLMClient, Passage, get_llm_client
from chatbot.llm.extractive import extractive_answer
from chatbot.models import Conversation
from chatbot.rag.citations import CitationCheck, check_citations
from chatbot.rag.confidence import answer_confidence
from chatbot.rag.context import fit_passages
from chatbot.rag.grounding import GateResult, gate
from chatbot.rag.prompts import FALLBACK_NOTICE, PROMPT_VERSION, build_messages, refusal_text
from chatbot.rag.retrieval import Retrieval, closest_documents, passages_from_sources, retrieve, sources_from_hits
from chatbot.rag.rewrite import REWRITE_TIMEOUT_SECONDS, resolve_mode, rewrite_query
from chatbot.rag.sentences import SentenceRanking, rank_retrieved, select_answer
from chatbot.rag.thresholds import answer_thresholds
from chatbot.rendering import answer_html
from chatbot.selectors import ConversationNotFound
from chatbot.services import AnswerProvenance, answer_record, question_record
from ingestion.language import detect_language
from ingestion.search import SearchBackend

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


@dataclass
class Draft:
    """What one answer accumulates on its way through the steps."""

    started: float
    question: str
    language: str
    conversation: Conversation | None = None
    history: list[ChatMessage] = field(default_factory=list)
    principals: frozenset[str] = frozenset()
    query: str = ""
    retrieval: Retrieval | None = None
    retrieval_ms: int = 0
    ranking: SentenceRanking | None = None
    sources: list[Source] = field(default_factory=list)
    passages: tuple[Passage, ...] = ()
    request: GenerationRequest | None = None
    refused: bool = False
    parts: list[str] = field(default_factory=list)  # what the person was shown, in order
    first_content_ms: int | None = None
    fallback_reason: FallbackReason = ""
    withheld: list[str] = field(default_factory=list)  # generated sentences the gate did not show
    model: str = "none"
    adapter: str = ""
    search: SearchBackend | None = None  # None: the configured backend

    def show(self, text: str) -> TokenEvent:
        if self.first_content_ms is None:
            self.first_content_ms = _ms(self.started)
        self.parts.append(text)
        return TokenEvent(type="token", text=text)

    @property
    def evidence(self) -> float:
        return self.retrieval.score if self.retrieval is not None else 0.0

    @property
    def answerability(self) -> float:
        return self.ranking.answerability if self.ranking is not None else 0.0


def _retrieve(draft: Draft) -> None:
    """Passages under the user's principals, their evidence, and their sentences ranked (one thread hop)."""
    draft.retrieval = retrieval = retrieve(
        draft.query, principals=draft.principals, k=settings.SEARCH_TOP_K, backend=draft.search
    )
    draft.retrieval_ms = _ms(draft.started)
    sources = sources_from_hits(retrieval.hits)
    draft.passages = passages_from_sources(sources, retrieval.hits)
    draft.sources = sources
    draft.ranking = rank_retrieved(
        question=draft.query, language=draft.language, retrieval=retrieval, passages=draft.passages
    )
    thresholds = answer_thresholds()
    draft.refused = (
        not retrieval.hits
        or draft.evidence < thresholds.min_evidence
        or draft.answerability < thresholds.min_answerability
    )


def _refuse(draft: Draft) -> TokenEvent:
    assert draft.retrieval is not None
    draft.sources = sources_from_hits(closest_documents(draft.retrieval.hits))
    return draft.show(refusal_text(draft.language, [(source["n"], source["title"]) for source in draft.sources]))


def _request(draft: Draft, adapter: str) -> GenerationRequest:
    assert draft.ranking is not None
    prompt_passages = fit_passages(draft.passages, question=draft.question, max_words=settings.GENERATOR_CONTEXT_WORDS)
    return GenerationRequest(
        question=draft.question,
        language=draft.language,
        passages=prompt_passages,
        messages=build_messages(
            question=draft.question, language=draft.language, passages=prompt_passages, history=draft.history
        ),
        max_new_tokens=settings.GENERATOR_MAX_NEW_TOKENS,
        adapter=adapter,
        evidence=select_answer(draft.ranking),
    )


def _extractive(draft: Draft, reason: FallbackReason) -> str:
    """The extractive answer (the sentences chosen from all retrieved passages), replacing what was shown."""
    assert draft.request is not None
    draft.fallback_reason = reason
    text = extractive_answer(draft.request)
    if reason in ("error", "timeout"):
        text = f"{FALLBACK_NOTICE.get(draft.language, FALLBACK_NOTICE['en'])}\n\n{text}"
    return text


async def _generate(draft: Draft, llm: LLMClient, stop: asyncio.Event) -> AsyncIterator[TokenEvent]:
    """The generator's text through the grounding gate; the extractive answer when it cannot answer."""
    assert draft.request is not None
    result = GateResult()
    deadline = asyncio.get_running_loop().time() + settings.GENERATOR_TIMEOUT_SECONDS
    try:
        if not stop.is_set():
            async for sentence in gate(
                pieces_until(llm.stream(draft.request), stop=stop, deadline=deadline), draft.passages, result, stop
            ):
                yield draft.show(sentence)
        if not stop.is_set() and not result.text:
            raise GenerationError("nothing to show" if result.withheld else "empty answer")
    except (GenerationError, TimeoutError) as error:
        logger.warning("generator %s failed, answering extractively: %s", draft.model, error)
        reason: FallbackReason = "timeout" if isinstance(error, TimeoutError) else "error"
        if result.withheld and not result.text:
            reason = "unsupported"
        text = _extractive(draft, reason)
        yield draft.show(f"\n\n{text}" if draft.parts else text)
    else:
        if not stop.is_set() and not result.answers(settings.GROUNDING_MIN_SUPPORTED_SHARE):
            logger.info(
                "generator %s: %d sentences withheld, %d judged", draft.model, len(result.withheld), result.judged
            )
            text = _extractive(draft, "unsupported")
            draft.parts = []
            yield draft.show(text)
    draft.withheld = result.withheld


async def answer_stream(
    *,
    user: User,
    conversation_id: int | None,
    question: str,
    llm: LLMClient | None = None,
    stop: asyncio.Event | None = None,
    adapter: str = "",
    search: SearchBackend | None = None,
) -> AsyncIterator[ServerEvent]:
    """One answer's events; ``search`` replaces the configured search backend (evaluations' throwaway
    indexes), as ``llm`` replaces the configured generator."""
    draft = Draft(started=time.monotonic(), question=question, language=detect_language(question), search=search)
    stop = stop or asyncio.Event()
    try:
        draft.conversation, draft.history, draft.principals = await orm(_record_question)(
            user=user, conversation_id=conversation_id, question=question
        )
    except ConversationNotFound:
        yield ErrorEvent(type="error", code="not_found", message="Conversation not found.")
        return
    yield ConversationEvent(type="conversation", id=draft.conversation.pk, title=draft.conversation.title)

    llm = llm or get_llm_client()
    rewrite = await rewrite_query(
        question=question,
        history=draft.history,
        llm=llm,
        mode=resolve_mode(settings.QUERY_REWRITE, settings.LLM_BACKEND),
        language=draft.language,
        timeout=REWRITE_TIMEOUT_SECONDS,
    )
    draft.query = rewrite.query
    await asyncio.to_thread(_retrieve, draft)
    if draft.refused:
        yield _refuse(draft)
    else:
        yield RetrievedEvent(type="retrieved", sources=draft.sources)  # the page shows them while it waits
        draft.request = _request(draft, adapter)
        draft.model, draft.adapter = llm.model_name, llm.adapter_for(draft.request)
        async for token in _generate(draft, llm, stop):
            yield token
    async for event in _finish(draft, user=user, stop=stop):
        yield event


def _supported_share(check: CitationCheck, *, withheld: int) -> float:
    """Share of everything said that was supported: the shown text's judged sentences and those withheld."""
    judged = check.judged + withheld
    return 1.0 if not judged else (check.judged - len(check.unsupported)) / judged


async def _finish(draft: Draft, *, user: User, stop: asyncio.Event) -> AsyncIterator[ServerEvent]:
    """Citations checked, confidence rated, the answer rendered and recorded; ``sources`` then ``done``."""
    assert draft.conversation is not None and draft.retrieval is not None
    fallback = bool(draft.fallback_reason)
    stopped = stop.is_set() and not draft.refused and not fallback
    text = "".join(draft.parts).strip()
    if draft.refused:
        check = CitationCheck(text=text, cited=(), removed=(), judged=0, unsupported=())
        sources = draft.sources
    else:
        check = check_citations(text, draft.passages)
        # Only the passages the answer cites are its sources; nothing cited (a stopped fragment) lists all.
        sources = [source for source in draft.sources if source["n"] in check.cited] or draft.sources
    confidence = answer_confidence(
        refused=draft.refused,
        stopped=stopped,
        evidence=draft.evidence,
        answerability=draft.answerability,
        supported_share=_supported_share(check, withheld=len(draft.withheld)),
    )
    html = answer_html(check.text, sources)
    yield SourcesEvent(type="sources", sources=sources)
    message = await orm(answer_record)(
        user=user,
        conversation=draft.conversation,
        question=draft.question,
        content=check.text,
        sources=list(sources),
        provenance=AnswerProvenance(
            rewritten_query=draft.query,
            retrieval=draft.retrieval.provenance(),
            evidence=draft.evidence,
            prompt_version=PROMPT_VERSION,
            model=draft.model,
            adapter=draft.adapter,
            fallback=fallback,
            refused=draft.refused,
            stopped=stopped,
            confidence=confidence,
            unsupported=[*draft.withheld, *check.unsupported],
            latency_retrieval_ms=draft.retrieval_ms,
            latency_first_token_ms=draft.first_content_ms,
            latency_total_ms=_ms(draft.started),
        ),
    )
    yield DoneEvent(
        type="done",
        message_id=message.pk,
        model=draft.model,
        adapter=draft.adapter,
        fallback=fallback,
        fallback_reason=draft.fallback_reason,
        refused=draft.refused,
        stopped=stopped,
        confidence=confidence,
        text=check.text,
        html=html,
        unsupported=len(draft.withheld) + len(check.unsupported),
    )
