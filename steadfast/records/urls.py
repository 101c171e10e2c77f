from django.urls import path

from steadfast.records import views

app_name = "records"
P = "patients/<uuid:patient_id>/"
urlpatterns = [
    path(P, views.summary, name="summary"),
    path(P + "journal/", views.journal, name="journal"),
    path(P + "consultation/", views.consult, name="consult"),
    path(
        P + "consultations/<uuid:consultation_id>/edit/",
        views.edit_consultation,
        name="edit_consultation",
    ),
    path(P + "medicines/", views.medicines, name="medicines"),
    path(P + "medicines/prescribe/", views.prescribe, name="prescribe"),
    path(P + "medicines/check/", views.medicine_check, name="medicine_check"),
    path(P + "medicines/<uuid:medication_id>/issue/", views.issue, name="issue"),
    path(P + "medicines/<uuid:medication_id>/stop/", views.stop, name="stop"),
    path(P + "allergies/", views.allergies, name="allergies"),
    path(P + "observations/", views.observations, name="observations"),
    path(P + "documents/", views.documents, name="documents"),
    path(P + "documents/attach/", views.attach, name="attach"),
    path(P + "documents/<uuid:document_id>/", views.document_file, name="document"),
    path(P + "alerts/", views.add_flag, name="add_flag"),
    path(
        "appointments/<uuid:appointment_id>/consultation/",
        views.start_consultation,
        name="start_consultation",
    ),
    path("concepts/", views.concepts, name="concepts"),
]
