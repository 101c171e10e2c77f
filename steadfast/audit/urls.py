from django.urls import path

from steadfast.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.search, name="search"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("break-glass/<uuid:patient_id>/", views.break_glass, name="break_glass"),
]
