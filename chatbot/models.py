from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    class Confidence(models.TextChoices):
        HIGH = "high", _("high")
        MEDIUM = "medium", _("medium")
        LOW = "low", _("low")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField()
    # Provenance of an answer: what was searched for, what was retrieved and how strongly it bore on the
    # question, which prompt, model and adapter spoke, how sure the answer is, and how long each part took.
    rewritten_query = models.TextField(blank=True)
    model = models.CharField(max_length=300, blank=True)
    adapter = models.CharField(max_length=300, blank=True)
    prompt_version = models.CharField(max_length=40, blank=True)
    fallback = models.BooleanField(default=False)
    refused = models.BooleanField(default=False)
    stopped = models.BooleanField(default=False)
    confidence = models.CharField(max_length=8, choices=Confidence.choices, blank=True)
    evidence = models.FloatField(null=True, blank=True)
    sources = models.JSONField(default=list, blank=True)
    retrieval = models.JSONField(default=list, blank=True)
    unsupported = models.JSONField(default=list, blank=True)  # answer sentences no cited passage supports
    latency_retrieval_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_total_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class Feedback(models.Model):
    """One person's 👍 or 👎 on one answer, with an optional comment; giving it again replaces it."""

    class Rating(models.IntegerChoices):
        UP = 1, _("helpful")
        DOWN = -1, _("not helpful")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_feedback")
    rating = models.SmallIntegerField(choices=Rating.choices)
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="feedback_one_per_user_and_message")]

    def __str__(self) -> str:
        return f"{self.get_rating_display()} on message {self.message_id}"
