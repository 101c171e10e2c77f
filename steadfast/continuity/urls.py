from django.urls import path

from steadfast.continuity import views

app_name = "continuity"
urlpatterns = [
    path("downtime/", views.downtime, name="downtime"),
    path("downtime/pack/", views.download, name="download"),
    path("downtime/offline/", views.offline_copy, name="offline_copy"),
    path("downtime/status/", views.status, name="status"),
    path("downtime/opens/", views.record_opens, name="record_opens"),
    path("downtime/service-worker.js", views.service_worker, name="service_worker"),
    path("downtime/passphrase/", views.passphrase, name="passphrase"),
]
