from django.contrib import admin

from tuning.models import DatasetSnapshot, ToneExample, TuningRun


@admin.register(ToneExample)
class ToneExampleAdmin(admin.ModelAdmin):
    list_display = ("question", "author", "approved", "created_at")
    list_filter = ("approved",)
    search_fields = ("question", "answer")


@admin.register(DatasetSnapshot)
class DatasetSnapshotAdmin(admin.ModelAdmin):
    list_display = ("id", "content_hash", "approved_by", "created_at")
    # Snapshots are made by ``snapshot_create`` only (pseudonymised, audited), never typed in by hand.
    readonly_fields = ("content_hash", "chat_template", "examples", "pii_report", "approved_by", "created_at")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(TuningRun)
class TuningRunAdmin(admin.ModelAdmin):
    list_display = ("id", "snapshot", "status", "promoted", "started_by", "created_at")
    list_filter = ("status", "promoted")
    readonly_fields = [field.name for field in TuningRun._meta.get_fields() if getattr(field, "concrete", False)]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
