from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RecordsConfig(AppConfig):
    name = "steadfast.records"
    label = "records"
    verbose_name = "Patient record"

    def ready(self) -> None:
        from steadfast.records.loading import load_shipped_if_empty

        post_migrate.connect(load_shipped_if_empty, sender=self)
