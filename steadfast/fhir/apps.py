from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FhirConfig(AppConfig):
    name = "steadfast.fhir"
    label = "fhir"
    verbose_name = "FHIR API"

    def ready(self) -> None:
        from steadfast.fhir.changes import install_after_migrate

        post_migrate.connect(install_after_migrate, sender=self)
