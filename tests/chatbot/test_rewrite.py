"""Conversation-aware retrieval: follow-ups become standalone queries (heuristic and generator)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chatbot.llm import ChatMessage, GenerationError, GenerationRequest
from chatbot.rag.rewrite import heuristic_rewrite, looks_like_follow_up, resolve_mode, rewrite_query

HISTORY = [
    ChatMessage(role="user", content="¿Cuántos días de vacaciones tengo al año?"),
    ChatMessage(role="assistant", content="Tienes 23 días laborables [1]."),
]


@pytest.mark.parametrize(
    "question",
    ["¿y si trabajo a media jornada?", "¿Y cómo lo solicito?", "and when I leave?", "What about that?", "¿Y en 2027?"],
)
def test_follow_ups_are_recognised(question):
    assert looks_like_follow_up(question)


@pytest.mark.parametrize(
    "question",
    ["¿Cuántos días puedo teletrabajar a la semana?", "How long is the probation period for new joiners?"],
)
def test_standalone_questions_are_left_alone(question):
    assert not looks_like_follow_up(question)
    assert heuristic_rewrite(question, HISTORY).query == question


def test_heuristic_searches_a_follow_up_together_with_the_previous_question():
    rewrite = heuristic_rewrite("¿y si trabajo a media jornada?", HISTORY)
    assert rewrite.method == "heuristic"
    assert rewrite.query == "¿Cuántos días de vacaciones tengo al año? ¿y si trabajo a media jornada?"


class Rewriter:
    model_name = "fake"

    def __init__(self, output: str | Exception) -> None:
        self.output = output
        self.requests: list[GenerationRequest] = []

    def adapter_for(self, request: GenerationRequest) -> str:
        return ""

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        if isinstance(self.output, Exception):
            raise self.output
        for word in self.output.split(" "):
            yield word + " "


async def rewrite(llm: Rewriter, question: str = "¿y si trabajo a media jornada?"):
    return await rewrite_query(question=question, history=HISTORY, llm=llm, mode="generator", language="es", timeout=5)


async def test_the_generator_writes_the_standalone_query_from_the_conversation():
    llm = Rewriter('"Días de vacaciones con jornada parcial"\nextra line')
    result = await rewrite(llm)
    assert result.method == "generator" and result.query == "Días de vacaciones con jornada parcial"
    prompt = llm.requests[0].messages[-1]["content"]
    assert "¿Cuántos días de vacaciones tengo al año?" in prompt and "media jornada" in prompt


@pytest.mark.parametrize("output", ["", "Bananas are yellow", GenerationError("down")])
async def test_an_empty_unrelated_or_failed_rewrite_falls_back_to_the_heuristic(output):
    result = await rewrite(Rewriter(output))
    assert result.method == "heuristic"


async def test_without_history_or_when_off_the_question_is_searched_as_asked():
    llm = Rewriter("anything")
    first = await rewrite_query(question="Hola", history=[], llm=llm, mode="generator", language="es", timeout=5)
    off = await rewrite_query(question="¿y eso?", history=HISTORY, llm=llm, mode="off", language="es", timeout=5)
    assert (first.query, first.method, off.query, off.method) == ("Hola", "none", "¿y eso?", "none")
    assert llm.requests == []


def test_auto_uses_the_generator_only_for_tgi():
    assert resolve_mode("auto", "tgi") == "generator"
    assert resolve_mode("auto", "local") == "heuristic"
    assert resolve_mode("heuristic", "tgi") == "heuristic"
