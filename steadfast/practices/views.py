"""The rota page: clinicians' weekly sessions, a preview of the slots each makes, and saving."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from steadfast.accounts.access import requires
from steadfast.errors import DomainError
from steadfast.navigation import found
from steadfast.practices import queries
from steadfast.practices import services as rotas
from steadfast.practices.forms import WEEKDAYS, SessionForm


def _initial(session) -> dict:
    return {name: getattr(session, name) for name in rotas.SESSION_FIELDS} | {
        "clinician": session.clinician_id
    }


def _saved_message(change: rotas.RotaChange) -> str:
    message = f"Session saved: {change.made} new slots, {change.removed} free slots removed."
    if change.kept_booked:
        message += f" {change.kept_booked} booked appointments are kept as they were: move them."
    return message


@requires("manage_rotas")
def rota(request):
    """Each clinician's weekly sessions; a new one is added (or previewed) below."""
    return _session_page(request, None)


@requires("manage_rotas")
def session(request, session_id):
    return _session_page(request, found(queries.rota_session, request.user.practice, session_id))


def _session_page(request, session):
    practice = request.user.practice
    form = SessionForm(
        request.POST or None,
        clinicians=queries.practice_clinicians(practice),
        initial=_initial(session) if session else {"slot_minutes": 10, "weekday": 0},
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if "preview" in request.POST:
            preview = rotas.slot_times(d["start_time"], d["end_time"], d["slot_minutes"])
        else:
            try:
                change = rotas.save_session(request.user, session, **d)
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _saved_message(change))
                return redirect("practices:rotas")
    return render(
        request,
        "practices/rota.jinja",
        {
            "page_title": "Change a session" if session else "Rotas",
            "nav_current": "rotas",
            "session": session,
            "sessions": [] if session else queries.rota(practice),
            "weekdays": WEEKDAYS,
            "weeks_ahead": rotas.WEEKS_AHEAD,
            "form": form,
            "preview": preview,
        },
        status=400 if request.method == "POST" and "preview" not in request.POST else 200,
    )


@require_POST
@requires("manage_rotas")
def end_session(request, session_id):
    session = found(queries.rota_session, request.user.practice, session_id)
    change = rotas.end_session(request.user, session)
    messages.success(
        request,
        f"Session ended: {change.removed} free slots removed."
        + (f" {change.kept_booked} booked appointments are kept." if change.kept_booked else ""),
    )
    return redirect("practices:rotas")
