from django.apps import AppConfig


class DowntimeConfig(AppConfig):
    name = "steadfast.continuity.downtime"
    label = "downtime"
    verbose_name = "Downtime working and reconciliation"

    def ready(self) -> None:
        from steadfast.continuity.downtime import journal

        journal.connect_row_capture()
