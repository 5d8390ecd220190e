from __future__ import annotations

from tuning.models import TuningRun


def promoted_run() -> TuningRun | None:
    """The run whose adapter the deployment should use, if any."""
    return TuningRun.objects.filter(promoted=True).first()
