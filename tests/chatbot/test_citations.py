"""The citation check: markers must name a provided source; sentences must be supported by what they cite."""

from __future__ import annotations

from chatbot.llm import Passage
from chatbot.rag.citations import check_citations, clean_citations, strip_citations

VACATION = Passage(
    1,
    "Política de vacaciones",
    "3. Días de vacaciones",
    "Toda persona empleada disfruta de 23 días laborables de vacaciones al año.",
)
TELEWORK = Passage(
    2,
    "Política de teletrabajo",
    "3. Modalidad",
    "Se puede teletrabajar hasta dos días por semana con acuerdo del responsable.",
)


def test_markers_naming_no_provided_source_are_removed():
    text, cited, removed = clean_citations("Tienes 23 días [1][7]. Y teletrabajo [2, 9] o [12] .", {1, 2})
    assert text == "Tienes 23 días [1]. Y teletrabajo [2] o."
    assert cited == [1, 2]
    assert removed == [7, 9, 12]


def test_lists_of_sources_become_one_marker_each_without_duplicates():
    text, cited, _ = clean_citations("Así es [2, 1; 2].", {1, 2})
    assert text == "Así es [2][1]."
    assert cited == [2, 1]


def test_a_sentence_is_supported_by_the_passage_it_cites():
    check = check_citations("Tienes 23 días laborables de vacaciones al año [1].", [VACATION, TELEWORK])
    assert check.unsupported == () and check.judged == 1 and check.supported_share == 1.0


def test_a_sentence_citing_the_wrong_passage_is_flagged():
    check = check_citations("Tienes 23 días laborables de vacaciones al año [2].", [VACATION, TELEWORK])
    assert check.unsupported == ("Tienes 23 días laborables de vacaciones al año [2].",)
    assert check.supported_share == 0.0


def test_an_invented_sentence_is_flagged_and_short_ones_are_not_judged():
    answer = (
        "¡Hola! Tienes 23 días laborables de vacaciones [1]. Además la empresa regala un coche eléctrico cada navidad."
    )
    check = check_citations(answer, [VACATION, TELEWORK])
    assert check.judged == 2
    assert check.unsupported == ("Además la empresa regala un coche eléctrico cada navidad.",)
    assert check.supported_share == 0.5


def test_uncited_sentences_are_checked_against_the_cited_passages_or_all_of_them():
    assert check_citations("Puedes teletrabajar dos días por semana.", [VACATION, TELEWORK]).unsupported == ()
    cited_vacation_only = check_citations(
        "Tienes 23 días laborables [1]. Puedes teletrabajar dos días por semana.", [VACATION, TELEWORK]
    )
    assert cited_vacation_only.unsupported == ("Puedes teletrabajar dos días por semana.",)


def test_nothing_to_judge_counts_as_fully_supported():
    assert check_citations("Vale.", [VACATION]).supported_share == 1.0


def test_strip_citations_removes_every_marker_and_the_spaces_before_it():
    assert strip_citations("Tienes 23 días [1]. Y más [2, 3]\nfin [ 4 ;5 ]") == "Tienes 23 días. Y más\nfin"
