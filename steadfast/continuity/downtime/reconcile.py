"""On a node: send the downtime journal to the central server, in order, and go back to following.

Entries go in journal order in `batch` Bundles to `POST /fhir/$reconcile-downtime` with the node
token. Each answer is kept on its entry: merged, or a conflict with the central server's reason
(it is on the worklist there). Sending again is harmless: the central server answers an entry it
has from its ledger and changes nothing. Once every entry has an outcome, downtime working stops,
the rows the node made for itself are dropped, and the node takes the central copy again.
"""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from uuid import UUID

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from steadfast.continuity.downtime.models import DowntimeSession, JournalEntry
from steadfast.continuity.downtime.wire import bundle_entry
from steadfast.continuity.node.follow import TIMEOUT_S, FollowError
from steadfast.continuity.node.models import FollowerState

BATCH = 100


class ReconcileError(FollowError):
    """The central server could not take the entries now; nothing is lost, run it again."""


@dataclass(frozen=True)
class Summary:
    entries: int
    merged: int
    conflicts: int
    lost: int
    seconds: float

    @property
    def line(self) -> str:
        rate = self.entries / self.seconds if self.seconds > 0 else 0
        return (
            f"reconcile: entries={self.entries} merged={self.merged} "
            f"conflicts={self.conflicts} lost={self.lost} rate={rate:.0f}/s"
        )


def _post(state: FollowerState, bundle: dict) -> dict:
    request = urllib.request.Request(
        f"{state.upstream}/fhir/$reconcile-downtime",
        data=json.dumps(bundle).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {state.token}",
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode(errors="replace")
        raise ReconcileError(f"the central server answered {exc.code}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ReconcileError(f"cannot reach the central server: {reason}") from exc


def _send(state: FollowerState, entries: list[JournalEntry]) -> None:
    answer = _post(
        state,
        {"resourceType": "Bundle", "type": "batch", "entry": [bundle_entry(e) for e in entries]},
    )
    answers = answer.get("entry") or []
    if len(answers) != len(entries):
        raise ReconcileError("the central server answered a different number of entries")
    for entry, item in zip(entries, answers, strict=True):
        response = item["response"]
        code = int(response["status"].split()[0])
        issues = (response.get("outcome") or {}).get("issue") or [{}]
        entry.reason = issues[0].get("diagnostics", "")
        if code in (200, 201):
            entry.outcome = "merged"
        elif code == 400:
            entry.outcome = ""  # not taken: nothing recorded, so it is sent again next time
        else:
            entry.outcome = "conflict"
    JournalEntry.objects.bulk_update(entries, ["outcome", "reason"])


def latest_session() -> DowntimeSession | None:
    return DowntimeSession.objects.order_by("-started_at").first()


@scopes_disabled()
def reconcile(state: FollowerState | None = None, batch: int = BATCH) -> Summary:
    """Send every entry of the latest downtime, in order; then back to following."""
    state = state or FollowerState.objects.get()
    session = latest_session()
    started = time.monotonic()
    if session is None:
        return Summary(0, 0, 0, 0, 0.0)
    sent = 0
    after = 0
    while True:
        entries = list(session.entries.filter(seq__gt=after).order_by("seq")[:batch])
        if not entries:
            break
        _send(state, entries)
        sent += len(entries)
        after = entries[-1].seq
    seconds = time.monotonic() - started
    counts = {o: session.entries.filter(outcome=o).count() for o in ("merged", "conflict")}
    total = session.entries.count()
    summary = Summary(
        total,
        counts["merged"],
        counts["conflict"],
        total - counts["merged"] - counts["conflict"],
        seconds,
    )
    if summary.lost == 0 and session.reconciled_at is None:
        _back_to_following(state, session)
    return summary


def _back_to_following(state: FollowerState, session: DowntimeSession) -> None:
    """Stop downtime working, drop the rows the node made (the central server has them now,
    under its own ids, or on its worklist), and take the central copy again from the start."""
    with transaction.atomic():
        session = DowntimeSession.objects.select_for_update().get(pk=session.pk)
        if session.entries.filter(outcome="").exists():
            return  # written while sending: the next run sends it
        now = timezone.now()
        session.ended_at = session.ended_at or now
        session.reconciled_at = now
        session.save(update_fields=["ended_at", "reconciled_at"])
        _drop_node_rows(session)
        FollowerState.objects.filter(pk=state.pk).update(next_url="")


@transaction.atomic
def _drop_node_rows(session: DowntimeSession) -> None:
    # One transaction, so foreign keys are checked at its commit (as in a follow pass): every
    # row that refers to a dropped one was made in the same downtime and goes too.
    links, rows = [], {}
    for entry in session.entries.order_by("-seq"):
        for row in entry.rows:
            if row[0] == "m2m":
                links.append(row[1:])
            else:
                rows.setdefault(row[0], []).append(row[1])
    for through, instance_pk, pks in links:
        model = apps.get_model(through)
        fks = [f for f in model._meta.concrete_fields if f.is_relation]
        for source in fks:
            others = [f for f in fks if f is not source]
            query = model._base_manager.filter(**{source.attname: instance_pk})
            query.filter(**{f"{others[0].attname}__in": pks})._raw_delete(connection.alias)
    # An appointment's events go with it, however they were inserted.
    made = rows.get("appointments.Appointment", [])
    apps.get_model("appointments.AppointmentEvent")._base_manager.filter(
        appointment_id__in=[UUID(pk) for pk in made]
    )._raw_delete(connection.alias)
    for label, pks in rows.items():
        model = apps.get_model(label)
        pk = model._meta.pk
        keys = [pk.to_python(k) for k in pks]
        model._base_manager.filter(pk__in=keys)._raw_delete(connection.alias)
