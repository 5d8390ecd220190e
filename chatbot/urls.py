from django.urls import path

from chatbot import views

urlpatterns = [
    path("", views.chat, name="chat"),
    path("c/<int:conversation_id>/", views.chat, name="conversation"),
    path("c/<int:conversation_id>/rename/", views.rename, name="conversation_rename"),
    path("c/<int:conversation_id>/delete/", views.delete, name="conversation_delete"),
    path("answers/<int:message_id>/feedback/", views.feedback, name="answer_feedback"),
]
