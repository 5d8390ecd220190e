"""Which language a text is in: documents at ingestion, questions at search time.

py3langid (langid.py's character n-gram model, 97 languages, numpy only, ~4 MB, loaded once in ~0.6 s,
~25 µs a question), restricted to the languages Faro analyses, decides between them even for keyword-only
questions ("nómina marzo") that have no function word; unrestricted, it recognises a long text in a third
language, which is then indexed without stemming rather than stemmed as Spanish or English.

Measured (``tests/ingestion/test_language.py``), share detected correctly, this model vs. the function-word
count it replaced: the 12 demo documents and their 60-word pieces (162 texts) 0.994 vs 0.981; 50
hand-written short questions 0.98 vs 0.86; the 585 English benchmark queries 1.000 vs 0.950. Adding the
function-word count as a second opinion did not help.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

SUPPORTED = ("es", "en")
# A long text is trusted to be in a third language only when the unrestricted model is this sure.
_OTHER_LANGUAGE_MIN_WORDS = 30
_OTHER_LANGUAGE_MIN_PROBABILITY = 0.95

_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)


@cache
def _identifiers() -> tuple[Any, Any]:
    """(unrestricted, restricted to SUPPORTED) py3langid identifiers, loaded on first use."""
    import copy

    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    everything = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    restricted = copy.copy(everything)  # shares the model's arrays; set_languages rebinds, never mutates
    restricted.set_languages(list(SUPPORTED))
    return everything, restricted


def detect_language(text: str, default: str = "es") -> str:
    """ISO 639-1 code of the text's language: one of ``SUPPORTED``, or for a long text clearly in another
    language, that language. ``default`` when there is nothing to go on (no letters)."""
    words = _LETTERS.findall(text)
    if not words:
        return default
    everything, restricted = _identifiers()
    if len(words) >= _OTHER_LANGUAGE_MIN_WORDS:
        language, probability = everything.classify(text)
        if language not in SUPPORTED and probability >= _OTHER_LANGUAGE_MIN_PROBABILITY:
            return str(language)
    return str(restricted.classify(text)[0])


def _quotation(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(line.lstrip().startswith(">") for line in lines)


def detect_majority_language(texts: Sequence[str], default: str = "es") -> str:
    """The language most of the words of ``texts`` (a document's blocks) are in: each text is detected on
    its own and votes with its word count, so an opening quotation or an English heading does not decide
    for a Spanish page. Quotations (Markdown ``>`` blocks) vote only when nothing else does."""
    votes: dict[str, int] = {}
    quoted: dict[str, int] = {}
    for text in texts:
        words = len(_LETTERS.findall(text))
        if words:
            tally = quoted if _quotation(text) else votes
            language = detect_language(text, default)
            tally[language] = tally.get(language, 0) + words
    tally = votes or quoted
    return max(tally, key=lambda language: tally[language]) if tally else default
