"""The worklist of downtime entries that need a person (central server), and the node's
downtime working page (start, stop, reconcile)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from steadfast.accounts.access import requires
from steadfast.continuity.downtime import queries, services
from steadfast.continuity.downtime.journal import open_session
from steadfast.continuity.downtime.models import EntryStatus
from steadfast.continuity.downtime.reconcile import ReconcileError, latest_session, reconcile
from steadfast.continuity.downtime.replay import ACTION_NAMES
from steadfast.continuity.node.queries import follower_state
from steadfast.errors import DomainError


@requires("resolve_downtime_entries")
def worklist(request):
    show = "all" if request.GET.get("show") == "all" else "open"
    return render(
        request,
        "downtime/worklist.jinja",
        {
            "page_title": "Downtime entries to reconcile",
            "nav_current": "reconcile",
            "entries": queries.worklist(request.user, show=show),
            "show": show,
            "action_names": ACTION_NAMES,
        },
    )


@requires("resolve_downtime_entries")
def entry(request, entry_id):
    found = queries.worklist_entry(request.user, entry_id)
    if found is None:
        raise Http404("No such downtime entry")
    if request.method == "POST":
        return _act(request, found)
    wanted = queries.wanted_slot(found)
    context = {
        "page_title": f"Downtime entry: {ACTION_NAMES.get(found.action, found.action)}",
        "nav_current": "reconcile",
        "entry": found,
        "action_name": ACTION_NAMES.get(found.action, found.action),
        "wanted": wanted,
        "holder": queries.slot_holder(wanted),
        "appointment": queries.central_appointment(found),
        "free_slots": queries.offered_slots(found, wanted),
        "matches": queries.possible_matches(found),
        "may_accept": services.may_accept(found),
        "may_resolve": services.may_resolve(request.user, found),
    }
    return render(request, "downtime/entry.jinja", context)


def _act(request, found):
    action = request.POST.get("action")
    try:
        if action == "book":
            done = services.book_elsewhere(found, request.POST.get("slot"), request.user)
        elif action == "link":
            patient = queries.practice_patient(found.practice_id, request.POST.get("patient"))
            if patient is None:
                raise DomainError("Choose the registered patient to link to.")
            done = services.link_patient(found, patient, request.user)
        elif action == "accept":
            done = services.accept_as_is(found, request.user)
        elif action == "set_aside":
            done = services.set_aside(found, request.POST.get("reason", ""), request.user)
        else:
            raise DomainError("Choose what to do with this entry.")
    except (DomainError, ValueError) as exc:
        messages.error(request, str(exc) or "That could not be done.")
        return redirect("downtime:entry", entry_id=found.pk)
    if done.status == EntryStatus.CONFLICT:
        messages.error(request, f"Still does not fit: {done.reason}")
        return redirect("downtime:entry", entry_id=found.pk)
    messages.success(request, done.resolution)
    return redirect("downtime:worklist")


# --- on a node ----------------------------------------------------------------------------------


@requires("view_appointment_book")
def node(request):
    """The node's downtime working: its state, and the switch for managers and clinicians."""
    if request.method == "POST":
        try:
            if request.POST.get("switch") == "start":
                services.start_downtime(request.user)
                messages.success(request, "Downtime working has started on this node.")
            else:
                services.stop_downtime(request.user)
                messages.success(request, "Downtime working has stopped. Reconcile next.")
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("downtime:node")
    state = follower_state()
    session = latest_session()
    return render(
        request,
        "downtime/node.jinja",
        {
            "page_title": "Downtime working",
            "state": state,
            "session": open_session(),
            "latest": session,
            **queries.session_tally(session),
            "unreachable": queries.upstream_unreachable(state),
        },
    )


@require_POST
@requires("start_downtime_working")
def node_reconcile(request):
    if follower_state() is None:
        messages.error(request, "This is not a practice node: there is nothing to send.")
        return redirect("downtime:node")
    try:
        summary = reconcile()
    except ReconcileError as exc:
        messages.error(request, f"The main system could not take the entries yet: {exc}")
    else:
        messages.success(request, summary.line)
    return redirect("downtime:node")
