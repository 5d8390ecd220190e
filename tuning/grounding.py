"""Grounding regression: does the adapter still answer from the sources, as the base model does?

A fixed set of RAG questions, each with the numbered passages the answer flow would give the generator
(quoted from the demo corpus, ``demo/sources``; ``tests/tuning/test_grounding.py`` keeps them in sync),
is answered through the answer flow's own prompt (``chatbot.rag.prompts.build_messages``) with and
without the adapter. Three shares are compared, and the adapter must not be lower on any of them:

- ``citation_rate``: answerable questions whose answer cites the passage that holds the answer;
- ``refusal_correct``: questions where the answer says "not found" exactly when the passages do not hold
  the answer (the last two questions are out of scope: their passages are about something else);
- ``language_match``: answers in the question's language (``ingestion.language.detect_language``).

The set is small on purpose: it runs on CPU after every training run, twice (base and adapter). The order
interleaves kinds and languages, so a shortened run (``grounding_questions``) still has both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from chatbot.llm.base import ChatMessage, Passage
from chatbot.rag.citations import clean_citations
from chatbot.rag.prompts import build_messages
from ingestion.language import detect_language


@dataclass(frozen=True)
class GroundingQuestion:
    question: str
    language: str
    passages: tuple[Passage, ...]
    answer_in: int  # the number of the passage that holds the answer; 0: none does (the answer should refuse)


_VACATION_DAYS = (
    "Toda persona empleada a tiempo completo disfruta de 23 días laborables de vacaciones al año. Los días se "
    "generan de forma proporcional a razón de 1,92 días por mes trabajado dentro del año natural (del 1 de "
    "enero al 31 de diciembre)."
)
_VACATION_CARRY_OVER = (
    "Las vacaciones deben disfrutarse dentro del año natural. Como excepción, se pueden trasladar hasta 5 días "
    "no disfrutados al año siguiente, que deberán usarse antes del 31 de marzo. Los días trasladados que no se "
    "disfruten antes de esa fecha se pierden y no se compensan económicamente."
)
_TELEWORK_ABROAD = (
    "Se puede teletrabajar desde una ubicación distinta al domicilio habitual dentro de España comunicándolo "
    "con 5 días de antelación. Teletrabajar desde otro país de la Unión Europea está permitido un máximo de "
    "20 días laborables al año, con aprobación previa del responsable y del equipo de Personas. Fuera de la "
    "UE no se permite el teletrabajo."
)
_PROBATION = (
    "Your contract includes a probation period: 6 months for qualified technical staff (graduate engineers "
    "and equivalent) and 2 months for all other roles. Your manager will give you feedback at the mid-point "
    "and confirm the outcome at least 10 days before the period ends."
)
_BUDDY = (
    "Every new joiner is paired with a buddy: an experienced colleague from a different team. Your buddy is "
    "your go-to person for informal questions such as where to have lunch, how meetings work or who to ask "
    "about what. Expect at least one 30-minute conversation per week during your first two months."
)

_VACATIONS = "Política de vacaciones y permisos"
_TELEWORK = "Política de teletrabajo"
_ONBOARDING = "Onboarding guide for new joiners"


def _passages(*items: tuple[str, str, str]) -> tuple[Passage, ...]:
    return tuple(
        Passage(n=n, title=title, location=location, text=text) for n, (title, location, text) in enumerate(items, 1)
    )


GROUNDING_SET: tuple[GroundingQuestion, ...] = (
    # First the one with the shortest prompt: a run shortened to one question (the tests) pays least.
    GroundingQuestion(
        question="¿Puedo teletrabajar desde otro país?",
        language="es",
        passages=_passages((_TELEWORK, "9. Teletrabajo desde otra ubicación", _TELEWORK_ABROAD)),
        answer_in=1,
    ),
    GroundingQuestion(
        question="¿Quién ganó el mundial de 1986?",
        language="es",
        passages=_passages((_VACATIONS, "3. Días de vacaciones", _VACATION_DAYS)),
        answer_in=0,
    ),
    GroundingQuestion(
        question="How long is the probation period for new joiners?",
        language="en",
        passages=_passages(
            (_ONBOARDING, "7. Probation period", _PROBATION),
            (_ONBOARDING, "6. Your buddy", _BUDDY),
        ),
        answer_in=1,
    ),
    GroundingQuestion(
        question="Who wrote War and Peace?",
        language="en",
        passages=_passages((_ONBOARDING, "6. Your buddy", _BUDDY)),
        answer_in=0,
    ),
    GroundingQuestion(
        question="¿Cuántos días de vacaciones tengo al año?",
        language="es",
        passages=_passages(
            (_TELEWORK, "9. Teletrabajo desde otra ubicación", _TELEWORK_ABROAD),
            (_VACATIONS, "3. Días de vacaciones", _VACATION_DAYS),
        ),
        answer_in=2,
    ),
    GroundingQuestion(
        question="¿Qué pasa con los días de vacaciones que no disfruto?",
        language="es",
        passages=_passages(
            (_VACATIONS, "3. Días de vacaciones", _VACATION_DAYS),
            (_VACATIONS, "6. Días no disfrutados", _VACATION_CARRY_OVER),
        ),
        answer_in=2,
    ),
)

# How an answer says the sources do not hold the answer: the system prompt's instruction ("say that nothing
# in the documents they can read answers this", the refusal's words, chatbot.rag.prompts.REFUSAL) and the
# ways small models phrase it.
_REFUSAL = re.compile(
    r"nothing in the documents|ninguno de los documentos"
    r"|no (?:he |lo )?(?:encontrado|encuentro|encontré)|no (?:aparece|figura|se menciona|se indica|consta)"
    r"|no (?:tengo|hay) (?:información|datos)|no (?:puedo|sé) responder"
    r"|(?:did|could|can)(?: not|n't) find|not (?:found|mentioned|covered|included|in the (?:documentation|sources))"
    r"|(?:no|any) information (?:about|on)|(?:cannot|can't|could not|couldn't) answer|i don't know|i do not know",
    re.IGNORECASE,
)


def is_refusal(answer: str) -> bool:
    return bool(_REFUSAL.search(answer))


def grounding_messages(item: GroundingQuestion) -> tuple[ChatMessage, ...]:
    return build_messages(question=item.question, language=item.language, passages=item.passages, history=[])


@dataclass(frozen=True)
class GroundingScores:
    citation_rate: float
    refusal_correct: float
    language_match: float

    def as_dict(self) -> dict[str, float]:
        return {key: round(value, 4) for key, value in asdict(self).items()}


def grounding_scores(items: Sequence[GroundingQuestion], answers: Sequence[str]) -> GroundingScores:
    """The three shares for one model's ``answers`` to ``items`` (same order)."""
    if len(items) != len(answers) or not items:
        raise ValueError("one answer per grounding question, and at least one question")
    answerable = [(item, answer) for item, answer in zip(items, answers, strict=True) if item.answer_in]
    cited = sum(
        item.answer_in in clean_citations(answer, {p.n for p in item.passages})[1] for item, answer in answerable
    )
    refusals = sum(is_refusal(answer) == (not item.answer_in) for item, answer in zip(items, answers, strict=True))
    languages = sum(
        bool(answer.strip()) and detect_language(answer, default="") == item.language
        for item, answer in zip(items, answers, strict=True)
    )
    return GroundingScores(
        citation_rate=cited / len(answerable) if answerable else 1.0,
        refusal_correct=refusals / len(items),
        language_match=languages / len(items),
    )


def grounding_regressions(*, base: GroundingScores, adapter: GroundingScores) -> list[str]:
    """The measures on which the adapter is worse than the base model (none: no regression)."""
    return [name for name, value in asdict(adapter).items() if value < getattr(base, name) - 1e-9]
