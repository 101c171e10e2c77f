from django.urls import path

from steadfast.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.search, name="search"),
    path("register/", views.register, name="register"),
    path("<uuid:patient_id>/", views.detail, name="detail"),
    path("<uuid:patient_id>/restrict/", views.restrict, name="restrict"),
    path("<uuid:patient_id>/details/", views.edit_details, name="edit_details"),
    path("<uuid:patient_id>/end-registration/", views.end_registration, name="end_registration"),
    path("<uuid:patient_id>/export/", views.export, name="export"),
]
