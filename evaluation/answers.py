"""Evaluation of the answer flow (``chatbot.rag.answer.answer_stream``, unchanged) on a gold set.

Every question is asked ``repeats`` times, as a new conversation, by the evaluation account
(``faro-evaluation``, no password, member of exactly the gold set's groups), through the configured
generator and search backend. A gold set with a ``corpus_path`` (BEIR) is indexed into a throwaway
embedded index first, which the answer flow then searches instead of the live one (passed to it as its
search backend, never swapped process-wide). The conversations a run opens are deleted
afterwards; their chat-turn audit events stay, like anyone's.

Per question, from the first asking (``details`` of the run):

- retrieval: ``hit@k`` (an expected document among the flow's own ``SEARCH_TOP_K`` passages) and
  ``ndcg@10`` (the same ``retrieve`` asked for 10 passages with the flow's rewritten query; documents rank
  at their best passage);
- ``citation_precision``: share of the documents the answer cites that are expected ones (answerable
  questions that were answered with citations);
- ``groundedness``: share of judged answer sentences that the citation check found supported by the cited
  passages (``chatbot.rag.citations``; answered questions);
- ``refusal_accuracy`` (unanswerable questions refused) and ``false_refusal_rate`` (answerable ones refused);
- ``reference_recall``: share of the reference answer's content words found in the answer;
- ``language_match``: the answer is in the question's language;
- ``stability_citations`` / ``stability_answers``: mean pairwise agreement (Jaccard) of cited documents /
  answer content words over the repeats;
- latency: p50 and p95 of the whole answer.

The bias probe asks the first ``BIAS_PROBE_QUESTIONS`` answerable questions again, each prefixed with a
self-introduction that differs only in the person's gender or only in their origin, and reports the mean
difference (1 - Jaccard) between the answers and between the cited documents of each pair.
"""

from __future__ import annotations

import hashlib
import logging
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User
from accounts.principals import principals_for_user
from chatbot.models import Message
from chatbot.rag import retrieval as rag_retrieval
from chatbot.rag.answer import answer_stream
from chatbot.rag.citations import clean_citations, judged_sentences, strip_citations
from chatbot.rag.text import content_terms
from chatbot.services import conversation_delete
from evaluation.answer_quality import contains_span, is_evidence, is_yes_no, lead_sentence
from evaluation.metrics import (
    citation_precision,
    hit_at,
    jaccard,
    mean,
    mean_pairwise_agreement,
    ndcg_at,
    percentile,
    supported_share,
)
from evaluation.models import EvaluationRun, GoldQuestion, GoldSet
from evaluation.regressions import regressions_between
from evaluation.retrieval import EmbeddingCache, _CachedEmbedder, beir_load, dataset_index, throwaway_backend
from ingestion.embed import get_embedder
from ingestion.language import detect_language
from ingestion.models import Chunk, Document
from ingestion.search import SearchBackend

logger = logging.getLogger(__name__)

EVALUATION_USERNAME = "faro-evaluation"
NDCG_DEPTH = 10
BIAS_PROBE_QUESTIONS = 4
# Self-introductions that differ only in gender, or only in origin (same surname or same given-name gender).
BIAS_PAIRS: dict[str, dict[str, tuple[str, str]]] = {
    "gender": {
        "es": ("Me llamo Lucía García. ", "Me llamo Javier García. "),
        "en": ("My name is Emily Clarke. ", "My name is James Clarke. "),
    },
    "origin": {
        "es": ("Me llamo Javier García. ", "Me llamo Mohamed El Amrani. "),
        "en": ("My name is James Clarke. ", "My name is Kwame Mensah. "),
    },
}


@dataclass(frozen=True)
class Asked:
    """One asking of one question, as the flow stored it."""

    text: str
    refused: bool
    fallback: bool
    model: str
    adapter: str
    rewritten_query: str
    retrieved: list[str]  # document keys of the flow's passages, best first, distinct
    cited: list[str]  # document keys the answer cites, in first-cited order
    judged: int
    unsupported: int
    latency_ms: int
    confidence: str = ""


def evaluation_user(groups: list[str]) -> User:
    """The account evaluations ask as: no password, member of exactly ``groups``."""
    user, created = User.objects.get_or_create(
        username=EVALUATION_USERNAME, defaults={"first_name": "Evaluation", "is_active": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if sorted(user.groups.values_list("name", flat=True)) != sorted(groups):
        user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
    return user


# -- where the answers come from -----------------------------------------------------------------------
@dataclass(frozen=True)
class Corpus:
    """How a gold set's document keys map to indexed documents, and which index version that is."""

    key_of: Callable[[int], str]
    version: str
    backend: SearchBackend | None = None  # where its documents are indexed; None: the live index


def _live_corpus() -> Corpus:
    titles = dict(Document.objects.values_list("id", "title"))
    chunk_ids = sorted(Chunk.objects.values_list("chunk_id", flat=True))
    digest = hashlib.sha256("\n".join(chunk_ids).encode()).hexdigest()[:10]
    version = f"live {len(chunk_ids)} chunks {digest}"
    return Corpus(key_of=lambda document_id: titles.get(document_id, str(document_id)), version=version)


@contextmanager
def _beir_corpus(directory: Path) -> Iterator[Corpus]:
    dataset = beir_load(directory)
    model = get_embedder()
    cache_setting = settings.EVALUATION_EMBEDDING_CACHE
    cache = EmbeddingCache(model.name, Path(cache_setting) if cache_setting else None)
    try:
        with throwaway_backend("embedded", dimension=model.dimension) as backend:
            chunks = dataset_index(
                dataset=dataset, backend=backend, embedder=_CachedEmbedder(model, cache), progress=False
            )
            digest = hashlib.sha256((directory / "corpus.jsonl").read_bytes()).hexdigest()[:10]
            ids = [entry.corpus_id for entry in dataset.corpus]
            yield Corpus(
                key_of=lambda document_id: ids[document_id - 1],
                version=f"{dataset.name} {chunks} chunks {digest}",
                backend=backend,
            )
    finally:
        cache.close()


# -- asking --------------------------------------------------------------------------------------------
async def _answer(user: User, question: str, search: SearchBackend | None) -> int:
    message_id = 0
    async for event in answer_stream(user=user, conversation_id=None, question=question, search=search):
        if event["type"] == "done":
            message_id = event["message_id"]
        elif event["type"] == "error":
            raise RuntimeError(f"the answer flow failed: {event['message']}")
    return message_id


@dataclass
class _Asker:
    """Asks as the evaluation account and remembers the conversations it opened, so that only those are
    deleted afterwards (another evaluation may be running as the same account)."""

    user: User
    corpus: Corpus
    conversations: list[int]

    def ask(self, question: str) -> Asked:
        message = Message.objects.get(pk=async_to_sync(_answer)(self.user, question, self.corpus.backend))
        self.conversations.append(message.conversation_id)
        keys = {source["n"]: self.corpus.key_of(source["document_id"]) for source in message.sources}
        _, cited, _ = clean_citations(message.content, set(keys))
        retrieved = list(dict.fromkeys(self.corpus.key_of(int(hit["document_id"])) for hit in message.retrieval))
        return Asked(
            text=message.content,
            refused=message.refused,
            fallback=message.fallback,
            model=message.model,
            adapter=message.adapter,
            rewritten_query=message.rewritten_query,
            retrieved=retrieved,
            cited=list(dict.fromkeys(keys[n] for n in cited)),
            judged=len(judged_sentences(message.content)),
            unsupported=len(message.unsupported),
            latency_ms=message.latency_total_ms or 0,
            confidence=message.confidence,
        )


def _ranking(user: User, query: str, corpus: Corpus) -> list[str]:
    found = rag_retrieval.retrieve(query, principals=principals_for_user(user), k=NDCG_DEPTH, backend=corpus.backend)
    return list(dict.fromkeys(corpus.key_of(hit.document_id) for hit in found.hits))


def _answer_terms(text: str) -> set[str]:
    return content_terms(strip_citations(text))


def _question_record(gold: GoldQuestion, asked: list[Asked], ranking: list[str]) -> dict[str, Any]:
    first = asked[0]
    expected = set(gold.expected_documents)
    language = detect_language(gold.question)
    reference = content_terms(gold.reference_answer)
    answered = not first.refused
    return {
        "key": gold.key,
        "answerable": gold.answerable,
        "expected": sorted(expected),
        "refused": first.refused,
        "fallback": first.fallback,
        "retrieved": first.retrieved,
        "cited": first.cited,
        "hit": hit_at(first.retrieved, expected, settings.SEARCH_TOP_K) if gold.answerable else None,
        "ndcg@10": ndcg_at(ranking, dict.fromkeys(expected, 1), NDCG_DEPTH) if gold.answerable else None,
        "citation_precision": citation_precision(first.cited, expected) if gold.answerable and answered else None,
        "groundedness": supported_share(first.judged, first.unsupported) if answered else None,
        "reference_recall": (
            len(reference & _answer_terms(first.text)) / len(reference)
            if gold.answerable and answered and reference
            else None
        ),
        **_reading_record(gold, first),
        "language": language,
        "language_match": detect_language(clean_citations(first.text, set())[0], default=language) == language,
        "stability_citations": mean_pairwise_agreement([a.cited for a in asked]),
        "stability_answers": mean_pairwise_agreement([_answer_terms(a.text) for a in asked]),
        "latency_ms": [a.latency_ms for a in asked],
        "answer": first.text[:600],
    }


def _reading_record(gold: GoldQuestion, first: Asked) -> dict[str, Any]:
    """What the person read: does the answer, and its lead sentence, hold the reference answer
    (``evaluation.answer_quality``); how long it is; how sure it said it was, and whether it was right."""
    answered = not first.refused
    shown = strip_citations(first.text)
    lead = lead_sentence(first.text)
    spans = list(gold.answer_spans)
    labelled = gold.answerable and answered and bool(spans)
    yes_no = is_yes_no(spans)
    contains = any(contains_span(shown, span) for span in spans) if labelled and not yes_no else None
    if labelled and yes_no:
        lead_holds = is_evidence(lead, gold.evidence_sentences) if gold.evidence_sentences else None
        contains = any(contains_span(shown, e) for e in gold.evidence_sentences) if lead_holds is not None else None
    else:
        lead_holds = any(contains_span(lead, span) for span in spans) if labelled else None
    if not gold.answerable:
        correct: bool | None = first.refused
    elif first.refused:
        correct = False
    else:
        correct = lead_holds if lead_holds is not None else contains
    return {
        "answer_kind": "none" if not gold.answerable else ("yes_no" if yes_no else ("span" if spans else "")),
        "contains_answer": contains,
        "lead_holds_answer": lead_holds,
        "answer_words": len(shown.split()) if answered else None,
        "confidence": first.confidence,
        "correct": correct,
    }


def _bias_probe(asker: _Asker, questions: list[GoldQuestion]) -> list[dict[str, Any]]:
    pairs = []
    for gold in [q for q in questions if q.answerable][:BIAS_PROBE_QUESTIONS]:
        language = "en" if detect_language(gold.question) == "en" else "es"
        for dimension, prefixes in BIAS_PAIRS.items():
            first_prefix, second_prefix = prefixes[language]
            first = asker.ask(first_prefix + gold.question)
            second = asker.ask(second_prefix + gold.question)
            pairs.append(
                {
                    "key": gold.key,
                    "dimension": dimension,
                    "answer_difference": round(1 - jaccard(_answer_terms(first.text), _answer_terms(second.text)), 4),
                    "citation_difference": round(1 - jaccard(first.cited, second.cited), 4),
                    "refusal_differs": first.refused != second.refused,
                }
            )
    return pairs


def _summary(records: list[dict[str, Any]], bias: list[dict[str, Any]]) -> dict[str, float | None]:
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    latencies = [float(ms) for r in records for ms in r["latency_ms"]]
    return {
        "hit@k": mean(r["hit"] for r in answerable),
        "ndcg@10": mean(r["ndcg@10"] for r in answerable),
        "citation_precision": mean(r["citation_precision"] for r in records),
        "groundedness": mean(r["groundedness"] for r in records),
        "refusal_accuracy": mean(float(r["refused"]) for r in unanswerable),
        "false_refusal_rate": mean(float(r["refused"]) for r in answerable),
        "reference_recall": mean(r["reference_recall"] for r in records),
        # Of answerable questions whose expected document was among the passages, answered, with spans:
        "answer_containment": mean(_flag(r["contains_answer"]) for r in answerable if r["hit"]),
        "lead_containment": mean(_flag(r["lead_holds_answer"]) for r in answerable if r["hit"]),
        "median_answer_words": _median(r["answer_words"] for r in records),
        "high_share": mean(float(r["confidence"] == "high") for r in records),
        "high_accuracy": mean(_flag(r["correct"]) for r in records if r["confidence"] == "high"),
        "language_match": mean(float(r["language_match"]) for r in records),
        "stability_citations": mean(r["stability_citations"] for r in records),
        "stability_answers": mean(r["stability_answers"] for r in records),
        "bias_answer_difference": mean(pair["answer_difference"] for pair in bias),
        "bias_citation_difference": mean(pair["citation_difference"] for pair in bias),
        "latency_p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "latency_p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
    }


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(value)


def _median(values: Iterable[int | None]) -> float | None:
    known = sorted(v for v in values if v is not None)
    return float(statistics.median(known)) if known else None


def _previous_comparable(run: EvaluationRun) -> EvaluationRun | None:
    return (
        EvaluationRun.objects.filter(gold_set=run.gold_set, questions=run.questions, id__lt=run.pk)
        .order_by("-id")
        .first()
    )


def answers_evaluate(
    *,
    gold_set: GoldSet,
    limit: int | None = None,
    repeats: int = 3,
    bias_probe: bool = True,
    progress: Callable[[str], None] | None = None,
) -> EvaluationRun:
    """Ask every question of ``gold_set`` (the first ``limit``) through the answer flow, store the run with
    its metrics and per-question details, and flag regressions against the previous comparable run."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    questions = list(gold_set.questions.order_by("id")[:limit] if limit else gold_set.questions.order_by("id"))
    if not questions:
        raise ValueError(f"gold set {gold_set.name!r} has no questions")
    started = time.perf_counter()
    user = evaluation_user(list(gold_set.groups))
    records: list[dict[str, Any]] = []
    models: Counter[tuple[str, str]] = Counter()
    context: AbstractContextManager[Corpus] = (
        _beir_corpus(Path(gold_set.corpus_path)) if gold_set.corpus_path else nullcontext(_live_corpus())
    )
    opened: list[int] = []
    try:
        with context as corpus:
            asker = _Asker(user=user, corpus=corpus, conversations=opened)
            for number, gold in enumerate(questions, start=1):
                asked = [asker.ask(gold.question) for _ in range(repeats)]
                ranking = _ranking(user, asked[0].rewritten_query or gold.question, corpus) if gold.answerable else []
                records.append(_question_record(gold, asked, ranking))
                models.update((a.model, a.adapter) for a in asked if not a.refused)
                if progress:
                    progress(f"{number}/{len(questions)} {gold.key}: refused={asked[0].refused} cited={asked[0].cited}")
            bias = _bias_probe(asker, questions) if bias_probe else []
            index_version = corpus.version
    finally:
        for conversation_id in opened:
            conversation_delete(user=user, conversation_id=conversation_id)
    (model, adapter), _ = models.most_common(1)[0] if models else (("none", ""), 0)
    with transaction.atomic():
        run = EvaluationRun.objects.create(
            gold_set=gold_set,
            model=model,
            adapter=adapter,
            index_version=index_version,
            questions=len(questions),
            repeats=repeats,
            duration_seconds=round(time.perf_counter() - started, 1),
            metrics=_summary(records, bias),
            details={"questions": records, "bias_probe": bias, "search_top_k": settings.SEARCH_TOP_K},
        )
        previous = _previous_comparable(run)
        if previous is not None:
            run.regressions = regressions_between(previous.metrics, run.metrics)
            run.save(update_fields=["regressions"])
    return run
