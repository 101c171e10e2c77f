"""Following the central server: fetch `/fhir/_history` pages and the staff list, apply them.

One pass is one transaction on the node's SQLite database: every page up to the head, then the
staff list if it changed. Foreign keys are checked at commit (Django makes them deferrable), so
resources may arrive in any order within a pass, and the node's pages never see half a pass.
A failed pass changes nothing and is retried from the same cursor.
"""

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, models, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone
from django_scopes import scopes_disabled

from steadfast.continuity.downtime.journal import open_session
from steadfast.continuity.node.models import FollowerState
from steadfast.continuity.node.staff import staff_import
from steadfast.fhir.replica import REPLICATED, Carried
from steadfast.patients.models import Patient
from steadfast.practices.models import Practice
from steadfast.records.models import (
    Allergy,
    Concept,
    ConceptUse,
    Immunisation,
    Medication,
    NoKnownAllergies,
    Observation,
    PatientFlag,
    Problem,
)

logger = logging.getLogger(__name__)
PAGE = 1000
CHILD_BATCH = 200  # parents per delete of children that went (keeps within SQLite's variables)
TIMEOUT_S = 60


class FollowError(Exception):
    """The upstream could not be reached or answered something a node cannot use."""


@dataclass(frozen=True)
class PassResult:
    changes: int
    pages: int
    staff: int | None  # accounts copied, or None when the staff list had not changed
    seconds: float


# --- HTTP ---------------------------------------------------------------------------------------


def get_from_upstream(
    url: str, token: str, etag: str = "", accept: str = "application/fhir+json"
) -> tuple[int, str, bytes]:
    """(status, ETag, body) of a GET with the node token; FollowError for anything but a
    2xx or 304."""
    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    request = urllib.request.Request(url, headers=headers)
    where = urlsplit(url).path
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, response.headers.get("ETag", ""), response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return 304, exc.headers.get("ETag", etag), b""
        if exc.code == 401:
            raise FollowError(f"{where}: 401, the node token was refused (revoked?)") from exc
        raise FollowError(f"{where}: the server answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FollowError(f"cannot reach the central server: {reason}") from exc
    except http.client.HTTPException as exc:  # a connection cut mid-answer (IncompleteRead...)
        raise FollowError(f"{where}: the answer was cut off ({type(exc).__name__})") from exc


def _json(body: bytes, what: str) -> dict:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise FollowError(f"{what} was not JSON") from exc


# --- applying -----------------------------------------------------------------------------------

# The use a concept is put to where a node meets a code its own reference data lacks.
CONCEPT_USES = {
    (Problem, "concept"): ConceptUse.PROBLEM,
    (Allergy, "substance"): ConceptUse.ALLERGEN,
    (Allergy, "reaction"): ConceptUse.REACTION,
    (Medication, "concept"): ConceptUse.MEDICINE,
    (Observation, "concept"): ConceptUse.OBSERVABLE,
    (Immunisation, "vaccine"): ConceptUse.VACCINATION,
    (PatientFlag, "concept"): ConceptUse.FLAG,
    (NoKnownAllergies, "concept"): ConceptUse.NO_ALLERGY,
}


def upsert(model: type[models.Model], rows: list[dict]) -> None:
    """Insert the rows, or overwrite those already there, exactly as given: `raw` keeps
    auto_now fields (a patient's updated_at) at the central server's values."""
    if not rows:
        return
    fields = list(model._meta.concrete_fields)
    objs = [model(**values) for values in rows]
    if model is Patient:
        for patient in objs:
            patient.refresh_search_keys()
    batch = connection.ops.bulk_batch_size(fields, objs)
    for start in range(0, len(objs), batch):
        model._base_manager._insert(
            objs[start : start + batch],
            fields=fields,
            raw=True,
            on_conflict=OnConflict.UPDATE,
            update_fields=[f for f in fields if not f.primary_key],
            unique_fields=[model._meta.pk],
        )


class Applier:
    """Applies history entries to the node's tables, a page at a time."""

    def __init__(self, practice_id) -> None:
        self.practice_id = practice_id
        self.concepts: dict[tuple[str, str], Concept] = {}
        self.changes = 0
        self.last_change = ""
        self.last_change_at = None

    def concept_for(self, field, system: str, code: str, term: str) -> Concept:
        key = (system, code)
        if key not in self.concepts:
            use = CONCEPT_USES.get((field.model, field.name), ConceptUse.FINDING)
            self.concepts[key], _ = Concept.objects.get_or_create(
                system=system, code=code, defaults={"term": term, "use": use}
            )
        return self.concepts[key]

    def apply(self, entries: list[dict]) -> None:
        upserts: dict[type, list[dict]] = defaultdict(list)
        deletes: dict[type, list] = defaultdict(list)
        # Per carried child table: the parents whose children came (or went) in this page.
        parents: dict[Carried, list] = defaultdict(list)
        for entry in entries:
            resource_type, _, resource_id = entry["request"]["url"].partition("/")
            replicated = REPLICATED.get(resource_type)
            if replicated is None:
                continue  # another view of a row already taken (Location, Schedule...)
            self.changes += 1
            self.last_change = entry["request"]["url"]
            self.last_change_at = entry["response"].get("lastModified")
            if replicated.model is get_user_model():
                continue  # accounts come from the staff list
            if entry["request"]["method"] == "DELETE":
                for kind in replicated.kinds():  # a type served from two tables: either
                    deletes[kind.model].append(kind.key(resource_id))
                    for carried in kind.carries:
                        parents[carried].append(kind.key(resource_id))
                continue
            kind = replicated.kind_for(entry["resource"])
            values = kind.read(entry["resource"], self.concept_for)
            if kind.model is not Practice:
                values["practice_id"] = self.practice_id
            upserts[kind.model].append(values)
            for carried in kind.carries:
                parents[carried].append(values["id"])
                upserts[carried.model] += [
                    child | {carried.parent_attname: values["id"], **self.practice_of(carried)}
                    for child in carried.read(entry["resource"], self.concept_for)
                ]
        for carried, parent_ids in parents.items():
            # Each parent keeps exactly the children that came with it (none, once it is gone).
            came = defaultdict(list)
            for child in upserts.get(carried.model, []):
                came[child[carried.parent_attname]].append(child["id"])
            for start in range(0, len(parent_ids), CHILD_BATCH):
                batch = parent_ids[start : start + CHILD_BATCH]
                kept = [child_id for parent_id in batch for child_id in came[parent_id]]
                gone = carried.model._base_manager.filter(**{f"{carried.parent}__in": batch})
                gone.exclude(pk__in=kept)._raw_delete(connection.alias)
        for model, rows in upserts.items():
            upsert(model, rows)
        for model, keys in deletes.items():
            # As the central server did it: what referred to the row has gone or moved in this
            # pass too (checked at commit), so no cascade here.
            model._base_manager.filter(pk__in=keys)._raw_delete(connection.alias)

    def practice_of(self, carried: Carried) -> dict:
        """A child row's practice, where its table has one: the node's."""
        has_practice = any(f.name == "practice" for f in carried.model._meta.concrete_fields)
        return {"practice_id": self.practice_id} if has_practice else {}


# --- a pass -------------------------------------------------------------------------------------


def _next_link(bundle: dict, upstream: str) -> str:
    for link in bundle.get("link", []):
        if link.get("relation") == "next":
            return urljoin(upstream + "/", link["url"])
    raise FollowError("the history page has no next link")


def _history_page(url: str, token: str) -> tuple:
    """(when it was asked, the Bundle)."""
    asked_at = timezone.now()
    bundle = _json(get_from_upstream(url, token)[2], "the history page")
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "history":
        raise FollowError("the upstream's _history is not a history Bundle")
    return asked_at, bundle


def _sync_staff(state: FollowerState) -> int | None:
    status, etag, body = get_from_upstream(
        f"{state.upstream}/node/staff", state.token, state.staff_etag
    )
    if status == 304:
        return None
    listing = _json(body, "the staff list")
    if state.practice_id is None:
        state.practice_id = UUID(listing["practice"])
    elif str(state.practice_id) != listing["practice"]:
        raise FollowError("the token now names another practice than this node's")
    count = staff_import(state.practice_id, json.dumps(listing["staff"]))
    state.staff_etag = etag
    return count


@scopes_disabled()
def follow_once(state: FollowerState | None = None) -> PassResult:
    """Apply everything the central server has that this node has not; record how it went."""
    state = state or FollowerState.objects.get()
    if open_session() is not None:
        # The node's copy now holds downtime entries: `steadfast node reconcile` first.
        raise FollowError("downtime working: not following until `steadfast node reconcile`")
    started = time.monotonic()
    try:
        with transaction.atomic():
            staff = _sync_staff(state) if state.practice_id is None else None
            applier = Applier(state.practice_id)
            url = state.next_url or f"{state.upstream}/fhir/_history?_count={PAGE}"
            pages = 0
            # The next page is fetched while this one is applied: the server builds it meanwhile.
            with ThreadPoolExecutor(max_workers=1) as fetcher:
                fetching = fetcher.submit(_history_page, url, state.token)
                while True:
                    asked_at, bundle = fetching.result()
                    following = _next_link(bundle, state.upstream)
                    if following != url:
                        fetching = fetcher.submit(_history_page, following, state.token)
                    applier.apply(bundle.get("entry", []))
                    pages += 1
                    if following == url:  # the cursor did not move: nothing more for now
                        break
                    url = following
            # Every pass asks (a 304 when nothing changed): a receptionist's new password has
            # no FHIR form, so the history cannot say so.
            staff = _sync_staff(state) if staff is None else staff
            state.next_url = url
            state.caught_up_at = asked_at
            state.changes_applied += applier.changes
            if applier.changes:
                state.last_change = applier.last_change
                state.last_change_at = applier.last_change_at
            state.last_error, state.last_error_at = "", None
            state.save()
    except (FollowError, DatabaseError, KeyError, ValueError, TypeError) as exc:
        message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, FollowError) else str(exc)
        FollowerState.objects.filter(pk=state.pk).update(
            last_error=message[:2000], last_error_at=timezone.now()
        )
        logger.warning("follow pass failed: %s", message)
        raise FollowError(message) from exc
    return PassResult(applier.changes, pages, staff, time.monotonic() - started)
