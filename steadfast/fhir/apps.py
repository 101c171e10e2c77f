from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "steadfast.fhir"
    label = "fhir"
    verbose_name = "FHIR API"
