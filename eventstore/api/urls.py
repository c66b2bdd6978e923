from django.urls import path

from eventstore.api import views

urlpatterns = [
    path("events/", views.EventSearchView.as_view(), name="event-search"),
    path("timelines/<str:correlation_id>/", views.TimelineView.as_view(), name="timeline"),
]
