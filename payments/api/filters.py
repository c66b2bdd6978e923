import django_filters

from payments.domain import PaymentStatus
from payments.models import PaymentSummary


class PaymentSummaryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=[(status.value, status.value) for status in PaymentStatus])
    currency = django_filters.CharFilter(lookup_expr="iexact")
    organization_id = django_filters.CharFilter()
    user_id = django_filters.CharFilter()
    created_from = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_to = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    max_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="lte")

    class Meta:
        model = PaymentSummary
        fields = ["status", "currency", "organization_id", "user_id"]
