"""Conversation-aware retrieval: turn a follow-up ("¿y si trabajo a media jornada?") into a standalone query.

Two ways, chosen by ``QUERY_REWRITE`` (settings):

- ``heuristic``: a question that reads as a follow-up (opens with "y", "and", "what about"…, refers back
  with "eso", "it"…, or has at most two content words) is searched together with the previous question.
  ``bench/query_rewrite.py`` measures it against the raw follow-up and the generator.
- ``generator``: the LLM writes the standalone query (prompt in ``chatbot.rag.prompts``); an empty,
  overlong or unrelated rewrite, an error or a slow one falls back to the heuristic.
- ``auto`` (default): the generator for ``tgi`` (a real instruct model), the heuristic otherwise (the
  packaged 135M model rewrote worse than the heuristic in the measurement).

A question without history is searched as asked. The query used is stored with the answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from chatbot.llm.base import ChatMessage, GenerationRequest, LLMClient
from chatbot.rag.prompts import build_rewrite_messages
from chatbot.rag.text import content_terms, strip_accents

logger = logging.getLogger(__name__)

REWRITE_MAX_TOKENS = 48
REWRITE_TIMEOUT_SECONDS = 5.0
_OPENERS = re.compile(
    r"^[\s¿¡\"«(]*(y|e|o|pero|entonces|tambien|ademas|and|but|or|so|also|then|what about|how about|what if)\b",
    re.IGNORECASE,
)
_REFERS_BACK = frozenset(
    "eso esto ello aquello dicho dicha mismo misma ahi alli lo los ellos ellas "
    "it that this they them those these there same one ones".split()
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Rewrite:
    query: str
    method: str  # "none" | "heuristic" | "generator"


def previous_question(history: list[ChatMessage]) -> str | None:
    return next((m["content"] for m in reversed(history) if m["role"] == "user"), None)


def looks_like_follow_up(question: str) -> bool:
    plain = strip_accents(question.lower())
    if _OPENERS.match(plain):
        return True
    if _REFERS_BACK & set(_WORD.findall(plain)):
        return True
    return len(content_terms(question)) <= 2


def heuristic_rewrite(question: str, history: list[ChatMessage]) -> Rewrite:
    previous = previous_question(history)
    if previous is None or not looks_like_follow_up(question):
        return Rewrite(question, "none")
    return Rewrite(f"{previous} {question}", "heuristic")


def _acceptable(rewrite: str, question: str, previous: str) -> bool:
    if not 3 <= len(rewrite) <= max(300, 3 * len(question) + len(previous)):
        return False
    return bool(content_terms(rewrite) & (content_terms(question) | content_terms(previous)))


async def generator_rewrite(
    question: str, history: list[ChatMessage], *, llm: LLMClient, language: str, timeout: float
) -> Rewrite:
    fallback = heuristic_rewrite(question, history)
    previous = previous_question(history)
    if previous is None:
        return fallback
    request = GenerationRequest(
        question=question,
        language=language,
        passages=(),
        messages=build_rewrite_messages(question=question, history=history),
        max_new_tokens=REWRITE_MAX_TOKENS,
    )
    pieces: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            async for piece in llm.stream(request):
                pieces.append(piece)
    except Exception as error:  # any failure means "use the heuristic"; the answer must not depend on it
        logger.info("query rewrite by %s failed, using the heuristic: %s", llm.model_name, error)
        return fallback
    lines = [line for line in "".join(pieces).strip().splitlines() if line.strip()]
    rewrite = lines[0].strip().strip("\"'«»`") if lines else ""
    if not _acceptable(rewrite, question, previous):
        return fallback
    return Rewrite(rewrite, "generator")


def resolve_mode(mode: str, backend: str) -> str:
    """``auto`` means the generator for ``tgi`` and the heuristic for every other backend."""
    if mode == "auto":
        return "generator" if backend == "tgi" else "heuristic"
    return mode


async def rewrite_query(
    *, question: str, history: list[ChatMessage], llm: LLMClient | None, mode: str, language: str, timeout: float
) -> Rewrite:
    """The query to search for; ``mode`` is ``off``, ``heuristic`` or ``generator`` (see ``resolve_mode``)."""
    if mode == "off" or not history:
        return Rewrite(question, "none")
    if mode == "generator" and llm is not None:
        return await generator_rewrite(question, history, llm=llm, language=language, timeout=timeout)
    return heuristic_rewrite(question, history)
