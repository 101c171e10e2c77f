"""The `steadfast continuity` subcommands for node tokens, kept here so the `continuity` command
(shared with the downtime pack) only has to add them: `add_token_commands(subparsers)` and
`run_token_command(action, options, stdout)`."""

from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from steadfast.continuity.node.models import NodeToken
from steadfast.continuity.node.tokens import issue_node_token, revoke_node_token
from steadfast.practices.models import Practice

TOKEN_ACTIONS = ("node-token", "node-tokens", "revoke-node-token")


def add_token_commands(commands) -> None:
    issue = commands.add_parser(
        "node-token",
        help="print a new token for one practice node (shown once; revocable)",
        description="A token lets one practice node follow the practice's changes and copy its "
        "staff accounts. Give it to `steadfast node init --token` on the node.",
    )
    issue.add_argument("--practice", required=True, help="the practice's ODS code")
    issue.add_argument("--name", required=True, help="what the node is, e.g. back-office-pc")
    listing = commands.add_parser("node-tokens", help="list a practice's node tokens")
    listing.add_argument("--practice", required=True, help="the practice's ODS code")
    revoke = commands.add_parser("revoke-node-token", help="revoke a node's token at once")
    revoke.add_argument("--practice", required=True, help="the practice's ODS code")
    revoke.add_argument("--name", required=True, help="the node's name")


def _practice(ods_code: str) -> Practice:
    found = Practice.objects.filter(ods_code=ods_code.strip().upper()).first()
    if found is None:
        raise CommandError(f"No practice has the ODS code {ods_code}.")
    return found


@scopes_disabled()
def run_token_command(action: str, options: dict, stdout) -> None:
    practice = _practice(options["practice"])
    if action == "node-token":
        name = options["name"].strip()
        if not name or len(name) > 100:
            raise CommandError("Give the node a name of 1 to 100 characters.")
        live = NodeToken.objects.filter(practice=practice, name=name, revoked_at__isnull=True)
        if live.exists():
            raise CommandError(f"{name} already has a live token: revoke it first.")
        _, text = issue_node_token(practice, name)
        stdout.write(text)
    elif action == "node-tokens":
        for token in NodeToken.objects.filter(practice=practice).order_by("name", "created_at"):
            state = f"revoked {token.revoked_at:%d %b %Y}" if token.revoked_at else "live"
            used = f"{token.last_used_at:%d %b %Y %H:%M}" if token.last_used_at else "never"
            stdout.write(f"{token.name:30} {state:20} last used {used}")
    else:
        token = NodeToken.objects.filter(
            practice=practice, name=options["name"].strip(), revoked_at__isnull=True
        ).first()
        if token is None:
            raise CommandError(f"No live token named {options['name']} at {practice.ods_code}.")
        revoke_node_token(token)
        stdout.write(f"Revoked the token of {token.name}.")
