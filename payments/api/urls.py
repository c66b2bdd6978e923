from django.urls import path

from payments.api import views

urlpatterns = [
    path("payments/commands/", views.PaymentCommandView.as_view(), name="payment-commands"),
    path("payments/", views.PaymentListView.as_view(), name="payment-list"),
    path("payments/<str:payment_id>/", views.PaymentDetailView.as_view(), name="payment-detail"),
    path("payments/<str:payment_id>/history/", views.PaymentHistoryView.as_view(), name="payment-history"),
    path("payments/<str:payment_id>/state/", views.PaymentStateView.as_view(), name="payment-state"),
]
