from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "steadfast.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from steadfast.accounts import signals  # noqa: F401  (session set-up at login)
