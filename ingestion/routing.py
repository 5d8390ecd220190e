from django.urls import path

from ingestion.consumers import DocumentProgressConsumer

websocket_urlpatterns = [path("ws/ingestion/progress/", DocumentProgressConsumer.as_asgi())]
