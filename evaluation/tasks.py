from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from evaluation.answers import answers_evaluate
from evaluation.goldsets import DEMO_GOLD_SETS, gold_set_demo_ensure
from evaluation.models import GoldSet

logger = logging.getLogger(__name__)


@shared_task(name="evaluation.tasks.evaluate_nightly")
def evaluate_nightly() -> list[int]:
    """Nightly (``CELERY_BEAT_SCHEDULE``): evaluate each of ``EVALUATION_NIGHTLY_SETS``; returns the run ids."""
    runs = []
    for name in settings.EVALUATION_NIGHTLY_SETS:
        gold_set = gold_set_demo_ensure(name) if name in DEMO_GOLD_SETS else GoldSet.objects.filter(name=name).first()
        if gold_set is None:
            logger.warning("nightly evaluation: no gold set %r", name)
            continue
        run = answers_evaluate(gold_set=gold_set)
        if run.regressions:
            logger.warning("nightly evaluation of %s flags regressions: %s", name, run.regressions)
        runs.append(run.pk)
    return runs


@shared_task(name="evaluation.tasks.evaluate_demo")
def evaluate_demo() -> int:
    """One evaluation of the demo gold set, queued from the dashboard by an auditor; returns the run id."""
    return answers_evaluate(gold_set=gold_set_demo_ensure()).pk
