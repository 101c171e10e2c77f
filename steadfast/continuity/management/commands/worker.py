"""`steadfast worker`: run the periodic jobs (steadfast/jobs.py) until stopped."""

import signal

from django.core.management.base import BaseCommand

from steadfast import jobs


class Command(BaseCommand):
    help = "Run Steadfast's periodic jobs (downtime packs, ...) until Ctrl-C or SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every job once, then stop")

    def handle(self, *args, once, **options):
        if once:
            for job in jobs.JOBS:
                jobs.run_job(job)
            return
        scheduler = jobs.scheduler()

        def stop(signum, frame):
            # Let a running job finish (a pack is written whole or not at all), then exit.
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        names = ", ".join(f"{j.name} every {j.every_minutes():g} min" for j in jobs.JOBS)
        self.stdout.write(f"Steadfast worker: {names}. Ctrl-C to stop.")
        self.stdout.flush()
        scheduler.start()
        self.stdout.write("Steadfast worker stopped.")
