"""The WSGI application that `steadfast serve` runs: gunicorn imports it in each worker."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "steadfast.settings")
application = get_wsgi_application()


def settle_heap() -> None:
    """Import every view now, then keep what is loaded out of full garbage collections.

    A worker holds some 150,000 long-lived objects (Django, the FHIR models, the URL patterns)
    that Python's full collection walks again every few busy pages: 70 ms or more each time on
    two shared cores, the long tail of the day view and arrivals. `gc.freeze()` leaves them out
    (nothing is freed that could be: garbage is collected first); a request's own garbage is
    still collected as before.
    """
    get_resolver().url_patterns  # noqa: B018  (imports every view module)
    gc.collect()
    gc.freeze()


settle_heap()
