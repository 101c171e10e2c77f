from django.apps import AppConfig


class ContinuityConfig(AppConfig):
    name = "steadfast.continuity"
    label = "continuity"
    verbose_name = "Continuity (downtime packs)"
