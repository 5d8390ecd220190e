from django.urls import path

from gaps import views

urlpatterns = [
    path("gaps/", views.report, name="gaps_report"),
    path("gaps/handled/", views.mark_handled, name="gaps_mark_handled"),
]
