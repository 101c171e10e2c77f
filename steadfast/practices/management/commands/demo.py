"""`steadfast demo`: load the synthetic demo practice, once."""

import time

from django.core.management.base import BaseCommand, CommandError

from steadfast import demo_data


class Command(BaseCommand):
    help = "Load the synthetic demo practice (once). Refuses a database holding real data."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--weeks", type=int, default=4, help="rota weeks either side of today")
        parser.add_argument("--logins", action="store_true", help="only print the demo logins")
        parser.add_argument(
            "--no-histories",
            action="store_true",
            help="leave out clinical histories (a quick register for benchmarks of the register)",
        )

    def handle(self, *args, patients, seed, weeks, logins, no_histories, **options):
        if not logins:
            if demo_data.demo_practice():
                self.stdout.write("The demo practice is already loaded.")
            else:
                started = time.monotonic()
                try:
                    summary = demo_data.load_demo(
                        patients=patients, seed=seed, weeks=weeks, histories=not no_histories
                    )
                except demo_data.NotADemoDatabase as exc:
                    raise CommandError(str(exc)) from exc
                self.stdout.write(
                    f"Loaded the demo practice in {time.monotonic() - started:.1f} s: "
                    f"{summary.patients} patients, {summary.clinicians} clinicians, "
                    f"{summary.slots} slots, {summary.appointments} appointments."
                )
        self._print_logins()

    def _print_logins(self) -> None:
        password = demo_data.demo_password()
        if not demo_data.demo_practice() or not password:
            return
        totp_secrets = demo_data.enrol_demo_authenticators()
        self.stdout.write(f"\nDemo logins (synthetic practice), all with password {password}")
        for username, role in demo_data.LOGIN_USERS.items():
            line = f"  {username:16} {role.label}"
            if secret := totp_secrets.get(username):
                line = f"{line:38} TOTP secret: {secret}"
            self.stdout.write(line)
        if totp_secrets:
            self.stdout.write(
                "Add a TOTP secret to an authenticator app (as a time-based setup key) "
                "for the code those logins ask for."
            )
        passphrase = demo_data.set_demo_downtime_passphrase()
        self.stdout.write(
            f"Downtime pack passphrase: {passphrase} (the worker reads it from "
            f"{demo_data.downtime_passphrase_file()})"
        )
