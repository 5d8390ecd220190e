"""Small text helpers shared by the answer flow: content words, sentence split (Spanish and English).

They are deliberately simple and language-light so that the signals built on them (evidence, support,
query rewriting) behave the same whatever the search backend does.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"«(¿¡A-ZÁÉÍÓÚÑ0-9*-])|\n+")

# Function words (accents stripped) that carry no topic in Spanish and English questions and answers.
STOP_WORDS = frozenset(
    """
    a al algo algun alguna alguno ante como con contra cual cuales cuando cuanta cuantas cuanto cuantos de
    del desde donde dos el ella ellas ello ellos en entre era eres es esa esas ese eso esos esta estas este
    esto estos estoy fue ha han has hay la las le les lo los me mi mis mucho muy mas ni no nos o os otra
    otro para pero poco por porque puede puedo pueden que quien quienes se sea segun ser si sido sin sobre
    son soy su sus tal tambien te tengo tener tiene tienen ti todo todos tu tus un una uno unos unas usted y
    ya yo debo hacer hago cada estar he hemos nuestro nuestra vuestra
    an and any are as at be been but by can could do does did for from get got had has have how i if in
    into is it its me my no not of on or our out should so some than that the their them then there these
    they this those to too was we were what when where which who whom why will with would you your yours
    about also am just may might must much need over per please tell us
    """.split()
)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def stem(word: str) -> str:
    """A crude prefix stem: enough to match "vacaciones" with "vacación" or "policy" with "policies"."""
    return word[:5] if len(word) > 5 else word


def content_terms(text: str) -> set[str]:
    """Stemmed, accent-free, lower-case words of the text that are not function words."""
    words = _WORD.findall(strip_accents(text.lower()))
    return {stem(word) for word in words if word not in STOP_WORDS and (len(word) > 1 or word.isdigit())}


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of an answer, in order, without empty pieces."""
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece and piece.strip()]
