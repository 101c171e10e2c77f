"""`steadfast continuity pack`: write the downtime pack (and, if asked, its PDF) for a practice.
`steadfast continuity node-token|node-tokens|revoke-node-token`: practice node tokens
(steadfast/continuity/node/token_commands.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from steadfast.continuity import services
from steadfast.continuity.node.token_commands import (
    TOKEN_ACTIONS,
    add_token_commands,
    run_token_command,
)
from steadfast.practices.models import Practice


class Command(BaseCommand):
    help = (
        "Downtime continuity: `pack` writes the encrypted downtime pack for a practice; "
        "`node-token` makes a practice node's token."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(
            dest="action", required=True, metavar="|".join(("pack", *TOKEN_ACTIONS))
        )
        pack = commands.add_parser(
            "pack",
            help="write one self-contained, encrypted HTML file (and optionally a PDF)",
            description="Today's and the next days' lists, summaries of the booked patients and "
            "the whole register, encrypted with the practice's downtime passphrase (from "
            "STEADFAST_PACK_PASSPHRASE or --passphrase-file).",
        )
        pack.add_argument("--out", required=True, type=Path, help="the HTML file to write")
        pack.add_argument("--days", type=int, default=2, help="days of lists, from today")
        pack.add_argument("--pdf", type=Path, help="also write the paper copy (not encrypted)")
        pack.add_argument("--practice", help="ODS code, where the database holds several")
        pack.add_argument("--passphrase-file", type=Path, help="file holding the passphrase")
        add_token_commands(commands)

    def handle(self, *args, action, **options):
        if action in TOKEN_ACTIONS:
            run_token_command(action, options, self.stdout)
        else:
            self._pack(**options)

    @scopes_disabled()
    def _pack(self, out, days, pdf: Path | None, practice, passphrase_file, **options):
        if not 1 <= days <= 14:
            raise CommandError("--days must be between 1 and 14.")
        chosen = self._practice(practice)
        try:
            passphrase = services.given_passphrase(passphrase_file)
            built = services.build_pack(chosen, passphrase, days=days, source="steadfast command")
        except services.PassphraseProblem as exc:
            raise CommandError(str(exc)) from exc
        services.write_atomically(out, built.html)
        self.stdout.write(
            f"Wrote {out}: {built.patients} patients, {built.booked} booked, "
            f"{len(built.html) / 1e6:.1f} MB in {built.seconds:.1f} s."
        )
        if pdf:
            services.write_pack_pdf(built, pdf, source="steadfast command")
            self.stdout.write(
                f"Wrote {pdf}: the paper copy. It is not encrypted: print it, then delete it."
            )

    def _practice(self, ods_code: str | None) -> Practice:
        if ods_code:
            found = Practice.objects.filter(ods_code=ods_code.upper()).first()
            if found is None:
                raise CommandError(f"No practice has the ODS code {ods_code}.")
            return found
        practices = list(Practice.objects.all()[:2])
        if not practices:
            raise CommandError("There is no practice in this database.")
        if len(practices) > 1:
            raise CommandError("This database holds several practices: give --practice ODS.")
        return practices[0]
