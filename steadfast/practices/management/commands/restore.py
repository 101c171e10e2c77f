"""`steadfast restore FILE`: check a backup, then put it in place of the SQLite database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from steadfast.sqlite_backup import BackupFailed, live_database, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `steadfast backup` over the SQLite database, after checking it"
        " (integrity and audit chain). Stop `steadfast serve` first. Refuses to replace an"
        " existing database without --force; the one replaced is kept beside it."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path)
        parser.add_argument("--force", action="store_true", help="replace an existing database")
        parser.add_argument("--identity", help="age key file, for an encrypted backup")

    def handle(self, *args, backup, force, identity, **options):
        if not backup.is_file():
            raise CommandError(f"no such backup: {backup}")
        try:
            target = live_database()
            verdict = restore(backup, target, force=force, identity=identity)
        except BackupFailed as exc:
            raise CommandError(f"not restored: {exc}") from exc
        self.stdout.write(f"restored {backup.name} to {target}: integrity ok, {verdict}")
