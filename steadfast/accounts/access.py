"""Who may do what: one table of activities and the roles allowed each, and the one check.

Every service that writes starts with `require(actor, activity, patient)`: the guarantee, so
pages, the FHIR API, the Bundle import and commands all get the same rules. Views and API routes
also declare their activity (`@requires(...)`) to refuse early with a clean 403.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django_scopes import scope

from steadfast.accounts.models import Role
from steadfast.audit.queries import needs_break_glass
from steadfast.errors import NotPermitted, RestrictedRecord

R = Role
FRONT_DESK = frozenset({R.RECEPTIONIST, R.GP, R.NURSE, R.HCA, R.PRACTICE_MANAGER})
CLINICAL = frozenset({R.GP, R.NURSE, R.HCA})
# A practice node's token (steadfast/continuity/node): a machine, never a member of staff.
NODE_ROLE = "practice_node"

# Activity: (who may, what it means). The roles page shows this table as it stands.
ACTIVITY_TABLE: dict[str, tuple[frozenset[str], str]] = {
    "view_appointment_book": (FRONT_DESK, "See the appointment book and its patients"),
    "book_appointments": (FRONT_DESK, "Book, move and cancel appointments"),
    "manage_arrivals": (FRONT_DESK, "Mark arrivals, starts, finishes and did-not-attends"),
    "view_own_list": (CLINICAL, "See their own list of patients for the day"),
    "view_demographics": (FRONT_DESK, "Find patients and see their demographics"),
    "register_patients": (frozenset({R.RECEPTIONIST, R.PRACTICE_MANAGER}), "Register patients"),
    "break_glass": (FRONT_DESK, "Open a sensitive record with no care relationship, with a reason"),
    "view_clinical_record": (CLINICAL, "Read consultations, problems, medicines and results"),
    "record_consultation": (CLINICAL, "Record consultations and coded entries"),
    "prescribe": (frozenset({R.GP, R.NURSE}), "Prescribe and issue repeat medicines"),
    "manage_rotas": (frozenset({R.PRACTICE_MANAGER}), "Set clinicians' rotas and sessions"),
    "manage_staff": (frozenset({R.PRACTICE_MANAGER, R.ADMIN}), "Manage staff; see this table"),
    "restrict_records": (frozenset({R.PRACTICE_MANAGER}), "Mark a record sensitive (restricted)"),
    "view_audit": (frozenset({R.PRACTICE_MANAGER}), "Search the audit trail and see alerts"),
    "view_record_audit": (
        frozenset({R.GP, R.PRACTICE_MANAGER}),
        "See who has looked at a patient's record",
    ),
    "run_reports": (frozenset({R.PRACTICE_MANAGER, R.GP}), "Run practice reports"),
    "export": (frozenset({R.PRACTICE_MANAGER}), "Export patient data"),
    "download_downtime_pack": (
        FRONT_DESK,
        "Download the encrypted downtime pack and keep it offline in a browser",
    ),
    "set_downtime_passphrase": (
        frozenset({R.PRACTICE_MANAGER}),
        "Set the passphrase that opens the practice's downtime packs",
    ),
    "manage_practice_nodes": (
        frozenset({R.PRACTICE_MANAGER}),
        "See the practice's node tokens and revoke them",
    ),
    "follow_practice": (
        frozenset({NODE_ROLE}),
        "Follow every change to the practice's data: a practice node's token, never a person",
    ),
    "reconcile_downtime": (
        frozenset({NODE_ROLE}),
        "Send the node's downtime entries back, each made as its real author: a node's token",
    ),
    "start_downtime_working": (
        frozenset({R.PRACTICE_MANAGER}) | CLINICAL,
        "Switch a practice node to downtime working, and back",
    ),
    "resolve_downtime_entries": (
        frozenset({R.PRACTICE_MANAGER}) | CLINICAL,
        "Resolve downtime entries that did not fit (managers: bookings; clinicians: clinical)",
    ),
}
ACTIVITIES: dict[str, frozenset[str]] = {name: roles for name, (roles, _) in ACTIVITY_TABLE.items()}


def can(user, activity: str) -> bool:
    """True when the signed-in user's role allows the activity and they belong to a practice."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.practice_id
        and user.role in ACTIVITIES[activity]
    )


def require(actor, activity: str, patient=None, *, practice_id=None) -> None:
    """Refuse (NotPermitted) unless `actor`'s role allows `activity`, the patient (or
    `practice_id`) is their practice's, and a restricted patient's record is open to them
    (a care relationship or a current break-glass, as for reading it)."""
    if activity not in ACTIVITIES:
        raise ValueError(f"unknown activity {activity!r}")
    patient_id = patient.pk if patient is not None else None
    if actor is None or not can(actor, activity):
        raise NotPermitted(
            f"Your role may not {ACTIVITY_TABLE[activity][1].lower()}.",
            activity=activity,
            patient_id=patient_id,
        )
    practice_id = patient.practice_id if patient is not None else practice_id
    if practice_id is not None and str(practice_id) != str(actor.practice_id):
        raise NotPermitted(
            "This patient is not registered at your practice."
            if patient is not None
            else "That belongs to another practice.",
            activity=activity,
        )
    if patient is not None and needs_break_glass(actor, patient):
        raise RestrictedRecord(
            "This record is restricted. Open it in Steadfast and give a reason (break-glass).",
            activity=activity,
            patient_id=patient_id,
        )


def requires(activity: str) -> Callable:
    """View decorator: sign in first, then 403 unless the role allows `activity`."""
    if activity not in ACTIVITIES:
        raise ValueError(f"unknown activity {activity!r}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, activity):
                raise PermissionDenied(activity)
            return view(request, *args, **kwargs)

        wrapped.activity = activity
        return wrapped

    return decorator


class PracticeScopeMiddleware:
    """Confine every query on patient data to the signed-in user's practice.

    Models holding patient data use django-scopes' ScopedManager, so a view that forgets to
    filter by practice still cannot read another practice's rows; outside this scope such
    queries raise an error rather than return everything.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        # An empty list matches nothing: anonymous users and staff without a practice see none.
        practice = [user.practice_id] if user.is_authenticated and user.practice_id else []
        with scope(practice=practice):
            return self.get_response(request)
