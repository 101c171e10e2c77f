from django.urls import path

from steadfast.practices import views

app_name = "practices"
urlpatterns = [
    path("", views.rota, name="rotas"),
    path("sessions/<int:session_id>/", views.session, name="session"),
    path("sessions/<int:session_id>/end/", views.end_session, name="end_session"),
]
