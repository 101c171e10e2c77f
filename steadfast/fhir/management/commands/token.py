"""`steadfast token USERNAME`: print a 30-day API bearer token for a member of staff."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from steadfast.fhir.auth import TOKEN_LIFETIME, make_token


class Command(BaseCommand):
    help = "Print a bearer token for the FHIR API, acting as USERNAME (valid for 30 days)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user called {username!r}.") from exc
        if not user.is_active or not user.practice_id:
            raise CommandError(f"{username} is not an active member of a practice's staff.")
        self.stdout.write(make_token(user))
        days = TOKEN_LIFETIME.days
        self.stderr.write(f"Token for {username} ({user.get_role_display()}), valid {days} days.")
