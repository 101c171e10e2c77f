"""The practice's downtime passphrase, kept only as a verifier (a password hash)."""

from django.conf import settings
from django.db import models


class DowntimePassphrase(models.Model):
    """Opens the practice's downtime packs. Only a hash is stored: the worker is given the
    passphrase itself (environment or file) and checks it here before encrypting with it."""

    practice = models.OneToOneField(
        "practices.Practice", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    verifier = models.CharField(max_length=256)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    set_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"DowntimePassphrase {self.practice_id}"
