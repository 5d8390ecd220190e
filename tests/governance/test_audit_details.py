"""How an audit event's details read on the audit page (governance/templatetags/audit_details.py)."""

from __future__ import annotations

import json

from governance.templatetags.audit_details import audit_fields, audit_json


def test_details_read_as_labelled_fields() -> None:
    data = {"document_id": 4, "groups": ["hr", "sales"], "all_staff": False, "reason": "", "usage": {"a": 1}}
    assert audit_fields(data) == [
        ("document id", "4"),
        ("groups", "hr, sales"),
        ("all staff", "✗"),
        ("reason", "—"),
        ("usage", '{"a": 1}'),
    ]
    assert audit_fields({}) == []


def test_the_raw_json_is_kept_whole() -> None:
    data = {"título": "Política", "n": [1, 2]}
    assert json.loads(audit_json(data)) == data and "Política" in audit_json(data)
