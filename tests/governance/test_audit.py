from __future__ import annotations

import os

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from governance.audit import GENESIS, audit_record, audit_verify
from governance.models import AuditEvent

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
