"""`steadfast continuity node-token|node-tokens|revoke-node-token`: practice node tokens."""

from django.core.management.base import BaseCommand

from steadfast.continuity.node.token_commands import (
    TOKEN_ACTIONS,
    add_token_commands,
    run_token_command,
)


class Command(BaseCommand):
    help = "Continuity: tokens for practice nodes (live copies of a practice)."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(
            dest="action", required=True, metavar="|".join(TOKEN_ACTIONS)
        )
        add_token_commands(commands)

    def handle(self, *args, action, **options):
        run_token_command(action, options, self.stdout)
