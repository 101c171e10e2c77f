"""`steadfast serve`: the production web server (gunicorn workers, whitenoise for static files)."""

import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

# Paths only, never query strings: a search like ?q=smith would put a name in the log.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class Command(BaseCommand):
    help = "Serve Steadfast with gunicorn (several workers); static files are served by whitenoise."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("STEADFAST_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 0))
        )
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--quiet", action="store_true", help="no access log")

    def handle(self, *args, bind, workers, threads, quiet, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        workers = workers or (os.cpu_count() or 1) * 2 + 1
        argv = [
            "gunicorn",
            "steadfast.wsgi:application",
            f"--bind={bind}",
            f"--workers={workers}",
            "--worker-class=gthread",
            f"--threads={threads}",
            "--max-requests=5000",
            "--max-requests-jitter=500",
            "--graceful-timeout=10",
            f"--access-logformat={ACCESS_LOG_FORMAT}",
        ]
        if not quiet:
            argv.append("--access-logfile=-")
        self.stdout.write(f"Steadfast on http://{bind}/ ({workers} workers x {threads} threads)")
        sys.stdout.flush()
        os.execvp(sys.executable, [sys.executable, "-m", *argv])
