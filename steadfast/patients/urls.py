from django.urls import path

from steadfast.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.search, name="search"),
    path("register/", views.register, name="register"),
    path("<uuid:patient_id>/", views.detail, name="detail"),
    path("<uuid:patient_id>/restrict/", views.restrict, name="restrict"),
]
