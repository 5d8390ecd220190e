"""No generator: answer with the passages' most relevant sentences, quoted and cited."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from chatbot.llm.base import GenerationRequest

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+")
_INTRO = {"es": "Esto es lo que dice la documentación:", "en": "This is what the documentation says:"}


def _best_sentence(text: str, question_words: set[str]) -> str:
    sentences = [sentence.strip(" -") for sentence in _SENTENCE.split(text) if len(sentence.strip()) > 20]
    if not sentences:
        return text.strip()
    return max(sentences, key=lambda sentence: len(question_words & set(_WORD.findall(sentence.lower()))))


def extractive_answer(request: GenerationRequest, *, max_passages: int = 3) -> str:
    question_words = {word for word in _WORD.findall(request.question.lower()) if len(word) > 3}
    lines = [_INTRO.get(request.language, _INTRO["en"]), ""]
    for passage in request.passages[:max_passages]:
        lines.append(f"- «{_best_sentence(passage.text, question_words)}» [{passage.n}]")
    return "\n".join(lines)


class ExtractiveClient:
    model_name = "extractive"

    @classmethod
    def from_settings(cls) -> ExtractiveClient:
        return cls()

    def adapter_for(self, request: GenerationRequest) -> str:
        return ""  # no adapters in process yet: the base model answers every request

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        # The answer exists whole before the first piece: one piece a line (the introduction, each quoted
        # passage), not a word at a time, which cost a websocket frame per word under load (bench/ws_load.py).
        for line in extractive_answer(request).splitlines(keepends=True):
            yield line
