"""POST /fhir/$reconcile-downtime: a practice node's downtime journal, as a `batch` Bundle.

Only a node token may send it (activity `reconcile_downtime`); each entry is then made as its
real author, whose role the services check as for any write. Entries are applied in the order
given, each on its own: the answer is a `batch-response` with, per entry, 201 (made now), 200
(received before: nothing changes), or 409/412/422/403 with the plain reason it went to the
worklist.
"""

from django.db import transaction
from ninja import Router

from steadfast.continuity.downtime.replay import Receiver, http_status
from steadfast.continuity.downtime.wire import BadEntry, read_entry
from steadfast.errors import NotPermitted
from steadfast.fhir.access import requires
from steadfast.fhir.body import read_json_body
from steadfast.fhir.capabilities import body_openapi
from steadfast.fhir.errors import FHIRError, operation_outcome
from steadfast.fhir.http import fhir_response

router = Router(tags=["Downtime"])
MAX_ENTRIES = 500
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 403: "Forbidden", 409: "Conflict"}
REASONS |= {412: "Precondition Failed", 422: "Unprocessable Entity"}


def _answer(status: int, diagnostics: str, entry_id: str = "", outcome: str = "") -> dict:
    severity = "information" if status < 300 else "error"
    code = "informational" if status < 300 else "conflict" if status in (409, 412) else "invalid"
    answer = {
        "response": {
            "status": f"{status} {REASONS.get(status, '')}".strip(),
            "outcome": operation_outcome(diagnostics, code, severity),
        }
    }
    if entry_id:
        answer["response"]["location"] = f"$downtime-entry/{entry_id}"
        answer["response"]["etag"] = outcome
    return answer


@router.post(
    "/$reconcile-downtime",
    url_name="reconcile_downtime",
    openapi_extra=body_openapi("Bundle"),
)
@requires("reconcile_downtime")
def reconcile_downtime(request):
    bundle = read_json_body(request)
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "batch":
        raise FHIRError(400, "Send a Bundle of type batch.")
    items = bundle.get("entry") or []
    if not isinstance(items, list) or len(items) > MAX_ENTRIES:
        raise FHIRError(400, f"Send at most {MAX_ENTRIES} entries in one Bundle.")
    read = []
    for item in items:
        try:
            read.append(read_entry(item))
        except BadEntry as exc:
            read.append(exc)
    answers = []
    # One transaction for the batch (each entry in its own savepoint, so a refused one leaves
    # nothing): a batch lost to a crash is sent again by the node, and changes nothing twice.
    with transaction.atomic():
        Receiver.lock(request.user)
        receiver = Receiver(request.user, [i.uuid for i in read if not isinstance(i, BadEntry)])
        for incoming in read:
            if isinstance(incoming, BadEntry):
                answers.append(_answer(400, str(incoming)))
                continue
            try:
                entry, created = receiver.receive(incoming)
            except NotPermitted as exc:
                answers.append(_answer(403, str(exc)))
                continue
            status = http_status(entry, created)
            reason = entry.reason if status >= 300 else entry.get_status_display()
            answers.append(_answer(status, reason or "Merged", str(entry.pk), entry.status))
    return fhir_response({"resourceType": "Bundle", "type": "batch-response", "entry": answers})
