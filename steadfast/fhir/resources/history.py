"""`GET /fhir/_history`: the practice's system history, in commit order, for followers.

Each page is a `history` Bundle of the resources changed since the cursor, oldest change first,
each at its newest state (or a DELETE). Its `next` link carries an opaque cursor and is always
there: a follower keeps the last one and asks it again later; a page shorter than `_count` means
it has everything for now. The cursor is the practice's change number (see fhir/changes.py),
so a follower never misses or repeats a change, whatever order transactions commit in.
"""

from collections import defaultdict
from contextlib import contextmanager

from django.core import signing
from django.db import connection, transaction
from django.utils import timezone
from ninja import Router

from steadfast.audit import services as audit
from steadfast.fhir.access import requires
from steadfast.fhir.bundles import base_url
from steadfast.fhir.errors import FHIRError
from steadfast.fhir.http import fhir_response
from steadfast.fhir.models import Change
from steadfast.fhir.replica import REPLICATED
from steadfast.fhir.search import check_parameters

router = Router(tags=["History"])
DEFAULT_PAGE = 500
MAX_PAGE = 2000
_CURSOR_SALT = "steadfast.fhir.history"


def make_cursor(practice_id, seq: int) -> str:
    return signing.dumps([str(practice_id), seq], salt=_CURSOR_SALT, compress=True)


def read_cursor(text: str | None, practice_id) -> int:
    if not text:
        return 0
    try:
        practice, seq = signing.loads(text, salt=_CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise FHIRError(400, "_cursor is not one this server gave: follow the next link.") from exc
    if practice != str(practice_id) or not isinstance(seq, int):
        raise FHIRError(400, "_cursor belongs to another practice's history.")
    return seq


def _page_size(request) -> int:
    raw = request.GET.get("_count", str(DEFAULT_PAGE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise FHIRError(400, f"_count must be a whole number from 1 to {MAX_PAGE}.")
    return int(raw)


def _current_rows(practice_id, changes: list[Change]) -> dict:
    """The rows the page's live changes name, by (resource type, key): one query per type."""
    wanted = defaultdict(list)
    for change in changes:
        if not change.deleted:
            kind = REPLICATED[change.resource_type]
            wanted[change.resource_type].append(kind.key(change.resource_id))
    rows = {}
    for resource_type, keys in wanted.items():
        for row in REPLICATED[resource_type].rows(practice_id, keys):
            rows[(resource_type, row.pk)] = row
    return rows


def history_entries(request, practice_id, changes: list[Change]) -> list[dict]:
    base = base_url(request)
    request.history_now = timezone.now()  # one "now" for the page's slots (free or not)
    rows = _current_rows(practice_id, changes)
    entries = []
    for change in changes:
        kind = REPLICATED[change.resource_type]
        modified = change.changed_at.isoformat()
        if change.deleted:
            resource_id = str(kind.key(change.resource_id))
            url = f"{change.resource_type}/{resource_id}"
            entries.append(
                {
                    "fullUrl": f"{base}/{url}",
                    "request": {"method": "DELETE", "url": url},
                    "response": {"status": "204 No Content", "lastModified": modified},
                }
            )
            continue
        row = rows.get((change.resource_type, kind.key(change.resource_id)))
        if row is None:  # deleted since this page's changes were read: its DELETE follows
            continue
        for resource in kind.write(row, request):
            url = f"{resource['resourceType']}/{resource['id']}"
            entries.append(
                {
                    "fullUrl": f"{base}/{url}",
                    "resource": resource,
                    "request": {"method": "POST" if change.created else "PUT", "url": url},
                    "response": {
                        "status": "201 Created" if change.created else "200 OK",
                        "lastModified": modified,
                    },
                }
            )
    return entries


def _history_link(request, practice_id, seq: int, count: int) -> str:
    return f"{base_url(request)}/_history?_count={count}&_cursor={make_cursor(practice_id, seq)}"


@contextmanager
def _one_snapshot():
    """On PostgreSQL, read the change rows and the rows they name in one snapshot. (SQLite's
    transactions here would take the write lock; its readers see one writer's commits anyway.)"""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


@router.get("/_history", url_name="history", operation_id="history_system")
@requires("follow_practice")
def system_history(request):
    """Every change to the practice's data since the cursor, in commit order."""
    check_parameters(request, {"_cursor"})
    practice_id = request.user.practice_id
    after = read_cursor(request.GET.get("_cursor"), practice_id)
    count = _page_size(request)
    with _one_snapshot():
        changes = list(
            Change.objects.filter(practice_id=practice_id, seq__gt=after).order_by("seq")[:count]
        )
        entries = history_entries(request, practice_id, changes)
    last = changes[-1].seq if changes else after
    if changes:
        audit.record(
            "follow_practice",
            user=request.user,
            detail=f"history changes {changes[0].seq}-{last} ({len(changes)})",
            read_only=True,
        )
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "history",
            "timestamp": timezone.now().isoformat(),
            "link": [
                {"relation": "self", "url": request.build_absolute_uri()},
                {"relation": "next", "url": _history_link(request, practice_id, last, count)},
            ],
            "entry": entries,
        }
    )
