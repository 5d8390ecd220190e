"""Gold sets (questions with the documents and answers that are right for them) and the evaluation runs
of the answer flow against them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class GoldSet(models.Model):
    name = models.SlugField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=500, blank=True)  # where it was imported from
    # A BEIR folder whose corpus.jsonl each run indexes into a throwaway index (read in place, never copied);
    # empty: the questions are about the live index, and expected documents are named by title.
    corpus_path = models.CharField(_("corpus folder"), max_length=500, blank=True)
    # Groups of the person the questions are asked as (the evaluation account is put in exactly these).
    groups = models.JSONField(_("groups"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GoldQuestion(models.Model):
    gold_set = models.ForeignKey(GoldSet, on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(max_length=100)  # the question's id in its source
    question = models.TextField()
    expected_documents = models.JSONField(default=list, blank=True)  # titles, or corpus ids of a BEIR set
    reference_answer = models.TextField(blank=True)
    # Short spans a correct answer holds (any one; verbatim in the document, compared accent- and case-folded),
    # and for questions answered yes/no, the document sentences that decide them (evaluation/answer_quality.py).
    answer_spans = models.JSONField(default=list, blank=True)
    evidence_sentences = models.JSONField(default=list, blank=True)
    answerable = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["gold_set", "key"], name="gold_question_key_unique")]

    def __str__(self) -> str:
        return f"{self.gold_set.name}/{self.key}"


class EvaluationRun(models.Model):
    gold_set = models.ForeignKey(GoldSet, on_delete=models.CASCADE, related_name="runs")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    model = models.CharField(max_length=300, blank=True)
    adapter = models.CharField(max_length=300, blank=True)
    index_version = models.CharField(max_length=200, blank=True)
    questions = models.PositiveIntegerField(default=0)
    repeats = models.PositiveSmallIntegerField(default=1)
    duration_seconds = models.FloatField(default=0.0)
    metrics = models.JSONField(default=dict)  # name -> value (None when the set cannot measure it)
    details = models.JSONField(default=dict)  # {"questions": [one record each], "bias_probe": [one per pair]}
    # Metrics worse than the previous comparable run by more than their tolerance (evaluation/regressions.py).
    regressions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.gold_set.name} {self.created_at:%Y-%m-%d %H:%M}"
