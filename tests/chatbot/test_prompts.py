"""The generator's prompt text (chatbot/rag/prompts.py)."""

from __future__ import annotations

from django.utils.translation import override

from chatbot.rag.prompts import REFUSAL, SYSTEM_PROMPT, build_messages


def test_the_system_prompt_asks_for_the_refusals_words():
    # The refusal speaks of the documents the person can read (issue 19); a generator told to say it "did not
    # find it in the documentation" would word its own refusals differently.
    assert "nothing in the documents they can read answers this" in SYSTEM_PROMPT
    with override("en"):
        assert "nothing in the documents you can read answers this" in str(REFUSAL).lower()
    assert "did not find" not in SYSTEM_PROMPT
    messages = build_messages(question="¿Cuántos días?", language="es", passages=(), history=[])
    assert messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
