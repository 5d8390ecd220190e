"""The grounding gate: generated text reaches the person a sentence at a time, each only after the support
check (``chatbot.rag.citations.unsupported_reason``) against the passages it cites, or all passages of the
answer when it cites none.

A sentence that fails is withheld (kept for the audit trail as ``Message.unsupported``), never shown. When
the stream ends, ``GateResult`` says whether what was released still answers: at least one judged sentence
released and a released share of judged sentences of at least ``settings.GROUNDING_MIN_SUPPORTED_SHARE``.
If not, the answer flow replaces it with the extractive answer (``fallback_reason="unsupported"``).

A sentence is complete at ``.``, ``!``, ``?``, ``…`` or a line break followed by more text; citation markers
written after the full stop (``… al año. [1]``) stay with the sentence they close, so the gate waits for
the next character that is neither a space nor part of a marker before it judges.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from chatbot.llm.base import Passage
from chatbot.rag.citations import MIN_JUDGED_TERMS, unsupported_reason
from chatbot.rag.text import content_terms

_BOUNDARY = re.compile(r"(?<=[.!?…])[ \t]+|\n+")
_LEADING_MARKERS = re.compile(r"^(?:[ \t]*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")
_OWN_MARKERS = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_OPEN_MARKER = re.compile(r"^[ \t]*\[[\d\s,;]*$")


@dataclass
class GateResult:
    released: list[str] = field(default_factory=list)  # sentences shown, with their trailing space
    withheld: list[str] = field(default_factory=list)  # sentences that failed the check, never shown
    judged: int = 0  # sentences long enough to judge on words, released or withheld
    released_judged: int = 0

    @property
    def text(self) -> str:
        return "".join(self.released).strip()

    @property
    def supported_share(self) -> float:
        return self.released_judged / self.judged if self.judged else 0.0

    def answers(self, min_share: float) -> bool:
        """Whether what was released is an answer: some judged sentence shown, and enough of them."""
        return self.released_judged > 0 and self.supported_share >= min_share


def _split_complete(buffer: str) -> tuple[str, str] | None:
    """``(sentence with its markers and trailing space, rest)`` when the buffer holds a complete sentence."""
    for match in _BOUNDARY.finditer(buffer):
        rest = buffer[match.end() :]
        if not rest or _OPEN_MARKER.match(rest):
            return None  # the next characters may still be this sentence's citation
        markers = _LEADING_MARKERS.match(rest)
        if markers:
            after = rest[markers.end() :]
            if not after.strip():
                return None
            sentence = f"{buffer[: match.start()]} {markers.group(0).strip()}"
            return sentence + " ", after.lstrip(" \t")
        if buffer[: match.start()].strip():
            return buffer[: match.end()], rest
    return None


def _passages_for(sentence: str, passages: Sequence[Passage]) -> list[Passage]:
    by_n = {passage.n: passage for passage in passages}
    own = [
        by_n[int(n)] for marker in _OWN_MARKERS.findall(sentence) for n in re.findall(r"\d+", marker) if int(n) in by_n
    ]
    return own or list(passages)


def _judge(sentence: str, passages: Sequence[Passage], result: GateResult) -> bool:
    judged = len(content_terms(_OWN_MARKERS.sub(" ", sentence))) >= MIN_JUDGED_TERMS
    supported = not unsupported_reason(sentence, _passages_for(sentence, passages))
    if judged:
        result.judged += 1
        result.released_judged += supported
    if supported:
        result.released.append(sentence)
    else:
        result.withheld.append(sentence.strip())
    return supported


async def gate(
    stream: AsyncIterator[str],
    passages: Sequence[Passage],
    result: GateResult,
    stop: asyncio.Event | None = None,
) -> AsyncIterator[str]:
    """``stream``'s text, released a checked sentence at a time; ``result`` is filled as it goes. Once
    ``stop`` is set nothing more is released, not even text the generator had already written."""
    buffer = ""
    stopped = stop.is_set if stop is not None else lambda: False
    async for piece in stream:
        buffer += piece
        while not stopped() and (split := _split_complete(buffer)) is not None:
            sentence, buffer = split
            if _judge(sentence, passages, result):
                yield sentence
        if stopped():
            return
    if buffer.strip() and not stopped() and _judge(buffer, passages, result):
        yield buffer
