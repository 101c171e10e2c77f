from django.urls import path

from steadfast.continuity.downtime import views

app_name = "downtime"
urlpatterns = [
    path("reconcile/", views.worklist, name="worklist"),
    path("reconcile/<uuid:entry_id>/", views.entry, name="entry"),
    path("downtime-working/", views.node, name="node"),
    path("downtime-working/reconcile/", views.node_reconcile, name="node_reconcile"),
]
