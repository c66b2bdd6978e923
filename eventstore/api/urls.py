from django.urls import path

from eventstore.api import events, feed, ledger, webhooks

urlpatterns = [
    path("events/", events.EventSearchView.as_view(), name="event-search"),
    path("events/<uuid:event_id>/proof/", events.EventProofView.as_view(), name="event-proof"),
    path("timelines/<str:correlation_id>/", events.TimelineView.as_view(), name="timeline"),
    path("feed/", feed.FeedView.as_view(), name="feed"),
    path("webhooks/", webhooks.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<int:pk>/", webhooks.WebhookDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<int:pk>/pause/", webhooks.WebhookPauseView.as_view(), name="webhook-pause"),
    path("webhooks/<int:pk>/resume/", webhooks.WebhookResumeView.as_view(), name="webhook-resume"),
    path("webhooks/<int:pk>/replay/", webhooks.WebhookReplayView.as_view(), name="webhook-replay"),
    path("webhooks/<int:pk>/deliveries/", webhooks.WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    path("ledger/heads/", ledger.TreeHeadListView.as_view(), name="ledger-heads"),
    path("ledger/heads/latest/", ledger.LatestTreeHeadView.as_view(), name="ledger-head-latest"),
    path("ledger/heads/<int:tree_size>/", ledger.TreeHeadView.as_view(), name="ledger-head"),
    path("ledger/consistency/", ledger.ConsistencyProofView.as_view(), name="ledger-consistency"),
    path("ledger/public-key/", ledger.PublicKeyView.as_view(), name="ledger-public-key"),
    path("ledger/keys/", ledger.KeyListView.as_view(), name="ledger-keys"),
]
