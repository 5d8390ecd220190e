"""No generator: answer with the sentences of the passages that answer the question, verbatim and cited.

The flow ranks the passages' sentences against the question (``chatbot.rag.sentences``) and hands the chosen
ones over as ``GenerationRequest.evidence``; this client only words them: the lead sentence introduced by
its document and section, then any further sentence on a line of its own, each with its citation.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from chatbot.llm.base import EvidenceSentence, GenerationRequest

_SECTION_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+")
_INTRO = {"es": "Según {where}:", "en": "According to {where}:"}
_PAGE = {"es": ("página", "páginas"), "en": ("page", "pages")}
_PAGE_LABEL = re.compile(r"\bp(p?)\. ")


def _where(sentence: EvidenceSentence, language: str) -> str:
    """ "«Política de vacaciones» (Días de vacaciones · página 2)": section numbers and "p." spelt out, so the
    introduction never reads as two sentences."""
    one, many = _PAGE.get(language, _PAGE["en"])
    parts = [_SECTION_NUMBER.sub("", part) for part in sentence.location.split(" › ") if part.strip()]
    location = " › ".join(part for part in parts if part)
    location = _PAGE_LABEL.sub(lambda match: f"{many if match.group(1) else one} ", location)
    return f"«{sentence.title}» ({location})" if location else f"«{sentence.title}»"


def _lexical_evidence(request: GenerationRequest) -> tuple[EvidenceSentence, ...]:
    from chatbot.rag.sentences import rank_sentences, select_answer

    ranking = rank_sentences(
        question=request.question,
        language=request.language,
        question_vector=None,
        passages=request.passages,
        embedder=None,
    )
    return select_answer(ranking)


def extractive_answer(request: GenerationRequest) -> str:
    """The chosen sentences (``request.evidence``, or a lexical ranking of the passages without it)."""
    evidence = request.evidence or _lexical_evidence(request)
    if not evidence:
        return ""
    lead = evidence[0]
    intro = _INTRO.get(request.language, _INTRO["en"]).format(where=_where(lead, request.language))
    lines = [f"{intro} {lead.text} [{lead.n}]"]
    lines.extend(f"{sentence.text} [{sentence.n}]" for sentence in evidence[1:])
    return "\n\n".join(lines)


class ExtractiveClient:
    model_name = "extractive"

    @classmethod
    def from_settings(cls) -> ExtractiveClient:
        return cls()

    def adapter_for(self, request: GenerationRequest) -> str:
        return ""  # no adapters: the answer is quoted, not generated

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        # The answer exists whole before the first piece: one piece a paragraph, not a word at a time, which
        # cost a websocket frame per word under load (bench/ws_load.py).
        for line in extractive_answer(request).splitlines(keepends=True):
            yield line
