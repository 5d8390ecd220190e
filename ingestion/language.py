"""Language guess for Spanish and English text by function-word counts (cheap, no model)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-záéíóúñü]+")
_SPANISH = frozenset(
    "el la los las de del y en que un una por para con no se su sus al es lo como más pero este esta "
    "cuando qué cómo cuántos cuántas cuál dónde tengo puedo mi mis hay ser son".split()
)
_ENGLISH = frozenset(
    "the of and to in is that for it with as on be by this are or an from at your you what how many "
    "which when where can do does my have has i".split()
)


def detect_language(text: str, default: str = "es") -> str:
    words = _WORD.findall(text.lower())
    spanish = sum(word in _SPANISH for word in words)
    english = sum(word in _ENGLISH for word in words)
    if spanish == english:
        return default
    return "es" if spanish > english else "en"
