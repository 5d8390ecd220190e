"""Orchestration of the answer flow: fallback and no-evidence paths (generator doubles only here)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from chatbot.llm import GenerationError, GenerationRequest, Passage
from chatbot.llm.extractive import ExtractiveClient, extractive_answer
from chatbot.models import Message
from chatbot.rag.answer import answer_stream

pytestmark = pytest.mark.django_db(transaction=True)


class BrokenGenerator:
    model_name = "broken"

    def __init__(self, after: list[str] | None = None) -> None:
        self.after = after or []

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        for piece in self.after:
            yield piece
        raise GenerationError("connection refused")


class StuckGenerator:
    model_name = "stuck"

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        yield "Hola"
        await asyncio.sleep(3600)


async def collect(**kwargs) -> list[Any]:
    return [event async for event in answer_stream(**kwargs)]


async def test_generator_failure_falls_back_to_quoted_passages(policies, charlie):
    events = await collect(
        user=charlie, conversation_id=None, question="¿Cuántos días de vacaciones tengo?", llm=BrokenGenerator()
    )
    done = events[-1]
    assert done["fallback"] is True and done["model"] == "broken"
    text = "".join(e["text"] for e in events if e["type"] == "token")
    assert "23 días laborables" in text and "[1]" in text
    assert (await Message.objects.aget(pk=done["message_id"])).fallback is True


async def test_generator_timeout_keeps_what_was_said_and_falls_back(policies, charlie, settings):
    settings.GENERATOR_TIMEOUT_SECONDS = 0.5
    events = await collect(user=charlie, conversation_id=None, question="vacaciones al año", llm=StuckGenerator())
    text = "".join(e["text"] for e in events if e["type"] == "token")
    assert text.startswith("Hola\n\n(El modelo no ha podido responder")
    assert events[-1]["fallback"] is True


async def test_no_visible_evidence_says_so_without_calling_the_generator(search_index, charlie):
    events = await collect(
        user=charlie, conversation_id=None, question="¿Cuántos días de vacaciones?", llm=BrokenGenerator()
    )
    assert [e["type"] for e in events] == ["conversation", "token", "sources", "done"]
    assert events[1]["text"].startswith("No he encontrado")
    assert events[2]["sources"] == []
    assert events[3]["fallback"] is False and events[3]["model"] == "none"


def test_extractive_answer_quotes_the_best_sentence_of_each_passage():
    request = GenerationRequest(
        question="How many days of leave do I get?",
        language="en",
        passages=(
            Passage(1, "Leave", "2. Days", "Welcome to the policy. Everyone gets 23 working days of leave a year."),
            Passage(2, "Other", "", "Parking is free on Fridays for everyone."),
        ),
        messages=(),
    )
    answer = extractive_answer(request)
    assert answer.splitlines()[0] == "This is what the documentation says:"
    assert "«Everyone gets 23 working days of leave a year.» [1]" in answer
    assert "[2]" in answer


async def test_extractive_client_streams_the_same_text_in_pieces():
    request = GenerationRequest(
        question="días",
        language="es",
        passages=(Passage(1, "T", "", "Tienes 23 días laborables al año."),),
        messages=(),
    )
    pieces = [piece async for piece in ExtractiveClient().stream(request)]
    assert len(pieces) > 3
    assert "".join(pieces) == extractive_answer(request)
