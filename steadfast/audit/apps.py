from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "steadfast.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from steadfast.audit import signals  # noqa: F401  (connects login/logout auditing)
        from steadfast.audit.append_only import restore_after_migrate

        post_migrate.connect(restore_after_migrate, sender=self, dispatch_uid="audit_append_only")
