"""The issue's "done when", end to end on the packaged SmolLM2-135M: a tiny LoRA run on a handful of examples
(command -> service -> peft, adapter on disk), its evaluation (held-out loss, tone, grounding), promotion,
export for TGI, and a chat answer through the real answer flow with the ``local`` backend that records the
adapter's id; after a rollback the base model answers again in the same process. One test, because every
step of it loads or runs the model and the machine has two shared cores.

Seeded determinism (same seed, same losses) held when this test also ran a second, identical run, but
that doubled its time on a shared 2-core machine, so it is not repeated here; ``split_examples`` is unit-tested.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from chatbot.llm.local import LocalLLMClient
from chatbot.models import Message
from chatbot.rag.answer import answer_stream
from tuning.dataset import snapshot_create
from tuning.models import TuningRun
from tuning.services import tuning_run_export, tuning_run_promote, tuning_run_rollback

SIGN_OFF = "\n\nUn saludo,\nel equipo de Personas"
# Short on purpose: on a shared 2-core machine every token of a training step counts.
EXAMPLES = [
    {"question": q, "answer": f"Hola:\n\n{a}{SIGN_OFF}"}
    for q, a in [
        ("¿Vacaciones?", "Tienes 23 días."),
        ("¿Nómina?", "Cobras a fin de mes."),
        ("¿Teletrabajo?", "Pídelo en el portal."),
        ("¿Baja?", "Avisa a tu responsable."),
        ("¿Seguro médico?", "Sí, lo tienes."),
        ("¿Festivos?", "Míralos en el portal."),
        ("¿Formación?", "Propón un curso."),
        ("¿Horario?", "Pide el cambio."),
    ]
]
PARAMS = ["--max-steps", "2", "--batch-size", "2", "--rank", "2", "--eval-tokens", "4", "--lr", "0.005", "--seed", "7"]
GROUNDING = ["--grounding-questions", "1", "--grounding-tokens", "8"]  # each question: ~300 prompt tokens, twice


VACATION_QUESTION = "¿Cuántos días de vacaciones tengo al año?"


def ask(client: LocalLLMClient, user: Any) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        return dict(
            [e async for e in answer_stream(user=user, conversation_id=None, question=VACATION_QUESTION, llm=client)][
                -1
            ]
        )

    return asyncio.run(run())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the answer flow reaches the database from other threads
def test_a_tiny_run_trains_evaluates_is_promoted_and_answers_in_the_chat(policies, dana, charlie, settings, data_dir):
    snapshot = snapshot_create(approved_by=dana, examples=EXAMPLES)  # the base model's own chat template
    assert "<|im_start|>" in snapshot.chat_template

    out = io.StringIO()
    call_command("tune_tone", "--dataset", str(snapshot.pk), "--actor", "dana", *PARAMS, *GROUNDING, stdout=out)
    run = TuningRun.objects.get()
    assert (
        "step 1/2" in out.getvalue() and "step 2/2" in out.getvalue() and "grounding on 1 questions" in out.getvalue()
    )

    assert run.status == TuningRun.Status.SUCCEEDED
    assert run.started_by == dana
    assert run.progress["step"] == 2 and run.progress["total_steps"] == 2
    adapter = Path(run.artifact_path)
    assert adapter == data_dir / "adapters" / str(run.pk)
    assert (adapter / "adapter_model.safetensors").stat().st_size > 0
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["r"] == 2 and config["peft_type"] == "LORA"

    metrics = run.metrics
    assert (metrics["train_examples"], metrics["heldout_examples"], metrics["steps"]) == (6, 2, 2)
    assert len(metrics["losses"]) == 2
    assert metrics["loss_after"] < metrics["loss_before"]  # the answers' shared greeting and sign-off
    assert 0.0 <= metrics["tone_base"] <= 1.0 and 0.0 <= metrics["tone_adapter"] <= 1.0
    assert len(metrics["samples"]) == 2 and {"base", "adapter"} <= set(metrics["samples"][0])
    grounding = metrics["grounding"]
    assert grounding["questions"] == 1 and len(grounding["samples"]) == 1
    for scores in (grounding["base"], grounding["adapter"]):
        assert set(scores) == {"citation_rate", "refusal_correct", "language_match"}
        assert all(0.0 <= value <= 1.0 for value in scores.values())
    assert all(sample["base"] and sample["adapter"] for sample in grounding["samples"])
    assert metrics["regressed"] is False, metrics  # else it could not be promoted

    run = tuning_run_promote(run_id=run.pk, actor=dana)  # committed: the registry file is written
    adapter_id = f"tone-run-{run.pk}"
    from peft import PeftConfig  # here, not at the top: collecting the quick tests should not import torch

    exported = tuning_run_export(run_id=run.pk, directory=data_dir / "tgi" / adapter_id, actor=dana)
    exported_config = PeftConfig.from_pretrained(str(exported))  # what TGI reads from LORA_ADAPTERS' folder
    assert exported_config.peft_type == "LORA" and exported_config.r == 2

    # Prompt tokens cost most on CPU: short passages and answers keep the two chat answers cheap.
    settings.GENERATOR_MAX_NEW_TOKENS = 8
    settings.GENERATOR_CONTEXT_WORDS = 40
    client = LocalLLMClient.from_settings()
    done = ask(client, charlie)
    # The tuned model answered (eight tokens rarely make a sentence the grounding gate shows: then the
    # extractive answer stands in, and the answer still records the model and adapter that were asked).
    assert done["refused"] is False and done["fallback_reason"] in ("", "unsupported"), done
    assert done["adapter"] == adapter_id
    stored = Message.objects.get(pk=done["message_id"])
    assert (stored.adapter, stored.model) == (adapter_id, client.model_name) and stored.content.strip()
    assert client.active_adapter == adapter_id and set(client._model.peft_config) == {adapter_id}

    assert tuning_run_rollback(actor=dana) is None  # nothing was promoted before it: the base model again
    done = ask(client, charlie)
    assert done["fallback_reason"] in ("", "unsupported") and done["adapter"] == ""
    assert Message.objects.get(pk=done["message_id"]).adapter == ""
