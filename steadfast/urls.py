from django.urls import include, path

from steadfast.accounts.views import home
from steadfast.appointments.report_views import reports_csv, reports_page
from steadfast.fhir.api import api as fhir_api

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("steadfast.accounts.urls")),
    path("appointments/", include("steadfast.appointments.urls")),
    path("patients/", include("steadfast.patients.urls")),
    path("audit/", include("steadfast.audit.urls")),
    path("record/", include("steadfast.records.urls")),
    path("continuity/", include("steadfast.continuity.urls")),
    path("continuity/", include("steadfast.continuity.downtime.urls")),
    path("node/", include("steadfast.continuity.node.urls")),
    path("rotas/", include("steadfast.practices.urls")),
    path("reports/", reports_page, name="reports"),
    path("reports/appointments.csv", reports_csv, name="reports_csv"),
    path("fhir/", fhir_api.urls),
]

handler403 = "steadfast.views.forbidden"
handler404 = "steadfast.views.not_found"
handler500 = "steadfast.views.server_error"
