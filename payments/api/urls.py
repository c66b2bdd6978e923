from django.urls import path

from payments.api import event_views, feed_views, views, webhook_views

urlpatterns = [
    path("payments/commands/", views.PaymentCommandView.as_view(), name="payment-commands"),
    path("payments/", views.PaymentListView.as_view(), name="payment-list"),
    path("payments/<str:payment_id>/", views.PaymentDetailView.as_view(), name="payment-detail"),
    path("payments/<str:payment_id>/history/", views.PaymentHistoryView.as_view(), name="payment-history"),
    path("payments/<str:payment_id>/state/", views.PaymentStateView.as_view(), name="payment-state"),
    path("events/", event_views.EventSearchView.as_view(), name="event-search"),
    path("feed/", feed_views.FeedView.as_view(), name="feed"),
    path("webhooks/", webhook_views.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<int:pk>/", webhook_views.WebhookDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<int:pk>/pause/", webhook_views.WebhookPauseView.as_view(), name="webhook-pause"),
    path("webhooks/<int:pk>/resume/", webhook_views.WebhookResumeView.as_view(), name="webhook-resume"),
    path("webhooks/<int:pk>/replay/", webhook_views.WebhookReplayView.as_view(), name="webhook-replay"),
    path("webhooks/<int:pk>/deliveries/", webhook_views.WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    path("timelines/<str:correlation_id>/", event_views.TimelineView.as_view(), name="timeline"),
]
