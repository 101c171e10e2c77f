"""The reports page and its CSV download."""

import csv
from datetime import timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from steadfast.accounts.access import requires
from steadfast.appointments import report_charts, reports
from steadfast.audit.services import record

PERIODS = {"4": "4 weeks", "13": "13 weeks", "26": "26 weeks", "52": "52 weeks"}


def _report(request) -> tuple[str, reports.Report]:
    weeks = request.GET.get("weeks", "13")
    weeks = weeks if weeks in PERIODS else "13"
    this_week = reports.week_start(timezone.localdate())
    first = this_week - timedelta(weeks=int(weeks) - 1)
    return weeks, reports.appointment_report(request.user.practice, first, this_week)


@requires("run_reports")
def reports_page(request):
    weeks, report = _report(request)
    record("run_report", user=request.user, detail=f"appointments, {weeks} weeks", read_only=True)
    return render(
        request,
        "appointments/reports.jinja",
        {
            "page_title": "Reports",
            "nav_current": "reports",
            "report": report,
            "chart": report_charts.weekly_bars(report),
            "weeks": weeks,
            "periods": PERIODS,
            "modes": reports.MODES,
            "mode_colours": report_charts.MODE_COLOURS,
            "clinician_types": reports.CLINICIAN_TYPES,
            "statuses": reports.STATUSES,
            "lead_times": reports.LEAD_TIMES,
        },
    )


@requires("run_reports")
def reports_csv(request):
    weeks, report = _report(request)
    record("export_report", user=request.user, detail=f"appointments, {weeks} weeks")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"appointments-{report.first_week.isoformat()}-to-{report.last_week.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    csv.writer(response).writerows(reports.csv_rows(report))
    return response
