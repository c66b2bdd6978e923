from django.urls import path

from payments.api import reconciliations, views

urlpatterns = [
    path("payments/commands/", views.PaymentCommandView.as_view(), name="payment-commands"),
    path("payments/", views.PaymentListView.as_view(), name="payment-list"),
    path("payments/<str:payment_id>/", views.PaymentDetailView.as_view(), name="payment-detail"),
    path("payments/<str:payment_id>/history/", views.PaymentHistoryView.as_view(), name="payment-history"),
    path("payments/<str:payment_id>/state/", views.PaymentStateView.as_view(), name="payment-state"),
    path("approvals/", views.ApprovalListView.as_view(), name="approval-list"),
    path("approvals/<str:approval_id>/", views.ApprovalDetailView.as_view(), name="approval-detail"),
    path("approvals/<str:approval_id>/approve/", views.ApproveView.as_view(), name="approval-approve"),
    path("approvals/<str:approval_id>/reject/", views.RejectView.as_view(), name="approval-reject"),
    path("reconciliations/", reconciliations.ReconciliationImportView.as_view(), name="reconciliation-import"),
    path("reconciliations/<str:reconciliation_id>/", reconciliations.ReconciliationDetailView.as_view(),
         name="reconciliation-detail"),
    path("reconciliations/<str:reconciliation_id>/findings/", reconciliations.FindingListView.as_view(),
         name="reconciliation-findings"),
    path("reconciliations/<str:reconciliation_id>/findings/export/", reconciliations.FindingExportView.as_view(),
         name="reconciliation-findings-export"),
    path("reconciliations/<str:reconciliation_id>/findings/<int:number>/resolve/",
         reconciliations.FindingResolveView.as_view(), name="reconciliation-finding-resolve"),
]
