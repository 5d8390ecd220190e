from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: health probes and Prometheus metrics. Nothing imports ops except config."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from ops.metrics import register_collectors

        register_collectors()
