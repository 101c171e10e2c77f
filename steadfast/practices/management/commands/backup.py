"""`steadfast backup --to DIR`: a checked backup of the embedded SQLite database, while serving."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from steadfast.sqlite_backup import BackupFailed, take_backup


class Command(BaseCommand):
    help = (
        "Back up the SQLite database with the online backup API, check the copy (integrity and"
        " audit chain), keep the newest --keep; encrypted to an age public key if one is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to", type=Path, default=settings.BACKUP_DIR, help="folder (default BACKUP_DIR)"
        )
        parser.add_argument("--keep", type=int, default=settings.BACKUP_KEEP, help="how many")
        parser.add_argument(
            "--recipient",
            default=settings.BACKUP_RECIPIENT,
            help="age public key (age1...) to encrypt to; default $STEADFAST_BACKUP_RECIPIENT",
        )

    def handle(self, *args, to, keep, recipient, **options):
        if keep < 1:
            raise CommandError("--keep must be at least 1")
        try:
            path, verdict = take_backup(to, keep, recipient or None)
        except BackupFailed as exc:
            raise CommandError(f"backup failed: {exc}") from exc
        size_mb = path.stat().st_size / 1e6
        self.stdout.write(f"backup {path} ({size_mb:.1f} MB) checked: integrity ok, {verdict}")
