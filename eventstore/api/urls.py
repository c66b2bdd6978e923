from django.urls import path

from eventstore.api import ledger_views

urlpatterns = [
    path("ledger/heads/", ledger_views.TreeHeadListView.as_view(), name="ledger-heads"),
    path("ledger/heads/latest/", ledger_views.LatestTreeHeadView.as_view(), name="ledger-head-latest"),
    path("ledger/heads/<int:tree_size>/", ledger_views.TreeHeadView.as_view(), name="ledger-head"),
    path("ledger/consistency/", ledger_views.ConsistencyProofView.as_view(), name="ledger-consistency"),
    path("ledger/public-key/", ledger_views.PublicKeyView.as_view(), name="ledger-public-key"),
]
