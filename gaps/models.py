from __future__ import annotations

from django.conf import settings
from django.db import models


class HandledGap(models.Model):
    """A group of unanswered questions a knowledge admin marked as handled, with a note (the document that
    now answers it, say). Groups are recomputed on every view, so a mark is matched to today's groups by
    the answers it covered and by the meaning of its example questions (gaps/selectors.py)."""

    label = models.CharField(max_length=500)
    terms = models.JSONField(default=list)
    # Pseudonymised example questions (as shown on the page): embedded again with the configured embedder
    # to recognise the topic when it comes back, whatever embedder is configured then.
    examples = models.JSONField(default=list)
    message_ids = models.JSONField(default=list)  # the answers in the group when it was marked
    note = models.TextField(blank=True, max_length=2000)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-handled_at", "-id"]

    def __str__(self) -> str:
        return self.label[:80]
