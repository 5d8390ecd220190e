"""Runs: creation on a snapshot, the training queue, promote and roll back (gated and audited)."""

from __future__ import annotations

import io
import json
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from chatbot.llm.adapters import promoted_adapter, registry_path
from governance.models import AuditEvent
from tuning.dataset import snapshot_create
from tuning.models import DatasetSnapshot, TuningRun
from tuning.selectors import promoted_run
from tuning.services import (
    tuning_run_create,
    tuning_run_execute,
    tuning_run_export,
    tuning_run_promote,
    tuning_run_rollback,
)
from tuning.tasks import tune_tone
from tuning.train import TrainingParams, TrainingResult, split_examples

SCORES = {"citation_rate": 0.5, "refusal_correct": 1.0, "language_match": 1.0}
GROUNDING = {"questions": 6, "base": SCORES, "adapter": SCORES, "regressions": []}
GOOD = {
    "loss_before": 3.0,
    "loss_after": 2.0,
    "tone_base": 0.5,
    "tone_adapter": 0.9,
    "grounding": GROUNDING,
    "regressed": False,
}


@pytest.fixture
def snapshot(dana) -> DatasetSnapshot:
    examples = [{"question": f"¿Pregunta {i}?", "answer": f"Hola:\n\nRespuesta {i}."} for i in range(4)]
    return snapshot_create(approved_by=dana, examples=examples, chat_template="{{ messages }}")


def finished_run(snapshot: DatasetSnapshot, **metrics: object) -> TuningRun:
    return TuningRun.objects.create(
        snapshot=snapshot, base_model="m", status=TuningRun.Status.SUCCEEDED, metrics={**GOOD, **metrics}
    )


def test_a_run_needs_a_snapshot(dana):
    with pytest.raises(DatasetSnapshot.DoesNotExist):
        tuning_run_create(snapshot_id=999, started_by=dana, params=TrainingParams())


def test_run_create_records_parameters_and_is_audited(snapshot, dana):
    run = tuning_run_create(snapshot_id=snapshot.pk, started_by=dana, params=TrainingParams(rank=4, seed=3))
    assert run.status == TuningRun.Status.PENDING
    assert run.params["rank"] == 4 and run.seed == 3
    assert AuditEvent.objects.filter(event_type="tuning.run_create", object_id=str(run.pk)).exists()


def test_employees_cannot_start_runs(snapshot, charlie):
    with pytest.raises(PermissionDenied):
        tuning_run_create(snapshot_id=snapshot.pk, started_by=charlie, params=TrainingParams())


def test_the_task_has_its_own_queue_and_is_sent_on_commit(snapshot, dana, django_capture_on_commit_callbacks):
    with mock.patch.object(tune_tone, "apply_async") as send, django_capture_on_commit_callbacks(execute=True):
        run = tuning_run_create(snapshot_id=snapshot.pk, started_by=dana, params=TrainingParams(), queue=True)
        send.assert_not_called()  # not before the run is committed
    send.assert_called_once_with((run.pk,), queue="training")


def test_only_pending_runs_execute(snapshot):
    run = finished_run(snapshot)
    with pytest.raises(ValidationError):
        tuning_run_execute(run_id=run.pk)


def test_promote_then_roll_back(snapshot, dana):
    first, second = finished_run(snapshot), finished_run(snapshot)
    tuning_run_promote(run_id=first.pk, actor=dana)
    tuning_run_promote(run_id=second.pk, actor=dana)
    assert promoted_run() == second
    second.refresh_from_db()
    assert second.promoted_by == dana and second.promoted_at is not None and second.replaced == first

    assert tuning_run_rollback(actor=dana) == first
    assert promoted_run() == first
    assert tuning_run_rollback(actor=dana) is None
    assert promoted_run() is None
    with pytest.raises(ValidationError):
        tuning_run_rollback(actor=dana)

    events = list(AuditEvent.objects.filter(event_type__in=["tuning.promote", "tuning.rollback"]).order_by("id"))
    assert [(e.event_type, e.object_id, e.actor_username) for e in events] == [
        ("tuning.promote", str(first.pk), "dana"),
        ("tuning.promote", str(second.pk), "dana"),
        ("tuning.rollback", str(second.pk), "dana"),
        ("tuning.rollback", str(first.pk), "dana"),
    ]
    assert events[1].data["replaced"] == first.pk


def test_promotion_is_for_knowledge_admins_and_administrators(snapshot, charlie, auditor):
    run = finished_run(snapshot)
    for user in (charlie, auditor):
        with pytest.raises(PermissionDenied):
            tuning_run_promote(run_id=run.pk, actor=user)
    from tests.conftest import make_user

    admin = make_user("root")
    admin.is_superuser = True
    admin.save()
    assert tuning_run_promote(run_id=run.pk, actor=admin).promoted


def test_unfinished_or_regressing_runs_cannot_be_promoted(snapshot, dana):
    pending = TuningRun.objects.create(snapshot=snapshot, base_model="m")
    worse = finished_run(snapshot, regressed=True)
    unchecked = finished_run(snapshot, grounding="not evaluated")  # evaluated before the grounding check
    ungrounded = finished_run(snapshot, grounding={**GROUNDING, "regressions": ["citation_rate"]})
    for run in (pending, worse, unchecked, ungrounded):
        with pytest.raises(ValidationError):
            tuning_run_promote(run_id=run.pk, actor=dana)
    assert promoted_run() is None
    assert not AuditEvent.objects.filter(event_type="tuning.promote").exists()


def test_split_is_seeded_and_always_holds_something_out():
    examples = [{"question": str(i), "answer": str(i)} for i in range(8)]
    assert split_examples(examples, seed=1, holdout_fraction=0.25) == split_examples(
        examples, seed=1, holdout_fraction=0.25
    )
    train, held = split_examples(examples, seed=1, holdout_fraction=0.25)
    assert len(train) == 6 and len(held) == 2
    assert split_examples(examples[:2], seed=0, holdout_fraction=0.01)[1] != []


def _result(**grounding: object) -> TrainingResult:
    return TrainingResult(
        train_examples=3,
        heldout_examples=1,
        steps=2,
        loss_before=3.0,
        loss_after=2.0,
        tone_base=0.5,
        tone_adapter=0.9,
        train_seconds=1.0,
        grounding={**GROUNDING, **grounding},
    )


@pytest.mark.parametrize(("regressions", "regressed"), [([], False), (["refusal_correct"], True)])
def test_a_run_whose_grounding_got_worse_is_marked_regressed(snapshot, dana, regressions, regressed):
    run = tuning_run_create(snapshot_id=snapshot.pk, started_by=dana, params=TrainingParams())
    # The training itself is a double here: this is the rule applied to its result (real runs: test_training).
    with mock.patch("tuning.services.train_lora", return_value=_result(regressions=regressions)):
        run = tuning_run_execute(run_id=run.pk)
    assert run.metrics["regressed"] is regressed
    assert run.metrics["grounding"]["regressions"] == regressions and run.metrics["grounding"]["prompt_version"]
    finish = AuditEvent.objects.get(event_type="tuning.run_finish", object_id=str(run.pk))
    assert finish.data["grounding_regressions"] == regressions
    if regressed:
        with pytest.raises(ValidationError):
            tuning_run_promote(run_id=run.pk, actor=dana)
    else:
        assert tuning_run_promote(run_id=run.pk, actor=dana).promoted


def test_promotion_and_rollback_tell_the_llm_clients_after_commit(
    snapshot, dana, data_dir, django_capture_on_commit_callbacks
):
    first, second = finished_run(snapshot), finished_run(snapshot)
    first.artifact_path, second.artifact_path = str(data_dir / "a1"), str(data_dir / "a2")
    TuningRun.objects.bulk_update([first, second], ["artifact_path"])
    assert promoted_adapter() is None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tuning_run_promote(run_id=first.pk, actor=dana)
        assert not registry_path().exists()  # nothing before the commit
    assert len(callbacks) == 1
    served = promoted_adapter()
    assert served is not None and (served.id, served.run, served.path) == (
        f"tone-run-{first.pk}",
        first.pk,
        first.artifact_path,
    )

    with django_capture_on_commit_callbacks(execute=True):
        tuning_run_promote(run_id=second.pk, actor=dana)
    assert promoted_adapter().id == f"tone-run-{second.pk}"  # type: ignore[union-attr]
    with django_capture_on_commit_callbacks(execute=True):
        tuning_run_rollback(actor=dana)
    assert promoted_adapter().id == f"tone-run-{first.pk}"  # type: ignore[union-attr]
    with django_capture_on_commit_callbacks(execute=True):
        tuning_run_rollback(actor=dana)
    assert promoted_adapter() is None and json.loads(registry_path().read_text()) is None


def test_export_writes_a_peft_adapter_directory_and_is_audited(snapshot, dana, data_dir):
    artifact = data_dir / "adapters" / "1"
    artifact.mkdir(parents=True)
    (artifact / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 8}))
    (artifact / "adapter_model.safetensors").write_bytes(b"weights")
    (artifact / "README.md").write_text("not exported")
    run = finished_run(snapshot)
    run.artifact_path = str(artifact)
    run.save()

    target = data_dir / "export" / f"tone-run-{run.pk}"
    out = io.StringIO()
    call_command("export_adapter", str(run.pk), str(target), "--actor", "dana", stdout=out)
    assert sorted(p.name for p in target.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    assert (target / "adapter_model.safetensors").read_bytes() == b"weights"
    assert f"tone-run-{run.pk}={target}" in out.getvalue()  # the LORA_ADAPTERS entry TGI needs
    event = AuditEvent.objects.get(event_type="tuning.export")
    assert event.actor_username == "dana" and event.data["adapter"] == f"tone-run-{run.pk}"

    (artifact / "adapter_model.safetensors").unlink()
    with pytest.raises(ValidationError):
        tuning_run_export(run_id=run.pk, directory=target, actor=dana)
    pending = TuningRun.objects.create(snapshot=snapshot, base_model="m")
    with pytest.raises(CommandError):
        call_command("export_adapter", str(pending.pk), str(target))
