"""Tuning runs: create, execute (train + evaluate), promote and roll back. Each state change is audited."""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.gates import require_role
from accounts.models import User
from accounts.roles import Role
from chatbot.llm.adapters import PromotedAdapter, adapter_id_for_run, promoted_adapter_write
from chatbot.rag.prompts import PROMPT_VERSION
from governance.audit import audit_record
from tuning.models import DatasetSnapshot, TuningRun
from tuning.train import Progress, TrainingParams, base_model_dir, train_lora

logger = logging.getLogger(__name__)

# The two files of a PEFT LoRA adapter directory: what peft's save_pretrained writes and TGI's
# LORA_ADAPTERS loads.
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def adapters_dir() -> Path:
    return Path(settings.DATA_DIR) / "adapters"


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


@transaction.atomic
def tuning_run_create(
    *, snapshot_id: int, started_by: User | None, params: TrainingParams, queue: bool = False
) -> TuningRun:
    """Record a pending run on a snapshot (no snapshot, no training); ``queue`` sends it to the
    ``training`` Celery queue once the transaction commits."""
    if started_by is not None:
        require_role(started_by, Role.KNOWLEDGE_ADMIN)
    snapshot = DatasetSnapshot.objects.get(pk=snapshot_id)
    run = TuningRun.objects.create(
        snapshot=snapshot,
        base_model=str(settings.GENERATOR_MODEL),
        params=params.as_dict(),
        seed=params.seed,
        started_by=started_by,
    )
    audit_record(
        event_type="tuning.run_create",
        actor=started_by,
        object_type="tuning.tuningrun",
        object_id=run.pk,
        data={"snapshot": snapshot.pk, "content_hash": snapshot.content_hash, "params": run.params},
    )
    if queue:
        from tuning.tasks import TRAINING_QUEUE, tune_tone

        transaction.on_commit(lambda: tune_tone.apply_async((run.pk,), queue=TRAINING_QUEUE))
    return run


def tuning_run_execute(*, run_id: int, on_progress: Callable[[Progress], None] | None = None) -> TuningRun:
    """Train and evaluate a pending run; progress (step, loss) is stored on the run as it goes."""
    claimed = TuningRun.objects.filter(pk=run_id, status=TuningRun.Status.PENDING).update(
        status=TuningRun.Status.RUNNING
    )
    if not claimed:  # a second delivery of the same task, or a run already done
        raise ValidationError(f"tuning run {run_id} is not pending")
    run = TuningRun.objects.select_related("snapshot").get(pk=run_id)
    params = TrainingParams(**run.params)
    output = adapters_dir() / str(run.pk)

    def report(progress: Progress) -> None:
        TuningRun.objects.filter(pk=run_id).update(
            progress={"step": progress.step, "total_steps": progress.total_steps, "loss": progress.loss}
        )
        if on_progress is not None:
            on_progress(progress)

    try:
        result = train_lora(
            examples=run.snapshot.examples,
            model_dir=base_model_dir(),
            output_dir=output,
            params=params,
            on_progress=report,
        )
    except Exception as error:
        logger.exception("tuning run %s failed", run_id)
        TuningRun.objects.filter(pk=run_id).update(
            status=TuningRun.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        audit_record(
            event_type="tuning.run_fail",
            object_type="tuning.tuningrun",
            object_id=run_id,
            data={"error": str(error)[:500]},
        )
        raise
    loss_before, loss_after = _finite(result.loss_before), _finite(result.loss_after)
    tone_base, tone_adapter = _finite(result.tone_base), _finite(result.tone_adapter)
    grounding = {**result.grounding, "prompt_version": PROMPT_VERSION}
    # A run is held back when held-out loss, tone adherence or any grounding measure got worse.
    regressed = bool(
        (loss_before is not None and loss_after is not None and loss_after > loss_before)
        or (tone_base is not None and tone_adapter is not None and tone_adapter < tone_base)
        or grounding.get("regressions", ["not evaluated"])
    )
    metrics: dict[str, Any] = {
        "train_examples": result.train_examples,
        "heldout_examples": result.heldout_examples,
        "steps": result.steps,
        "train_seconds": result.train_seconds,
        "loss_before": loss_before,
        "loss_after": loss_after,
        "tone_base": tone_base,
        "tone_adapter": tone_adapter,
        "losses": result.losses,
        "samples": result.samples,
        "grounding": grounding,
        "regressed": regressed,
    }
    with transaction.atomic():
        TuningRun.objects.filter(pk=run_id).update(
            status=TuningRun.Status.SUCCEEDED, metrics=metrics, artifact_path=str(output), finished_at=timezone.now()
        )
        audit_record(
            event_type="tuning.run_finish",
            object_type="tuning.tuningrun",
            object_id=run_id,
            data={
                **{key: metrics[key] for key in ("loss_before", "loss_after", "tone_base", "tone_adapter")},
                "regressed": regressed,
                "grounding_regressions": grounding.get("regressions"),
            },
        )
    return TuningRun.objects.get(pk=run_id)


@transaction.atomic
def tuning_run_promote(*, run_id: int, actor: User) -> TuningRun:
    """Make a finished, non-regressing run the deployment's adapter, replacing the promoted one."""
    require_role(actor, Role.KNOWLEDGE_ADMIN)
    run = TuningRun.objects.select_for_update().get(pk=run_id)
    if run.status != TuningRun.Status.SUCCEEDED:
        raise ValidationError(f"tuning run {run_id} has not succeeded")
    if run.metrics.get("regressed", True):
        raise ValidationError(f"tuning run {run_id} regressed on its evaluation and cannot be promoted")
    grounding = run.metrics.get("grounding")
    if not isinstance(grounding, dict) or grounding.get("regressions") != []:
        # Runs evaluated before the grounding check existed cannot show that grounding did not get worse.
        raise ValidationError(f"tuning run {run_id} has no grounding evaluation without regressions")
    if run.promoted:
        _serve_after_commit(run)  # rewrites the registry, should it have been lost
        return run
    current = TuningRun.objects.select_for_update().filter(promoted=True).first()
    if current is not None:
        current.promoted = False
        current.save(update_fields=["promoted"])
    run.promoted = True
    run.promoted_by = actor
    run.promoted_at = timezone.now()
    run.replaced = current
    run.save(update_fields=["promoted", "promoted_by", "promoted_at", "replaced"])
    audit_record(
        event_type="tuning.promote",
        actor=actor,
        object_type="tuning.tuningrun",
        object_id=run.pk,
        data={"replaced": current.pk if current else None, "artifact": run.artifact_path},
    )
    _serve_after_commit(run)
    return run


@transaction.atomic
def tuning_run_rollback(*, actor: User) -> TuningRun | None:
    """Withdraw the promoted run and restore the one it replaced (or none: the base model answers)."""
    require_role(actor, Role.KNOWLEDGE_ADMIN)
    current = TuningRun.objects.select_for_update().filter(promoted=True).first()
    if current is None:
        raise ValidationError("no tuning run is promoted")
    current.promoted = False
    current.save(update_fields=["promoted"])
    previous = current.replaced
    if previous is not None:
        previous.promoted = True
        previous.save(update_fields=["promoted"])
    audit_record(
        event_type="tuning.rollback",
        actor=actor,
        object_type="tuning.tuningrun",
        object_id=current.pk,
        data={"restored": previous.pk if previous else None},
    )
    _serve_after_commit(previous)
    return previous


def _serve_after_commit(run: TuningRun | None) -> None:
    """Point the LLM clients at ``run``'s adapter (None: the base model) once the promotion is committed.

    The clients read a registry file (``chatbot.llm.adapters``) rather than this app's tables, because
    chatbot may not import tuning; the database stays the record, the file only follows it."""
    adapter = (
        None if run is None else PromotedAdapter(id=adapter_id_for_run(run.pk), run=run.pk, path=str(run.artifact_path))
    )
    transaction.on_commit(lambda: promoted_adapter_write(adapter))


def tuning_run_export(*, run_id: int, directory: Path, actor: User | None) -> Path:
    """Copy a finished run's adapter to ``directory`` as a PEFT adapter directory (the files TGI loads
    through ``LORA_ADAPTERS``), replacing both files in one rename each; audited."""
    if actor is not None:
        require_role(actor, Role.KNOWLEDGE_ADMIN)
    run = TuningRun.objects.get(pk=run_id)
    if run.status != TuningRun.Status.SUCCEEDED or not run.artifact_path:
        raise ValidationError(f"tuning run {run_id} has no adapter to export")
    source = Path(run.artifact_path)
    missing = [name for name in ADAPTER_FILES if not (source / name).is_file()]
    if missing:
        raise ValidationError(f"tuning run {run_id}'s adapter lacks {', '.join(missing)} in {source}")
    config = json.loads((source / "adapter_config.json").read_text(encoding="utf-8"))
    if config.get("peft_type") != "LORA":
        raise ValidationError(f"tuning run {run_id}'s adapter is not a LoRA adapter")
    directory.mkdir(parents=True, exist_ok=True)
    for name in ADAPTER_FILES:
        partial = directory / f".{name}.partial"
        shutil.copyfile(source / name, partial)
        partial.replace(directory / name)
    audit_record(
        event_type="tuning.export",
        actor=actor,
        object_type="tuning.tuningrun",
        object_id=run.pk,
        data={"directory": str(directory), "adapter": adapter_id_for_run(run.pk)},
    )
    return directory
