"""How an audit event's ``data`` reads on the audit page: one labelled line per field, the JSON itself kept
behind a disclosure (``templates/governance/audit_log.html``)."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list) and all(not isinstance(item, dict | list) for item in value):
        return ", ".join(str(item) for item in value) or "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@register.filter
def audit_fields(data: Any) -> list[tuple[str, str]]:
    """``{"document_id": 4, "groups": ["hr", "sales"]}`` -> ``[("document id", "4"), ("groups", "hr, sales")]``."""
    if not isinstance(data, dict):
        return [("", _text(data))] if data not in (None, "", {}) else []
    return [(str(key).replace("_", " "), _text(value)) for key, value in data.items()]


@register.filter
def audit_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
