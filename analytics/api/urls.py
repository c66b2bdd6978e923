from django.urls import path

from analytics.api import views

urlpatterns = [
    path("analytics/statistics/", views.StatisticsView.as_view(), name="analytics-statistics"),
    path("analytics/trends/", views.TrendsView.as_view(), name="analytics-trends"),
    path("analytics/statement/", views.StatementView.as_view(), name="analytics-statement"),
    path("analytics/statement/csv/", views.StatementCsvView.as_view(), name="analytics-statement-csv"),
    path("analytics/statement/json/", views.StatementJsonView.as_view(), name="analytics-statement-json"),
    path("analytics/statement/xlsx/", views.StatementXlsxView.as_view(), name="analytics-statement-xlsx"),
    path("metrics/workflows/", views.WorkflowMetricsView.as_view(), name="workflow-metrics"),
]
