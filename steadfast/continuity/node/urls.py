from django.urls import path

from steadfast.continuity.node import views

app_name = "node"
urlpatterns = [
    path("staff", views.staff, name="staff"),
    path("pack", views.pack, name="pack"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<uuid:token_id>/revoke/", views.revoke, name="revoke"),
]
