"""Settings for a Celery worker run as a separate process by test_worker_kill.py: the test database
of the test process, and a filesystem broker in a folder the test chose (so the test can kill it)."""

import os

from config.settings_test import *  # noqa: F403
from config.settings_test import DATABASES

DATABASES["default"]["NAME"] = os.environ["FARO_TEST_DATABASE_NAME"]
_broker = os.environ["FARO_TEST_BROKER_DIR"]
CELERY_BROKER_URL = "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": f"{_broker}/queue",
    "data_folder_out": f"{_broker}/queue",
    "control_folder": f"{_broker}/control",
}
