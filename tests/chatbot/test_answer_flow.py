"""Orchestration of the answer flow with the real retrieval (generator doubles only here): fallback, refusal,
citation check, provenance, follow-ups, stop."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.conf import settings

from chatbot.llm import GenerationError, GenerationRequest, Passage
from chatbot.llm.base import EvidenceSentence
from chatbot.llm.extractive import ExtractiveClient, extractive_answer
from chatbot.models import Message
from chatbot.rag.answer import answer_stream
from chatbot.rag.prompts import PROMPT_VERSION
from chatbot.rag.thresholds import answer_thresholds
from ingestion.embed import USE_MODEL_NAME
from ingestion.search import get_search_backend

pytestmark = pytest.mark.django_db(transaction=True)

VACATION_QUESTION = "¿Cuántos días de vacaciones tengo al año?"


class Generator:
    """Says ``pieces`` one by one (optionally slowly), then fails if asked to; records its requests."""

    model_name = "double"

    def __init__(self, pieces: list[str] | None = None, *, fail: bool = False, delay: float = 0.0) -> None:
        self.pieces = pieces if pieces is not None else ["Tienes ", "23 días ", "laborables ", "[1]."]
        self.fail = fail
        self.delay = delay
        self.requests: list[GenerationRequest] = []

    def adapter_for(self, request: GenerationRequest) -> str:
        return request.adapter

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        for piece in self.pieces:
            if self.delay:
                await asyncio.sleep(self.delay)
            yield piece
        if self.fail:
            raise GenerationError("connection refused")


class StuckGenerator(Generator):
    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        yield "Hola"
        await asyncio.sleep(3600)


async def collect(**kwargs: Any) -> list[Any]:
    return [event async for event in answer_stream(**kwargs)]


def answer_text(events: list[Any]) -> str:
    return "".join(e["text"] for e in events if e["type"] == "token")


async def test_generator_failure_falls_back_to_the_extractive_answer(policies, charlie):
    events = await collect(user=charlie, conversation_id=None, question=VACATION_QUESTION, llm=Generator([], fail=True))
    done = events[-1]
    assert done["fallback"] is True and done["fallback_reason"] == "error"
    assert done["model"] == "double" and done["refused"] is False
    text = answer_text(events)
    assert "23 días laborables" in text and "[1]" in text
    stored = await Message.objects.aget(pk=done["message_id"])
    assert stored.fallback is True


async def test_generator_timeout_falls_back_and_says_so(policies, charlie, settings):
    settings.GENERATOR_TIMEOUT_SECONDS = 0.5
    events = await collect(user=charlie, conversation_id=None, question=VACATION_QUESTION, llm=StuckGenerator())
    # "Hola" never completed a sentence, so the gate never showed it.
    assert answer_text(events).startswith("(El modelo no ha podido responder")
    assert events[-1]["fallback"] is True and events[-1]["fallback_reason"] == "timeout"
    assert "23 días laborables" in events[-1]["text"]


async def test_the_gate_never_shows_an_invented_sentence(policies, charlie):
    llm = Generator(
        [
            "Tienes 23 días laborables de vacaciones al año [1]. ",
            "Además la empresa te asigna un Mercedes Clase C [1]. ",
            "Los días se generan a razón de 1,92 días por mes trabajado [1].",
        ]
    )
    events = await collect(user=charlie, conversation_id=None, question=VACATION_QUESTION, llm=llm)
    shown = answer_text(events)
    assert "23 días laborables" in shown and "1,92" in shown
    assert "Mercedes" not in shown and "Mercedes" not in events[-1]["text"]
    assert events[-1]["fallback"] is False and events[-1]["unsupported"] == 1
    stored = await Message.objects.aget(pk=events[-1]["message_id"])
    assert stored.unsupported == ["Además la empresa te asigna un Mercedes Clase C [1]."]  # kept for the audit


async def test_a_wrong_figure_is_withheld_and_the_extractive_answer_replaces_it(policies, charlie):
    llm = Generator(["Tienes 30 días laborables de vacaciones al año [1]."])
    events = await collect(user=charlie, conversation_id=None, question=VACATION_QUESTION, llm=llm)
    done = events[-1]
    assert "30 días" not in answer_text(events) and "30 días" not in done["text"]
    assert done["fallback"] is True and done["fallback_reason"] == "unsupported"
    assert "23 días laborables" in done["text"]
    stored = await Message.objects.aget(pk=done["message_id"])
    assert stored.unsupported == ["Tienes 30 días laborables de vacaciones al año [1]."]


async def test_no_visible_evidence_says_so_without_calling_the_generator(search_index, charlie):
    llm = Generator()
    events = await collect(user=charlie, conversation_id=None, question="¿Cuántos días de vacaciones?", llm=llm)
    assert [e["type"] for e in events] == ["conversation", "token", "sources", "done"]
    assert events[1]["text"].startswith("Ninguno de los documentos que puedes consultar")
    assert events[2]["sources"] == []
    assert events[3]["refused"] is True and events[3]["confidence"] == "low" and events[3]["model"] == "none"
    assert llm.requests == []


async def test_an_out_of_scope_question_is_refused_with_the_closest_documents(policies, charlie):
    llm = Generator()
    events = await collect(user=charlie, conversation_id=None, question="¿Quién ganó el mundial de 1986?", llm=llm)
    done = events[-1]
    assert done["refused"] is True and done["confidence"] == "low" and done["fallback"] is False
    assert llm.requests == []  # the generator is not asked
    text = answer_text(events)
    assert text.startswith("Ninguno de los documentos que puedes consultar responde a esto")
    sources = events[-2]["sources"]
    assert sources and [s["n"] for s in sources] == list(range(1, len(sources) + 1))
    assert len({s["document_id"] for s in sources}) == len(sources)  # one line per document
    assert f"- {sources[0]['title']} [1]" in text
    stored = await Message.objects.aget(pk=done["message_id"])
    assert stored.refused is True and stored.model == "none" and stored.evidence is not None


HR_ONLY_QUESTION = "¿Cuál es la banda salarial de un ingeniero sénior?"  # the benefits document (HR only)


@pytest.mark.xfail(
    settings.EMBEDDING_MODEL == USE_MODEL_NAME,
    strict=True,
    reason="the multilingual default (issue 14) quotes band N2 ('Ingeniero/a, técnico/a sénior', 31.000 EUR) "
    "instead of N3 ('Ingeniero/a sénior, especialista', 40.000 EUR); all-MiniLM-L6-v2 quoted N3",
)
async def test_hr_reads_the_senior_engineers_salary_band(policies, alice):
    hr = await collect(user=alice, conversation_id=None, question=HR_ONLY_QUESTION, llm=ExtractiveClient())
    assert hr[-1]["refused"] is False and "40.000 EUR" in answer_text(hr)


async def test_a_question_only_other_groups_documents_answer_is_refused_in_the_same_words_as_any(
    policies, alice, charlie
):
    hr = await collect(user=alice, conversation_id=None, question=HR_ONLY_QUESTION, llm=ExtractiveClient())
    hr_text = answer_text(hr)
    assert hr[-1]["refused"] is False and "Bandas salariales 2026" in hr_text  # HR reads a salary band
    figures = re.findall(r"\d{2}\.\d{3} EUR", hr_text)
    assert figures and {source["document_id"] for source in hr[-2]["sources"]} == {policies["benefits"].pk}

    llm = Generator()
    events = await collect(user=charlie, conversation_id=None, question=HR_ONLY_QUESTION, llm=llm)
    done, sources = events[-1], events[-2]["sources"]
    assert done["refused"] is True and llm.requests == []
    text = answer_text(events)
    assert text.startswith("Ninguno de los documentos que puedes consultar responde a esto")
    for figure in figures:  # none of what HR read is quoted to Sales
        assert figure not in text and not any(figure in source["quote"] for source in sources)
    assert {source["document_id"] for source in sources} <= {policies["vacation"].pk}

    # The same words, and the same closest documents, when no other group's document exists at all.
    await asyncio.to_thread(get_search_backend().delete, policies["benefits"].pk)
    alone = await collect(user=charlie, conversation_id=None, question=HR_ONLY_QUESTION, llm=Generator())
    assert answer_text(alone) == text and alone[-2]["sources"] == sources


async def test_the_refusal_is_in_the_questions_language(policies, charlie):
    events = await collect(user=charlie, conversation_id=None, question="Who won the 1986 World Cup?", llm=Generator())
    assert events[-1]["refused"] is True
    assert answer_text(events).startswith("Nothing in the documents you can read answers this")


async def test_invalid_citations_are_removed_and_provenance_is_stored(policies, charlie, settings):
    settings.GROUNDING_MIN_SUPPORTED_SHARE = 0.5
    llm = Generator(
        ["Tienes 23 días laborables de vacaciones al año [1][9]. ", "La empresa regala un coche eléctrico [2]."]
    )
    events = await collect(user=charlie, conversation_id=None, question=VACATION_QUESTION, llm=llm, adapter="tone-v1")
    done = events[-1]
    assert llm.requests[0].adapter == "tone-v1" and done["adapter"] == "tone-v1"
    assert "[9]" not in done["text"] and "[9]" not in done["html"]
    assert done["unsupported"] == 1 and "coche" not in done["text"]  # withheld by the gate
    assert done["confidence"] in ("medium", "low")  # half of what was said was unsupported
    assert 'class="cite"' in done["html"]

    stored = await Message.objects.aget(pk=done["message_id"])
    assert stored.content == done["text"]
    assert stored.unsupported == ["La empresa regala un coche eléctrico [2]."]
    assert stored.rewritten_query == VACATION_QUESTION
    assert stored.prompt_version == PROMPT_VERSION
    assert (stored.model, stored.adapter, stored.confidence) == ("double", "tone-v1", done["confidence"])
    assert stored.retrieval and {"chunk_id", "document_id", "score", "semantic", "lexical"} <= set(stored.retrieval[0])
    weight = answer_thresholds().evidence_semantic_weight  # the configured model's (0.8 multilingual, 0.5 MiniLM)
    assert stored.evidence == pytest.approx(
        max(weight * r["semantic"] + (1 - weight) * r["lexical"] for r in stored.retrieval), abs=1e-3
    )
    retrieval_ms, first_token_ms, total_ms = (
        stored.latency_retrieval_ms,
        stored.latency_first_token_ms,
        stored.latency_total_ms,
    )
    assert retrieval_ms is not None and first_token_ms is not None and total_ms is not None
    assert 0 <= retrieval_ms <= first_token_ms <= total_ms


async def test_a_supported_answer_gets_a_confidence_from_evidence_and_support(policies, charlie, settings):
    settings.ANSWER_HIGH_EVIDENCE = 0.0
    settings.ANSWER_HIGH_ANSWERABILITY = 0.0
    events = await collect(user=charlie, conversation_id=None, question=VACATION_QUESTION, llm=Generator())
    assert events[-1]["confidence"] == "high" and events[-1]["unsupported"] == 0
    settings.ANSWER_HIGH_EVIDENCE = 2.0  # out of reach: at most medium
    events = await collect(user=charlie, conversation_id=None, question=VACATION_QUESTION, llm=Generator())
    assert events[-1]["confidence"] == "medium"


async def test_a_follow_up_is_searched_with_the_previous_question(policies, charlie, settings):
    settings.QUERY_REWRITE = "heuristic"
    first = await collect(user=charlie, conversation_id=None, question=VACATION_QUESTION, llm=Generator())
    conversation = first[0]["id"]
    llm = Generator()
    events = await collect(
        user=charlie, conversation_id=conversation, question="¿y si trabajo a media jornada?", llm=llm
    )
    stored = await Message.objects.aget(pk=events[-1]["message_id"])
    assert stored.rewritten_query == f"{VACATION_QUESTION} ¿y si trabajo a media jornada?"
    assert any("Jornada parcial" in passage.location for passage in llm.requests[0].passages)
    # The generator sees the conversation, and the question as asked.
    assert [m["role"] for m in llm.requests[0].messages][:3] == ["system", "user", "assistant"]
    assert llm.requests[0].question == "¿y si trabajo a media jornada?"


async def test_stop_ends_the_answer_with_what_was_said_at_low_confidence(policies, charlie, settings):
    settings.ANSWER_HIGH_EVIDENCE = 0.0
    settings.ANSWER_HIGH_ANSWERABILITY = 0.0
    stop = asyncio.Event()
    first = "Tienes 23 días laborables de vacaciones al año [1]. "
    llm = Generator([first, "Los días se generan a razón de 1,92 días por mes [1]. ", "Y más. "], delay=0.3)
    events: list[Any] = []
    async for event in answer_stream(
        user=charlie, conversation_id=None, question=VACATION_QUESTION, llm=llm, stop=stop
    ):
        events.append(event)
        if event["type"] == "token":
            stop.set()
    done = events[-1]
    assert done["stopped"] is True and done["fallback"] is False
    assert done["confidence"] == "low"  # a fragment is never sure, however good its evidence
    assert answer_text(events) == first
    stored = await Message.objects.aget(pk=done["message_id"])
    assert stored.stopped is True and stored.content == first.strip()


def test_extractive_answer_leads_with_the_sentence_that_answers_and_cites_only_it():
    request = GenerationRequest(
        question="How many days of leave do I get?",
        language="en",
        passages=(
            Passage(
                1, "Leave", "2. Days · p. 3", "Welcome to the policy. Everyone gets 23 working days of leave a year."
            ),
            Passage(2, "Other", "", "Parking is free on Fridays for everyone."),
        ),
        messages=(),
    )
    answer = extractive_answer(request)
    assert answer == "According to «Leave» (Days · page 3): Everyone gets 23 working days of leave a year. [1]"


async def test_extractive_client_streams_the_chosen_sentences_a_paragraph_at_a_time():
    request = GenerationRequest(
        question="días",
        language="es",
        passages=(Passage(1, "T", "", "x"),),
        messages=(),
        evidence=(
            EvidenceSentence(n=1, text="Tienes 23 días laborables al año.", score=0.9, title="T"),
            EvidenceSentence(n=2, text="Se piden con quince días de antelación.", score=0.8, title="U"),
        ),
    )
    pieces = [piece async for piece in ExtractiveClient().stream(request)]
    assert "".join(pieces) == extractive_answer(request)
    assert pieces[0] == "Según «T»: Tienes 23 días laborables al año. [1]\n"
    assert pieces[-1] == "Se piden con quince días de antelación. [2]"
