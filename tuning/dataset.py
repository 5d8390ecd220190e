"""Dataset snapshots: the only thing training reads. Built from approved tone examples, pseudonymised first.

Personal data is replaced by keyed pseudonyms (``governance.pii``) before anything is stored, so the
snapshot, the adapter trained on it and any export never hold a raw name, e-mail or identifier. The same
key gives the same pseudonyms, so the content hash of a snapshot is stable for the same examples.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction

from accounts.gates import require_role
from accounts.models import User
from accounts.roles import Role
from chatbot.models import Feedback, Message
from chatbot.rag.citations import strip_citations
from governance.audit import audit_record
from governance.pii import pseudonymise_all
from tuning.models import DatasetSnapshot, ToneExample

ExampleInput = ToneExample | Mapping[str, str]


def pseudonym_key() -> bytes:
    key = settings.PSEUDONYM_KEY
    if not key:
        raise ImproperlyConfigured("PSEUDONYM_KEY (or PSEUDONYM_KEY_FILE) is required to build tuning datasets")
    return str(key).encode()


def directory_names() -> list[str]:
    """Names of the people in the user directory: full names, first names and last names."""
    names: set[str] = set()
    for first, last in User.objects.values_list("first_name", "last_name"):
        names.update(part for part in (first.strip(), last.strip(), f"{first} {last}".strip()) if part)
    return sorted(names)


def base_chat_template() -> str:
    """The chat template of the deployment's base generator (the converted packaged model by default)."""
    from tuning.train import base_model_dir

    directory = base_model_dir()
    template_file = directory / "chat_template.jinja"
    if template_file.is_file():
        return template_file.read_text(encoding="utf-8")
    config = json.loads((directory / "tokenizer_config.json").read_text(encoding="utf-8"))
    return str(config.get("chat_template") or "")


def content_hash(*, chat_template: str, examples: list[dict[str, str]]) -> str:
    payload = {"chat_template": chat_template, "examples": examples}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _as_pair(example: ExampleInput) -> tuple[str, str]:
    if isinstance(example, ToneExample):
        if not example.approved:
            raise ValidationError(f"tone example {example.pk} is not approved")
        return example.question, example.answer
    return str(example["question"]), str(example["answer"])


@transaction.atomic
def snapshot_create(
    *, approved_by: User, examples: Iterable[ExampleInput], chat_template: str | None = None
) -> DatasetSnapshot:
    """Pseudonymise ``examples``, store them as a snapshot with its PII report and hash, and audit it."""
    require_role(approved_by, Role.KNOWLEDGE_ADMIN)
    key = pseudonym_key()
    names = directory_names()
    replaced: Counter[str] = Counter()
    with_pii = 0
    stored: list[dict[str, str]] = []
    for example in examples:
        question, answer = _as_pair(example)
        if not question.strip() or not answer.strip():
            raise ValidationError("every example needs a question and an answer")
        # Together, so a person named in full in the question and by first name in the answer is one.
        clean_question, clean_answer = pseudonymise_all([question, answer], key=key, known_names=names)
        found = clean_question.replaced + clean_answer.replaced
        replaced.update(found)
        with_pii += bool(found)
        stored.append({"question": clean_question.text, "answer": clean_answer.text})
    if not stored:
        raise ValidationError("a dataset snapshot needs at least one example")
    template = base_chat_template() if chat_template is None else chat_template
    report = {"examples": len(stored), "examples_with_pii": with_pii, "replaced": dict(sorted(replaced.items()))}
    snapshot = DatasetSnapshot.objects.create(
        content_hash=content_hash(chat_template=template, examples=stored),
        chat_template=template,
        examples=stored,
        pii_report=report,
        approved_by=approved_by,
    )
    audit_record(
        event_type="tuning.snapshot",
        actor=approved_by,
        object_type="tuning.datasetsnapshot",
        object_id=snapshot.pk,
        data={"content_hash": snapshot.content_hash, "pii_report": report},
    )
    return snapshot


def examples_import(*, path: Path, author: User) -> list[ToneExample]:
    """Load approved tone examples from a JSON Lines file of {"question", "answer"} (the demo set)."""
    require_role(author, Role.KNOWLEDGE_ADMIN)
    created = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            created.append(
                ToneExample.objects.create(question=row["question"], answer=row["answer"], author=author, approved=True)
            )
    return created


@transaction.atomic
def tone_example_from_answer(
    *, feedback_id: int, actor: User, approve: bool, question: str | None = None, answer: str | None = None
) -> ToneExample:
    """Turn a 👍 chat answer into a tone example (the review queue): the question before it and the answer
    without citation markers, or the reviewer's edited text; approved now, or left for editing first."""
    require_role(actor, Role.KNOWLEDGE_ADMIN)
    feedback = Feedback.objects.select_related("message").get(pk=feedback_id)
    message = feedback.message
    if feedback.rating != Feedback.Rating.UP or message.role != Message.Role.ASSISTANT:
        raise ValidationError("only answers that got 👍 can become tone examples")
    if message.refused or message.fallback:
        raise ValidationError("refusals and quoted-passage fallbacks are not examples of tone")
    existing = ToneExample.objects.filter(source_message=message).first()
    if existing is not None:
        return existing
    asked = (
        Message.objects.filter(conversation_id=message.conversation_id, role=Message.Role.USER, id__lt=message.pk)
        .order_by("-id")
        .first()
    )
    if asked is None and question is None:
        raise ValidationError("the answer has no question before it")
    example = ToneExample.objects.create(
        question=(question if question is not None else asked.content if asked else "").strip(),
        # Citation markers point at sources the training prompt does not have: kept, they would teach the
        # adapter to cite sources it was never given.
        answer=(answer if answer is not None else strip_citations(message.content)).strip(),
        author=actor,
        approved=approve,
        source_message=message,
    )
    audit_record(
        event_type="tuning.example_from_answer",
        actor=actor,
        object_type="tuning.toneexample",
        object_id=example.pk,
        data={"message": message.pk, "feedback": feedback.pk, "approved": approve},
    )
    return example
