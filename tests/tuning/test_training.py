"""A real, tiny LoRA run on the packaged SmolLM2-135M: command -> service -> peft, adapter on disk, metrics.

Seeded determinism (same seed, same losses) held when this test also ran a second, identical run, but
that doubled its time on a shared 2-core machine, so it is not repeated here; ``split_examples`` is unit-tested.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tuning.dataset import snapshot_create
from tuning.models import TuningRun

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
PARAMS = ["--max-steps", "2", "--batch-size", "2", "--eval-tokens", "4", "--lr", "0.005", "--seed", "7"]
GROUNDING = ["--grounding-questions", "2", "--grounding-tokens", "8"]


@pytest.mark.slow
def test_tiny_lora_run_trains_saves_and_evaluates(dana, data_dir):
    snapshot = snapshot_create(approved_by=dana, examples=EXAMPLES)  # the base model's own chat template
    assert "<|im_start|>" in snapshot.chat_template

    out = io.StringIO()
    call_command("tune_tone", "--dataset", str(snapshot.pk), "--actor", "dana", *PARAMS, *GROUNDING, stdout=out)
    run = TuningRun.objects.get()
    assert "step 1/2" in out.getvalue() and "step 2/2" in out.getvalue()

    assert run.status == TuningRun.Status.SUCCEEDED
    assert run.started_by == dana
    assert run.progress["step"] == 2 and run.progress["total_steps"] == 2
    adapter = Path(run.artifact_path)
    assert adapter == data_dir / "adapters" / str(run.pk)
    assert (adapter / "adapter_model.safetensors").stat().st_size > 0
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["r"] == 8 and config["peft_type"] == "LORA"

    metrics = run.metrics
    assert (metrics["train_examples"], metrics["heldout_examples"], metrics["steps"]) == (6, 2, 2)
    assert len(metrics["losses"]) == 2
    assert metrics["loss_after"] < metrics["loss_before"]  # the answers' shared greeting and sign-off
    assert 0.0 <= metrics["tone_base"] <= 1.0 and 0.0 <= metrics["tone_adapter"] <= 1.0
    assert len(metrics["samples"]) == 2 and {"base", "adapter"} <= set(metrics["samples"][0])
    grounding = metrics["grounding"]
    assert grounding["questions"] == 2 and len(grounding["samples"]) == 2
    for scores in (grounding["base"], grounding["adapter"]):
        assert set(scores) == {"citation_rate", "refusal_correct", "language_match"}
        assert all(0.0 <= value <= 1.0 for value in scores.values())
    assert all(sample["base"] and sample["adapter"] for sample in grounding["samples"])
    assert set(grounding["regressions"]) <= {"citation_rate", "refusal_correct", "language_match"}
