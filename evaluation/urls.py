from django.urls import path

from evaluation import views

urlpatterns = [path("evaluation/", views.dashboard, name="evaluation_dashboard")]
