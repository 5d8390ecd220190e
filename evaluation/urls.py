from django.urls import path

from evaluation import views

urlpatterns = [
    path("evaluation/", views.dashboard, name="evaluation_dashboard"),
    path("evaluation/demo-run/", views.demo_run, name="evaluation_demo_run"),
]
