from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SourcesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sources"
    verbose_name = _("Synced sources")

    def ready(self) -> None:
        from ingestion.progress import progress_topic_register
        from sources.progress import TOPIC_SPEC

        progress_topic_register(TOPIC_SPEC)  # a sync's progress rides the uploads' socket
