from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import secrets
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from pythonjsonlogger.json import JsonFormatter

from governance.audit import GENESIS, audit_record, audit_verify, event_hash, legacy_event_hash
from governance.checkpoints import audit_checkpoint, checkpoint_read
from governance.models import AuditEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_events_chain_and_verify(dana):
    first = audit_record(event_type="document.upload", actor=dana, object_type="document", object_id=1)
    second = audit_record(event_type="document.delete", actor=dana, object_type="document", object_id=1)
    assert AuditEvent.objects.order_by("id").first().previous_hash == GENESIS  # type: ignore[union-attr]
    assert second.previous_hash == first.hash
    assert (second.actor_id, second.actor_username) == (dana.pk, "dana")
    assert list(audit_verify()) == []
    call_command("audit_verify")


def test_an_event_rolls_back_with_the_action_it_describes(dana):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(event_type="document.upload", actor=dana)
        raise RuntimeError("the upload failed")
    assert not AuditEvent.objects.filter(event_type="document.upload").exists()


def _tamper(sql: str, params: list[str | int]) -> None:
    """Change a row behind the application's back (on PostgreSQL the trigger must be disabled to do so)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER governance_audit_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE governance_auditevent ENABLE TRIGGER governance_audit_append_only")


def test_verify_detects_a_modified_and_a_deleted_row(dana):
    events = [audit_record(event_type="chat.turn", actor=dana, data={"n": n}) for n in range(4)]
    _tamper("UPDATE governance_auditevent SET data = %s WHERE id = %s", ['{"n": 99}', events[1].pk])
    assert [b.event_id for b in audit_verify()] == [events[1].pk]
    _tamper("DELETE FROM governance_auditevent WHERE id = %s", [events[2].pk])
    breaks = list(audit_verify())
    assert {b.event_id for b in breaks} == {events[1].pk, events[3].pk}  # the changed row, the one after the gap
    with pytest.raises(CommandError, match="broken at 2 place"):
        call_command("audit_verify")


def test_postgresql_rejects_update_and_delete_of_audit_rows(dana):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only (make test-production runs this)")
    assert os.environ.get("DATABASE_URL", "").startswith("postgres")
    event = audit_record(event_type="login", actor=dana)
    for statement in (
        "UPDATE governance_auditevent SET event_type = 'x' WHERE id = %s",
        "DELETE FROM governance_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(event_type="x")


# --- Keyed chain and checkpoints (governance/checkpoints.py) ------------------------------------------------


def _events(dana, n: int) -> list[AuditEvent]:
    return [audit_record(event_type="chat.turn", actor=dana, data={"n": i}) for i in range(n)]


def _rehash_from(first: AuditEvent, hasher) -> None:
    """What someone with write access to the database does to hide a change: re-hash every later row."""
    before = AuditEvent.objects.filter(id__lt=first.pk).order_by("-id").first()
    previous = before.hash if before else GENESIS
    for row in AuditEvent.objects.filter(id__gte=first.pk).order_by("id"):
        row.previous_hash = previous
        row.hash = previous = hasher(row)
        _tamper(
            "UPDATE governance_auditevent SET previous_hash = %s, hash = %s WHERE id = %s",
            [row.previous_hash, row.hash, row.pk],
        )


def _reasons() -> list[str]:
    return [item.reason for item in audit_verify()]


def test_deleting_the_newest_events_is_caught_by_the_checkpoint(dana):
    events = _events(dana, 5)
    total = audit_checkpoint().count
    assert list(audit_verify()) == []
    _tamper("DELETE FROM governance_auditevent WHERE id >= %s", [events[3].pk])
    (only,) = audit_verify()  # the chain left is intact: only the anchor outside the database knows
    assert only.event_id == events[4].pk
    assert "deleted from the tail" in only.reason and f"anchors {total} events" in only.reason
    with pytest.raises(CommandError, match="broken at 1 place"):
        call_command("audit_verify")


def test_a_rewritten_and_rehashed_middle_does_not_verify_without_the_key(dana):
    events = _events(dana, 6)
    audit_checkpoint()
    _tamper("UPDATE governance_auditevent SET data = %s WHERE id = %s", ['{"n": 99}', events[2].pk])
    _rehash_from(events[2], legacy_event_hash)  # the old unkeyed hash: anyone can compute it
    reasons = _reasons()
    assert reasons.count("content does not match its hash (modified row)") == 4
    assert any("rewritten and re-hashed" in reason for reason in reasons)
    _rehash_from(events[2], lambda row: event_hash(row, key="a guessed key, not the deployment's"))
    assert "content does not match its hash (modified row)" in _reasons()


def test_a_chain_rehashed_with_the_key_is_caught_by_the_checkpoint(dana):
    events = _events(dana, 6)
    audit_checkpoint()
    _tamper("DELETE FROM governance_auditevent WHERE id = %s", [events[1].pk])
    _rehash_from(events[1], event_hash)  # a holder of the key, but not of the checkpoints
    (only,) = audit_verify()
    assert only.event_id == events[5].pk and "rewritten and re-hashed" in only.reason


def test_checkpoints_are_signed_logged_and_read_back_from_a_json_log_export(dana, tmp_path, caplog):
    events = _events(dana, 3)
    with caplog.at_level(logging.INFO, logger="governance.audit"):
        call_command("audit_checkpoint")
    (record,) = [r for r in caplog.records if hasattr(r, "audit_checkpoint")]
    export = tmp_path / "faro-logs.jsonl"
    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    export.write_text("not json\n" + formatter.format(record) + "\n", encoding="utf-8")
    checkpoints = checkpoint_read(export)
    assert [(c.count, c.last_id, c.head) for c in checkpoints] == [
        (AuditEvent.objects.count(), events[2].pk, events[2].hash)
    ]

    settings_file = Path(settings.AUDIT_CHECKPOINT_FILE)
    forged = json.loads(settings_file.read_text()) | {"last_id": events[1].pk, "head": events[1].hash}
    settings_file.write_text(json.dumps(forged) + "\n")
    assert [r for r in _reasons() if "forged" in r], "a checkpoint edited to match a shorter trail"

    _tamper("DELETE FROM governance_auditevent WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError):
        call_command("audit_verify", checkpoints=[export])


def test_a_checkpoint_is_written_every_n_events_after_commit(dana, settings, django_capture_on_commit_callbacks):
    settings.AUDIT_CHECKPOINT_EVERY = 2
    with django_capture_on_commit_callbacks(execute=True):
        events = _events(dana, 5)
    checkpoints = checkpoint_read(settings.AUDIT_CHECKPOINT_FILE)
    # One checkpoint per even id among the five (2 or 3 of them, by the first id's parity). Each is written
    # after the commit, so it anchors the head as it then stands: here all five events.
    assert len(checkpoints) == sum(event.pk % 2 == 0 for event in events) and len(checkpoints) in (2, 3)
    assert all(c.last_id == events[-1].pk for c in checkpoints)
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert f"anchored by the checkpoint of {checkpoints[-1].created_at} up to event {events[-1].pk}" in out.getvalue()


def test_beat_writes_checkpoints():
    from config.celery import app
    from governance.tasks import audit_checkpoint as task

    schedule = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert schedule["task"] == task.name and task.name in app.tasks
    assert schedule["schedule"] == 60 * settings.AUDIT_CHECKPOINT_MINUTES
    assert task() == AuditEvent.objects.order_by("id").last().pk  # type: ignore[union-attr]
    assert checkpoint_read(settings.AUDIT_CHECKPOINT_FILE)[0].count == AuditEvent.objects.count()


# --- Re-sealing a trail written by an earlier, unkeyed version (governance/reseal.py) -----------------------


def _legacy_events(n: int) -> list[AuditEvent]:
    """Rows as earlier versions wrote them: unkeyed chain, unkeyed digest of the original text."""
    previous, rows = GENESIS, []
    for i in range(n):
        row = AuditEvent(
            created_at=timezone.now(),
            event_type="chat.feedback",
            data={"rating": 1, "comment": f"<PERSON_{i:010x}>", "comment_sha256": hashlib.sha256(b"x").hexdigest()},
            previous_hash=previous,
        )
        row.hash = previous = legacy_event_hash(row)
        row.save(force_insert=True)
        rows.append(row)
    return rows


def test_reseal_keys_a_legacy_chain_once_and_drops_its_unkeyed_digests(django_capture_on_commit_callbacks):
    _tamper("DELETE FROM governance_auditevent", [])  # before an upgrade every row is unkeyed
    legacy = _legacy_events(4)
    dana = make_user("dana")
    after_upgrade = audit_record(event_type="auth.login", actor=dana)
    audit_checkpoint()
    breaks = list(audit_verify())
    assert [b.event_id for b in breaks] == [row.pk for row in legacy] and all(b.legacy for b in breaks)
    with pytest.raises(CommandError, match="broken at 4 place"):
        call_command("audit_verify")

    total = AuditEvent.objects.count()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("audit_reseal", actor="dana", stdout=out)
    assert f"re-sealed {total} events (4 unkeyed), removed 4 unkeyed text digests" in out.getvalue()
    assert list(audit_verify()) == []  # the checkpoint before the re-seal still holds its count
    assert not AuditEvent.objects.filter(data__has_key="comment_sha256").exists()
    event = AuditEvent.objects.get(event_type="audit.resealed")
    assert event.actor_username == "dana" and event.data["redacted_fields"] == ["comment_sha256"]
    assert AuditEvent.objects.get(pk=after_upgrade.pk).hash != after_upgrade.hash
    assert checkpoint_read(settings.AUDIT_CHECKPOINT_FILE)[-1].reseal == event.pk
    with pytest.raises(CommandError, match="nothing to re-seal"):
        call_command("audit_reseal")

    _tamper("DELETE FROM governance_auditevent WHERE id = %s", [legacy[1].pk])
    assert any(f"counted {total} events" in reason for reason in _reasons()), "old checkpoints keep their count"


def test_reseal_refuses_a_legacy_chain_that_does_not_verify():
    _tamper("DELETE FROM governance_auditevent", [])
    legacy = _legacy_events(3)
    _tamper("UPDATE governance_auditevent SET data = %s WHERE id = %s", ['{"rating": -1}', legacy[1].pk])
    with pytest.raises(CommandError, match="does not verify, nothing was changed"):
        call_command("audit_reseal")
    assert AuditEvent.objects.filter(data__has_key="comment_sha256").count() == 2


def test_a_new_audit_key_takes_a_reseal_with_the_previous_one(
    dana, settings, tmp_path, django_capture_on_commit_callbacks
):
    events = _events(dana, 3)
    audit_checkpoint()
    previous, settings.AUDIT_KEY = settings.AUDIT_KEY, secrets.token_hex(32)
    assert len(_reasons()) == AuditEvent.objects.count(), "every row is sealed with a key it no longer has"
    assert len(list(audit_verify(key=previous))) == 0

    (tmp_path / "previous").write_text(previous)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("audit_reseal", previous_key_file=tmp_path / "previous", stdout=out)
    assert "new key" in out.getvalue()
    assert list(audit_verify()) == [], "the old key's checkpoints are skipped, the new one's match"
    event = AuditEvent.objects.get(event_type="audit.resealed")
    assert event.data["rekeyed"] is True and event.data["previous_key_id"] != event.data["key_id"]
    _tamper("DELETE FROM governance_auditevent WHERE id >= %s", [events[2].pk])
    assert any("events deleted" in reason for reason in _reasons()), "the re-seal event went with the tail"


def test_a_reseal_with_a_wrong_previous_key_changes_nothing(dana, tmp_path):
    _events(dana, 2)
    (tmp_path / "previous").write_text(secrets.token_hex(32))
    with pytest.raises(CommandError, match="does not verify, nothing was changed"):
        call_command("audit_reseal", previous_key_file=tmp_path / "previous")
    assert list(audit_verify()) == []
