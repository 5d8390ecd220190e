from django.urls import path

from ingestion import views

urlpatterns = [
    path("documents/<int:document_id>/", views.document_detail, name="document_detail"),
    path("documents/<int:document_id>/original/", views.document_download, name="document_download"),
]
