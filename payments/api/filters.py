from datetime import UTC, datetime

import django_filters

from payments.domain import PaymentStatus
from payments.models import PaymentSummary


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 bound, compared in UTC: any offset RFC 3339 allows (PostgreSQL takes at most 15:59);
    a moment beyond what a datetime holds once in UTC is the earliest or latest there is."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                value = (datetime.min if value.year == datetime.min.year else datetime.max).replace(tzinfo=UTC)
        return super().filter(qs, value)


class PaymentSummaryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=[(status.value, status.value) for status in PaymentStatus])
    currency = django_filters.CharFilter(lookup_expr="iexact")
    organization_id = django_filters.CharFilter()
    user_id = django_filters.CharFilter()
    created_from = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_to = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    max_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="lte")

    class Meta:
        model = PaymentSummary
        fields = ["status", "currency", "organization_id", "user_id"]
