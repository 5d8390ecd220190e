"""Text analysis for lexical search, shared by indexing and querying so both sides agree token for token.

A text is lower-cased and accent-folded (``Días`` and ``dias`` are one token), split into letters-and-digits
tokens, stripped of its language's stop words and reduced by that language's Snowball stemmer. Folding
comes *before* stemming so that a question typed without accents stems exactly like the accented text.
Languages without a stemmer here use the ``simple`` analysis (folding only).

Stemmer: PyStemmer (the Snowball project's own C bindings): ~10x faster than the pure-Python
``snowballstemmer`` and with a word cache, which matters when a 100k-chunk corpus is indexed.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache

import Stemmer

SIMPLE = "simple"
# Analysed languages, each with its own stemmer, stop words and FTS columns. Order is the column order.
LANGUAGES: tuple[str, ...] = ("es", "en")
ANALYSES: tuple[str, ...] = (*LANGUAGES, SIMPLE)
_STEMMER_NAMES = {"es": "spanish", "en": "english"}

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_COMBINING_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lower-case and strip diacritics (á->a, ñ->n, ü->u), as FTS5's ``remove_diacritics 2`` does."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", lowered))


def _words(text: str) -> set[str]:
    return {fold(word) for word in text.split()}


# Function words, folded: the Snowball lists for Spanish (trimmed of verb forms that can carry topic)
# and Lucene's English list plus the question words employees type.
STOP_WORDS: dict[str, frozenset[str]] = {
    "es": frozenset(
        _words(
            """
            a al algo algunas algunos ante antes como con contra cual cuales cuando de del desde donde durante e
            el ella ellas ello ellos en entre era eran es esa esas ese eso esos esta estas este esto estos fue
            fueron ha han hasta hay la las le les lo los me mi mis mucho muchos muy mas más nada ni no nos
            nosotros o os otra otras otro otros para pero poco por porque que qué quien quienes se sea sean ser
            si sí sin sobre son su sus también tanto te tengo tiene tienen ti tu tus tú un una uno unos unas y ya
            yo mí él cómo cuál cuáles cuándo dónde cuánto cuánta cuántos cuántas puedo puede debo debe hacer
            hago
            """
        )
    ),
    "en": frozenset(
        _words(
            """
            a an and are as at be but by for if in into is it no not of on or such that the their then there
            these they this to was will with what which who whom whose when where why how do does did can could
            i me my we our you your he she his her its them am been being have has had would should
            """
        )
    ),
    SIMPLE: frozenset(),
}


class _Stemmers(threading.local):
    """PyStemmer objects are not thread-safe: one set per thread."""

    def __init__(self) -> None:
        self.by_language = {language: Stemmer.Stemmer(name) for language, name in _STEMMER_NAMES.items()}


_stemmers = _Stemmers()


def analysis_for(language: str) -> str:
    """The analysis a document or query language gets: its own where we have a stemmer, else ``simple``."""
    return language if language in LANGUAGES else SIMPLE


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def analyze(text: str, analysis: str) -> list[str]:
    """Index-time analysis: folded tokens without stop words, stemmed. Keeps order and repeats (term frequency)."""
    stop_words = STOP_WORDS[analysis]
    tokens = [token for token in tokenize(text) if token not in stop_words]
    stemmer = _stemmers.by_language.get(analysis)
    return stemmer.stemWords(tokens) if stemmer is not None else tokens


def query_terms(text: str, *, query_language: str, analysis: str) -> list[str]:
    """Distinct query terms for the columns of one analysis: the query's own stop words go too (a Spanish
    ``de`` is noise in the English columns), then the target analysis is applied as at index time."""
    own = STOP_WORDS[analysis_for(query_language)]
    kept = " ".join(token for token in tokenize(text) if token not in own)
    return list(dict.fromkeys(analyze(kept, analysis)))


@cache
def signature() -> str:
    """Changes whenever analysis would index the same text differently; the embedded index rebuilds its
    full-text table when it does."""
    import hashlib

    material = repr((ANALYSES, sorted((k, sorted(v)) for k, v in STOP_WORDS.items()), Stemmer.algorithms()))
    return "v1-" + hashlib.sha256(material.encode()).hexdigest()[:12]
