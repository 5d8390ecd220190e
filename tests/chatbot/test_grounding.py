"""The grounding gate (chatbot.rag.grounding) and the support check it applies (chatbot.rag.citations)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chatbot.llm.base import Passage
from chatbot.rag.citations import unsupported_reason
from chatbot.rag.grounding import GateResult, gate

PASSAGES = (
    Passage(
        1, "Política de vacaciones", "3. Días", "Toda persona disfruta de 23 días laborables de vacaciones al año."
    ),
    Passage(2, "Política de teletrabajo", "2. Días", "Se puede teletrabajar hasta 3 días por semana desde casa."),
)


async def pieces(*texts: str) -> AsyncIterator[str]:
    for text in texts:
        yield text


async def shown(*texts: str) -> tuple[list[str], GateResult]:
    result = GateResult()
    released = [sentence async for sentence in gate(pieces(*texts), PASSAGES, result)]
    return released, result


def test_the_support_check_wants_the_words_the_figures_and_the_names():
    assert unsupported_reason("Tienes 23 días laborables de vacaciones al año [1].", PASSAGES[:1]) == ""
    assert unsupported_reason("Tienes 25 días laborables de vacaciones al año [1].", PASSAGES[:1]) == "number 25"
    assert (
        unsupported_reason("Cada persona disfruta de 23 días de vacaciones en Workday.", PASSAGES[:1]) == "name workday"
    )
    assert unsupported_reason("La empresa regala un coche eléctrico cada año.", PASSAGES) == "words"


async def test_sentences_are_released_one_by_one_with_their_citation_after_the_full_stop():
    released, result = await shown(
        "Tienes 23 días ",
        "laborables de vacaciones al año. [",
        "1] Puedes teletrabajar ",
        "hasta 3 días por semana [2].",
    )
    assert released == [
        "Tienes 23 días laborables de vacaciones al año. [1] ",
        "Puedes teletrabajar hasta 3 días por semana [2].",
    ]
    assert result.withheld == [] and result.answers(0.6)


async def test_an_unsupported_sentence_is_withheld_and_counted():
    released, result = await shown(
        "Tienes 23 días laborables de vacaciones al año [1]. ", "Además tienes 30 días de permiso por mudanza [1]."
    )
    assert released == ["Tienes 23 días laborables de vacaciones al año [1]. "]
    assert result.withheld == ["Además tienes 30 días de permiso por mudanza [1]."]
    assert result.supported_share == 0.5 and not result.answers(0.6) and result.answers(0.5)


async def test_nothing_judged_is_no_answer():
    released, result = await shown("Hola.")
    assert released == ["Hola."] and not result.answers(0.0)
