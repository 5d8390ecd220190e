"""The gaps report: questions the documents did not answer (refused, low confidence or 👎) over a period,
grouped by topic (gaps/clustering.py), with counts, a trend, the documents retrieval came closest with,
pseudonymised examples, and the marks of groups already handled."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.safestring import SafeString

from chatbot.models import Feedback, Message
from evaluation.charts import Point, line_chart
from gaps.clustering import cluster_questions, distance_threshold, normalise
from gaps.models import HandledGap
from governance.privacy import pseudonymised_texts
from ingestion.embed import Embedder, get_embedder
from ingestion.models import Document

PERIODS = (7, 30, 90, 365)  # days the page offers
EXAMPLES = 5
CLOSEST_DOCUMENTS = 3
# A group is the topic of a handled mark when it holds an answer the mark covered, or when its centroid is
# this close (cosine) to the mark's examples' centroid.
MARK_SIMILARITY = 0.8
# A handled topic is flagged as coming back once this many of its questions were asked after the mark.
RETURNING_AFTER_MARK = 2
# Question vectors are cached by the question's digest and the embedder's name, so a view of the page costs
# the clustering, not an embedding of every question again. They expire with the conversations' usual age.
VECTOR_CACHE_SECONDS = 60 * 60 * 24 * 30


@dataclass(frozen=True)
class GapQuestion:
    message_id: int  # the answer that fell short
    question: str  # pseudonymised when a pseudonym key is configured
    asked_at: datetime
    refused: bool
    low_confidence: bool
    thumbs_down: bool
    document_ids: tuple[int, ...]  # what retrieval found for it, best first

    @property
    def reasons(self) -> list[str]:
        return [
            name
            for name, present in (
                ("refused", self.refused),
                ("low confidence", self.low_confidence),
                ("thumbs down", self.thumbs_down),
            )
            if present
        ]


@dataclass
class GapGroup:
    key: str  # the answer ids of the group, sorted and joined: what "mark as handled" posts back
    label: str
    terms: tuple[str, ...]
    questions: list[GapQuestion]
    centroid: np.ndarray
    closest_documents: list[tuple[int, str, int]] = field(default_factory=list)  # id, title, times found
    trend: SafeString | None = None
    mark: HandledGap | None = None
    after_mark: int = 0  # questions asked after the mark

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def examples(self) -> list[GapQuestion]:
        return self.questions[:EXAMPLES]

    @property
    def returning(self) -> bool:
        return self.mark is not None and self.after_mark >= RETURNING_AFTER_MARK

    @property
    def handled(self) -> bool:
        return self.mark is not None and not self.returning

    def reason_counts(self) -> dict[str, int]:
        return dict(Counter(reason for q in self.questions for reason in q.reasons))


@dataclass
class GapReport:
    since: datetime
    until: datetime
    days: int
    groups: list[GapGroup]
    trend: SafeString | None

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def open_groups(self) -> list[GapGroup]:
        return [group for group in self.groups if not group.handled]

    @property
    def handled_groups(self) -> list[GapGroup]:
        return [group for group in self.groups if group.handled]


def gap_questions(
    *, since: datetime | None = None, until: datetime | None = None, message_ids: list[int] | None = None
) -> list[GapQuestion]:
    """Answers in [since, until) (or among ``message_ids``) that were refused, of low confidence or rated
    👎, with the question each answered (the user's message before it), oldest first; question texts
    pseudonymised together."""
    question = (
        Message.objects.filter(
            conversation=OuterRef("conversation"), role=Message.Role.USER, created_at__lte=OuterRef("created_at")
        )
        .order_by("-created_at", "-id")
        .values("content")[:1]
    )
    thumbs_down = Exists(Feedback.objects.filter(message=OuterRef("pk"), rating=Feedback.Rating.DOWN))
    answers = Message.objects.filter(role=Message.Role.ASSISTANT)
    if since is not None:
        answers = answers.filter(created_at__gte=since)
    if until is not None:
        answers = answers.filter(created_at__lt=until)
    if message_ids is not None:
        answers = answers.filter(pk__in=message_ids)
    rows = list(
        answers.annotate(question=Subquery(question), thumbs_down=thumbs_down)
        .filter(Q(refused=True) | Q(confidence=Message.Confidence.LOW) | Q(thumbs_down=True))
        .exclude(question=None)
        .order_by("created_at", "id")
        .values("id", "question", "created_at", "refused", "confidence", "thumbs_down", "retrieval")
    )
    texts = [row["question"] for row in rows]
    shown = (pseudonymised_texts(*texts) if texts else None) or texts
    return [
        GapQuestion(
            message_id=row["id"],
            question=text,
            asked_at=row["created_at"],
            refused=row["refused"],
            low_confidence=row["confidence"] == Message.Confidence.LOW,
            thumbs_down=row["thumbs_down"],
            document_ids=tuple(dict.fromkeys(int(hit["document_id"]) for hit in row["retrieval"] or [])),
        )
        for row, text in zip(rows, shown, strict=True)
    ]


def _buckets(since: datetime, until: datetime, days: int) -> list[datetime]:
    width = timedelta(days=1 if days <= 31 else 7)
    starts = []
    start = since
    while start < until:
        starts.append(start)
        start += width
    return starts


def _trend(questions: list[GapQuestion], starts: list[datetime], *, title: str) -> SafeString:
    counts = [0] * len(starts)
    for question in questions:
        index = max(i for i, start in enumerate(starts) if start <= question.asked_at)
        counts[index] += 1
    points = [Point(label=f"{start:%Y-%m-%d}: {n}", value=float(n)) for start, n in zip(starts, counts, strict=True)]
    return line_chart(points, title=title, fixed_unit_range=False)


def _closest_documents(questions: list[GapQuestion]) -> list[tuple[int, str, int]]:
    found = Counter(document_id for q in questions for document_id in q.document_ids[:CLOSEST_DOCUMENTS])
    titles = dict(Document.objects.filter(pk__in=found).values_list("pk", "title"))
    return [(pk, titles[pk], n) for pk, n in found.most_common() if pk in titles][:CLOSEST_DOCUMENTS]


def _vector_key(model: str, text: str) -> str:
    model_digest = hashlib.sha256(model.encode()).hexdigest()[:16]
    return f"gaps:question-vector:{model_digest}:{hashlib.sha256(text.encode()).hexdigest()}"


def embed_questions(texts: list[str], embedder: Embedder | None = None) -> np.ndarray:
    """The questions' normalised vectors; only those not already cached for this embedder are embedded."""
    embedder = embedder or get_embedder()
    keys = [_vector_key(embedder.name, text) for text in texts]
    cached = cache.get_many(keys)
    vectors: dict[str, np.ndarray] = {
        key: np.frombuffer(value, dtype=np.float32)
        for key, value in cached.items()
        if isinstance(value, bytes) and len(value) == 4 * embedder.dimension
    }
    missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in vectors}
    if missing:
        fresh = normalise(np.asarray(embedder.embed(list(missing.values())), dtype=np.float32))
        new = dict(zip(missing, fresh, strict=True))
        cache.set_many({key: vector.tobytes() for key, vector in new.items()}, timeout=VECTOR_CACHE_SECONDS)
        vectors.update(new)
    if not keys:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.stack([vectors[key] for key in keys])


def _attach_marks(groups: list[GapGroup], embedder: Embedder) -> None:
    """Give each group the latest handled mark of its topic, and count its questions since that mark."""
    marks = list(HandledGap.objects.all())
    if not marks or not groups:
        return
    centroids = {mark.pk: embed_questions(mark.examples, embedder).mean(axis=0) for mark in marks if mark.examples}
    for group in groups:
        ids = {q.message_id for q in group.questions}
        for mark in marks:  # newest first
            same_answers = bool(ids & set(mark.message_ids))
            centroid = centroids.get(mark.pk)
            similar = (
                centroid is not None and float(normalise(centroid[None, :])[0] @ group.centroid) >= MARK_SIMILARITY
            )
            if same_answers or similar:
                group.mark = mark
                group.after_mark = sum(1 for q in group.questions if q.asked_at > mark.handled_at)
                break


def gap_report(
    *, days: int, now: datetime | None = None, embedder: Embedder | None = None, threshold: float | None = None
) -> GapReport:
    """The report over the ``days`` before ``now``; by default with the configured embedder and its cut."""
    embedder = embedder or get_embedder()
    threshold = threshold if threshold is not None else distance_threshold(settings.EMBEDDING_MODEL)
    until = now or timezone.now()
    since = until - timedelta(days=days)
    questions = gap_questions(since=since, until=until)
    starts = _buckets(since, until, days)
    groups: list[GapGroup] = []
    if questions:
        texts = [q.question for q in questions]
        for cluster in cluster_questions(texts, embed_questions(texts, embedder), threshold=threshold):
            members = [questions[i] for i in cluster.members]
            groups.append(
                GapGroup(
                    key=",".join(str(m) for m in sorted(q.message_id for q in members)),
                    label=members[0].question,
                    terms=cluster.terms,
                    questions=members,
                    centroid=cluster.centroid,
                    closest_documents=_closest_documents(members),
                    trend=_trend(members, starts, title=members[0].question),
                )
            )
        _attach_marks(groups, embedder)
    trend = _trend(questions, starts, title="Unanswered questions") if questions else None
    return GapReport(since=since, until=until, days=days, groups=groups, trend=trend)
