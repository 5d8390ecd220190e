"""Sentence-level evidence: the sentences of the retrieved passages, ranked against the question.

The answer a person reads is built from these (``chatbot.rag.compose``), and they decide whether Faro answers
at all: a question is answerable when some *sentence* answers it, not merely when a passage shares its topic.

1. **Sentences** (``passage_sentences``): a passage's text without front matter, headings alone, tables of
   contents or boilerplate (all-capitals notices, ``Código: … | Versión …`` lines); Markdown emphasis, list
   markers and links are stripped; a table row becomes one sentence that names its columns
   ("Nivel: N2; Mínimo: 31.000 EUR").
2. **Lexical coverage**: the question's terms analysed as search analyses them (folding, stop words, Snowball
   stems; ``ingestion.search.analysis``), each weighted by its rarity among the candidate sentences (a term
   every sentence shares tells none apart; a term no sentence has lowers every sentence's coverage). A
   sentence covers a term itself (full weight) or through its context: the sentence before it and its
   section heading (half weight).
3. **Semantic similarity**: cosine between the question's vector and the sentence's, embedded by the search
   embedder with its section's name in front ("Contraseñas: Longitud mínima de 14 caracteres."), so a
   sentence that only makes sense in its section is read in it (cached by text: popular passages are
   embedded once per process).
4. **Score**: a weighted sum of those, of the passage's own evidence and retrieval rank, and of a bonus when
   the question asks for a quantity or a date and the sentence holds a number (``Features.score``). A
   sentence of a passage in another language than the question's, which the vectors also read
   (``chatbot.rag.evidence``), shares no words with it: its lexical coverage is taken to be its cosine. The
   weights were chosen on ConditionalQA's evidence sentences (English, gov.uk) by a grid search of the lead
   sentence's accuracy, and checked on the demo company's Spanish sets, which they were not chosen on
   (``bench/answer_calibration.py --dump``; figures in docs/evaluation.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from chatbot.llm.base import EvidenceSentence, Passage
from chatbot.rag.evidence import VectorCache
from chatbot.rag.retrieval import Retrieval
from ingestion.embed import Embedder, get_embedder
from ingestion.search.analysis import analysis_for, analyze

LEXICAL_WEIGHT = 1.0
SEMANTIC_WEIGHT = 0.5
CONTEXT_WEIGHT = 0.25  # a question term found only in the previous sentence or the section heading
NUMBER_BONUS = 0.2  # the question asks how many / how much / when, and the sentence holds a number
RANK_WEIGHT = 0.05  # the first passage's sentences, shrinking with the passage's rank
PASSAGE_WEIGHT = 0.5  # the passage's own evidence
MIN_WORDS = 4
MAX_TERM_WEIGHT = 2.0  # no single rare word decides alone
# The answer: the best sentence, then at most two more that each hold question terms the ones before lack
# (at least EXTRA_MIN_GAIN of the question's weight) and score at least EXTRA_MIN_RATIO of the best.
MAX_ANSWER_SENTENCES = 3
MAX_ANSWER_WORDS = 60
EXTRA_MIN_GAIN = 0.15
EXTRA_MIN_RATIO = 0.8
SENTENCE_VECTOR_CACHE_SIZE = 50_000

_FRONT_MATTER = re.compile(r"\A\s*---\s*\n.*?\n---\s*(?:\n|\Z)", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"«(¿¡A-ZÁÉÍÓÚÑ0-9])|\s+[-•–]\s+(?=[\"«(¿¡A-ZÁÉÍÓÚÑ0-9])")
# A full stop after these does not end a sentence ("p. 2", "art. 5", "S.L. Su…" does, but rarely matters).
_ABBREVIATION = re.compile(
    r"\b(?:p|pp|pág|art|arts|núm|n|no|sr|sra|dña|dr|dra|etc|vol|cap|ej|aprox|ext|tel)\.$", re.IGNORECASE
)
_BLOCKQUOTE = re.compile(r"^\s*(?:>\s*)+")
_EMPHASIS = re.compile(r"(\*\*|__|(?<!\w)\*(?!\s)|(?<!\s)\*(?!\w)|`)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s+")
_TOC_LINE = re.compile(r"(\.{4,}|…{2,}|\s\.\s\.\s)|\s\d{1,3}\s*$")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_METADATA_LINE = re.compile(r"\b(c[oó]digo|versi[oó]n|version|code|revisi[oó]n|p[aá]gina|page)\b.*\|", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
_QUANTITY_QUESTION = re.compile(
    r"\b(cu[aá]nt[oa]s?|cu[aá]ndo|plazo|importe|l[ií]mite|m[aá]ximo|m[ií]nimo|precio|coste|porcentaje|"
    r"how (?:many|much|long|often|soon)|when|deadline|limit|amount|cost|percentage|minimum|maximum)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Features:
    """What the score of a sentence is made of (each in [0, 1] but ``semantic``, a cosine)."""

    own: float  # weighted share of the question's terms the sentence holds
    context: float  # ... that only its previous sentence or its section heading holds
    semantic: float  # cosine of question and "section: sentence"
    rank: float  # 1 / (1 + the passage's retrieval rank)
    passage: float  # the passage's evidence (chatbot.rag.evidence)
    number: float  # 1 when the question asks for a quantity or date and the sentence holds a number
    cross_language: bool = False  # its passage is in another language the vectors read: no words to share

    @property
    def coverage(self) -> float:
        """How much of the question the sentence covers: its terms, or across languages its cosine."""
        if self.cross_language:
            return max(0.0, self.semantic)
        return self.own + CONTEXT_WEIGHT * self.context

    def score(self) -> float:
        return (
            LEXICAL_WEIGHT * self.coverage
            + SEMANTIC_WEIGHT * self.semantic
            + RANK_WEIGHT * self.rank
            + PASSAGE_WEIGHT * self.passage
            + NUMBER_BONUS * self.number
        )


@dataclass(frozen=True)
class Sentence:
    """One candidate answer sentence, from source ``n`` (its ``position`` among that passage's sentences)."""

    n: int
    position: int
    text: str
    features: Features
    terms: frozenset[str] = field(default_factory=frozenset)  # question terms the sentence itself holds
    title: str = ""
    location: str = ""

    @property
    def score(self) -> float:
        return round(self.features.score(), 4)


@dataclass(frozen=True)
class SentenceRanking:
    question_terms: dict[str, float]  # term -> weight
    sentences: tuple[Sentence, ...]  # best first

    @property
    def best(self) -> Sentence | None:
        return self.sentences[0] if self.sentences else None

    @property
    def answerability(self) -> float:
        """How well the best sentence answers the question, in the score's own units (0 without sentences)."""
        return self.sentences[0].score if self.sentences else 0.0


# -- sentences of a passage ------------------------------------------------------------------------------
def _split(text: str) -> list[str]:
    """Sentences of one cleaned paragraph; a full stop after an abbreviation does not end one."""
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(text):
        if pieces and _ABBREVIATION.search(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return pieces


def _clean(text: str) -> str:
    text = "\n".join(_BLOCKQUOTE.sub("", line) for line in text.splitlines())
    text = _LINK.sub(r"\1", text)
    text = _LIST_MARKER.sub("", text)
    text = _EMPHASIS.sub("", text)
    return " ".join(text.split())


def _table_rows(lines: list[str]) -> list[str]:
    """A Markdown table's data rows as sentences naming their columns (the header row names them)."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    rows = [row for row, line in zip(rows, lines, strict=True) if not _TABLE_SEPARATOR.match(line.strip())]
    if len(rows) < 2:
        return [_clean(" ".join(rows[0]))] if rows else []
    header, data = rows[0], rows[1:]
    sentences = []
    for row in data:
        cells = [
            f"{_clean(name)}: {_clean(value)}" if name else _clean(value)
            for name, value in zip(header, row, strict=False)
            if value
        ]
        sentences.append("; ".join(cells) + ".")
    return sentences


def _is_boilerplate(sentence: str) -> bool:
    letters = [c for c in sentence if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        return True  # "CONFIDENCIAL - USO EXCLUSIVO DEL DEPARTAMENTO…"
    if _METADATA_LINE.search(sentence):
        return True  # "Código: RRHH-CONF-012 | Versión 1.0 | …"
    return bool(_TOC_LINE.search(sentence)) and not sentence.rstrip().endswith((".", "!", "?"))


def _is_heading(line: str) -> bool:
    """A line that only names what follows: Markdown heading, or short, unpunctuated and followed by text."""
    stripped = line.strip()
    if stripped.startswith("#"):
        return True
    words = stripped.split()
    return len(words) <= 8 and not stripped.endswith((".", ":", "!", "?", ";", ",")) and not _LIST_MARKER.match(line)


def _paragraphs(text: str) -> list[tuple[str, bool]]:
    """``(text, is_table)`` blocks of a passage, front matter and headings dropped."""
    text = _FRONT_MATTER.sub("", text)
    blocks: list[tuple[str, bool]] = []
    lines = text.splitlines()
    i = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(("\n".join(paragraph), False))
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("|"):
            flush()
            table = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                table.append(lines[i])
                i += 1
            blocks.append(("\n".join(table), True))
            continue
        if not line.strip():
            flush()
        elif _LIST_MARKER.match(line):
            flush()
            paragraph.append(line)
            flush()
        elif (
            not paragraph
            and _is_heading(line)
            and (line.strip().startswith("#") or i + 1 >= len(lines) or not lines[i + 1].strip())
        ):
            pass  # a heading alone: the section path already names it
        else:
            paragraph.append(line)
        i += 1
    flush()
    return blocks


def passage_sentences(text: str) -> list[str]:
    """The sentences of a passage worth quoting, in reading order."""
    sentences: list[str] = []
    for block, is_table in _paragraphs(text):
        pieces = _table_rows(block.splitlines()) if is_table else _split(_clean(block))
        for piece in pieces:
            piece = piece.strip()
            if len(piece.split()) >= MIN_WORDS and not _is_boilerplate(piece):
                sentences.append(piece)
    return sentences


# -- vectors -----------------------------------------------------------------------------------------------
_vectors = VectorCache(SENTENCE_VECTOR_CACHE_SIZE)  # by text


# -- ranking -----------------------------------------------------------------------------------------------
def _heading(location: str) -> str:
    """The innermost section name of a location ("3. Días › 3.1. Jornada parcial · p. 2" -> "Jornada parcial")."""
    innermost = location.split(" · ")[0].split(" › ")[-1]
    return re.sub(r"^\s*\d+(?:\.\d+)*\.?\s+", "", innermost).strip()


def _terms(text: str, analysis: str) -> set[str]:
    return set(analyze(text, analysis))


def _weights(question_terms: set[str], candidates: Sequence[set[str]]) -> dict[str, float]:
    """BM25's idf of each question term over the candidate sentences (never below a small floor)."""
    total = len(candidates)
    weights = {}
    for term in question_terms:
        df = sum(term in terms for terms in candidates)
        weights[term] = min(MAX_TERM_WEIGHT, max(0.2, math.log(1 + (total - df + 0.5) / (df + 0.5))))
    return weights


def rank_sentences(
    *,
    question: str,
    language: str,
    question_vector: np.ndarray | None,
    passages: Sequence[Passage],
    embedder: Embedder | None,
    passage_support: Sequence[float] | None = None,
    cross_language: Sequence[bool] | None = None,
) -> SentenceRanking:
    """Every quotable sentence of ``passages`` scored against ``question``, best first. Without an embedder
    (or a question vector) the score is lexical only. ``passage_support`` and ``cross_language``: each
    passage's evidence and whether it is judged by its vector (``chatbot.rag.evidence``), in the passages'
    order."""
    analysis = analysis_for(language)
    question_terms = _terms(question, analysis)
    rows: list[tuple[Passage, int, str, set[str], set[str]]] = []  # passage, position, text, own, context terms
    headings: list[str] = []  # each row's section name, embedded with it
    for passage in passages:
        heading = _terms(passage.location, analysis)
        name = _heading(passage.location)
        previous: set[str] = set()
        for position, text in enumerate(passage_sentences(passage.text)):
            own = _terms(text, analysis)
            rows.append((passage, position, text, own, previous | heading))
            headings.append(name)
            previous = own
    if not rows:
        return SentenceRanking(question_terms={}, sentences=())
    weights = _weights(question_terms, [own for _, _, _, own, _ in rows])
    total_weight = sum(weights.values()) or 1.0
    semantic = np.zeros(len(rows), dtype=np.float32)
    if embedder is not None and question_vector is not None:
        texts = [f"{name}: {text}" if name else text for name, (_, _, text, _, _) in zip(headings, rows, strict=True)]
        vectors = _vectors.vectors(embedder, texts, texts)
        semantic = vectors @ np.asarray(question_vector, dtype=np.float32)
    wants_number = bool(_QUANTITY_QUESTION.search(question))
    ranks = {passage.n: rank for rank, passage in enumerate(passages)}
    support = {passage.n: float(value) for passage, value in zip(passages, passage_support or (), strict=False)}
    vector_only = {passage.n for passage, flag in zip(passages, cross_language or (), strict=False) if flag}
    sentences = []
    for (passage, position, text, own, context), cosine in zip(rows, semantic, strict=True):
        held = question_terms & own
        by_context = (question_terms & context) - held
        features = Features(
            own=sum(weights[t] for t in held) / total_weight,
            context=sum(weights[t] for t in by_context) / total_weight,
            semantic=float(cosine),
            rank=1 / (1 + ranks[passage.n]),
            passage=support.get(passage.n, 0.0),
            number=float(wants_number and bool(_NUMBER.search(text))),
            cross_language=passage.n in vector_only and embedder is not None and question_vector is not None,
        )
        sentences.append(
            Sentence(
                n=passage.n,
                position=position,
                text=text,
                features=features,
                terms=frozenset(held),
                title=passage.title,
                location=passage.location,
            )
        )
    sentences.sort(key=lambda s: (-s.score, ranks[s.n], s.position))
    return SentenceRanking(question_terms=weights, sentences=tuple(sentences))


def rank_retrieved(
    *, question: str, language: str, retrieval: Retrieval, passages: Sequence[Passage]
) -> SentenceRanking:
    """``rank_sentences`` over what ``retrieve`` found (``passages`` numbered as its hits), with the query
    vector and passage evidence it already computed."""
    return rank_sentences(
        question=question,
        language=language,
        question_vector=retrieval.query_vector,
        passages=passages,
        embedder=get_embedder() if retrieval.query_vector is not None else None,
        passage_support=[item.support for item in retrieval.evidence],
        cross_language=[item.cross_language for item in retrieval.evidence],
    )


def _words(text: str) -> int:
    return len(text.split())


def select_answer(ranking: SentenceRanking) -> tuple[EvidenceSentence, ...]:
    """The sentences that answer, best first: the lead, the sentence it introduces when it ends with a
    colon, then others only while they add question terms the chosen ones lack."""
    lead = ranking.best
    if lead is None:
        return ()
    chosen = [lead]
    if lead.text.endswith(":"):
        follower = next((s for s in ranking.sentences if s.n == lead.n and s.position == lead.position + 1), None)
        if follower is not None:
            chosen.append(follower)
    covered = set().union(*(s.terms for s in chosen))
    total = sum(ranking.question_terms.values()) or 1.0
    words = sum(_words(s.text) for s in chosen)
    for sentence in ranking.sentences[1:]:
        if len(chosen) >= MAX_ANSWER_SENTENCES or sentence.score < EXTRA_MIN_RATIO * lead.score:
            break
        gain = sum(ranking.question_terms[t] for t in sentence.terms - covered) / total
        if sentence in chosen or gain < EXTRA_MIN_GAIN or words + _words(sentence.text) > MAX_ANSWER_WORDS:
            continue
        chosen.append(sentence)
        covered |= sentence.terms
        words += _words(sentence.text)
    return tuple(
        EvidenceSentence(n=s.n, text=s.text, score=s.score, title=s.title, location=s.location) for s in chosen
    )
