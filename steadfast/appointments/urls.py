from django.urls import path

from steadfast.appointments import views

app_name = "appointments"
urlpatterns = [
    path("", views.day, name="day"),
    path("day.pdf", views.day_pdf, name="day_pdf"),
    path("arrivals/", views.arrivals, name="arrivals"),
    path("arrivals.pdf", views.arrivals_pdf, name="arrivals_pdf"),
    path("my-list/", views.my_list, name="my_list"),
    path("my-list.pdf", views.my_list_pdf, name="my_list_pdf"),
    path("slots/<uuid:slot_id>/book/", views.book, name="book"),
    path("<uuid:appointment_id>/", views.appointment, name="detail"),
    path("<uuid:appointment_id>/cancel/", views.cancel, name="cancel"),
    path("<uuid:appointment_id>/reschedule/", views.reschedule, name="reschedule"),
    path("<uuid:appointment_id>/status/", views.change_status, name="status"),
]
