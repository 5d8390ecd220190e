from __future__ import annotations

from django.db import transaction

from accounts.gates import require_role
from accounts.models import User
from accounts.roles import Role
from gaps.clustering import summarise_questions
from gaps.models import HandledGap
from gaps.selectors import EXAMPLES, embed_questions, gap_questions
from governance.audit import audit_record
from governance.privacy import audit_texts

NOTE_MAX_CHARS = 2000
MARK_EXAMPLES = 20


class NoGapQuestions(ValueError):
    pass


@transaction.atomic
def gap_mark_handled(*, user: User, message_ids: list[int], note: str) -> HandledGap:
    """Mark the group of unanswered questions made of ``message_ids`` as handled, with a note; audited.

    The group is read again from the answers (only those that still fall short count), so a forged form
    cannot mark anything but real gap questions."""
    require_role(user, Role.KNOWLEDGE_ADMIN)
    questions = gap_questions(message_ids=message_ids)
    if not questions:
        raise NoGapQuestions("None of these answers is an unanswered question.")
    texts = [q.question for q in questions]
    cluster = summarise_questions(texts, embed_questions(texts))
    ordered = [questions[i] for i in cluster.members]
    note = note.strip()[:NOTE_MAX_CHARS]
    mark = HandledGap.objects.create(
        label=ordered[0].question,
        terms=list(cluster.terms),
        examples=[q.question for q in ordered[:MARK_EXAMPLES]],
        message_ids=sorted(q.message_id for q in questions),
        note=note,
        handled_by=user,
    )
    audit_record(
        event_type="gaps.handled",
        actor=user,
        object_type="gap",
        object_id=mark.pk,
        data={
            "questions": len(questions),
            "message_ids": mark.message_ids,
            "terms": mark.terms,
            "examples": mark.examples[:EXAMPLES],  # pseudonymised when a key is configured, as on the page
            **audit_texts(note=note),
        },
    )
    return mark
