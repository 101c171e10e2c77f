"""`steadfast audit-checkpoint`: anchor each audit chain that has grown outside the database.

Appending writes a checkpoint every AUDIT_CHECKPOINT_EVERY entries, and on the first entry after
AUDIT_CHECKPOINT_INTERVAL; the scheduler (`steadfast worker`) runs this every few minutes so a
chain's last entries are anchored even when the practice goes quiet.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from steadfast.audit.services import ChainHeadAltered, checkpoint_chains


class Command(BaseCommand):
    help = "Write a signed checkpoint of each audit chain that has grown since its last one."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="checkpoint every chain (after rotating the checkpoint file)",
        )

    def handle(self, *args, **options):
        try:
            written = checkpoint_chains(every_chain=options["all"])
        except ChainHeadAltered as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{len(written)} audit chain checkpoint(s) written to {settings.AUDIT_CHECKPOINT_FILE}"
        )
