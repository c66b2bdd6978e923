"""Analytics read models: daily totals of payment events (kept by `analytics.projections`)."""

from django.db import models

from eventstore.models import NAME_MAX_LENGTH


class Amount(models.DecimalField):
    """numeric without a fixed scale: sums keep the scale of the amounts they add, as PostgreSQL's
    own sum() of the events' amounts does."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=1000, decimal_places=0, null=True, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key in ("max_digits", "decimal_places", "null"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def db_type(self, connection):
        return "numeric"


class DailyTotal(models.Model):
    """The events of one type, organization and currency whose time on one basis fell on one day.

    `basis` "business": the day the events occurred (`data.occurred_at`); "recorded": the day the
    store recorded them (for both, `recorded_day` is `day`); "known": the day they occurred, split by
    the day each was recorded, so that a statement "as known at" a recorded time can leave out what
    was recorded later. Days are cut in `time_zone`. A backdated correction adds to its business day's row and to the row of the
    day it was recorded. `through_*` is the last event applied (commit order), so that applying the
    same events again changes nothing.
    """

    basis = models.CharField(max_length=16)
    day = models.DateField()
    recorded_day = models.DateField()
    time_zone = models.CharField(max_length=64)
    organization_id = models.CharField(max_length=100, null=True)
    currency = models.CharField(max_length=16, null=True)
    event_type = models.CharField(max_length=NAME_MAX_LENGTH)
    events = models.BigIntegerField()
    amounts = models.BigIntegerField(help_text="Events with a valid amount.")
    amount_total = Amount()
    amount_min = Amount()
    amount_max = Amount()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    through_transaction = models.BigIntegerField()
    through_position = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["basis", "event_type", "day", "organization_id", "currency", "recorded_day"],
            name="analytics_dailytotal_key", nulls_distinct=False)]
        # One organization's rows (statements), without reading every organization's days as the key
        # would; with their places, so that the newest is read from the index alone.
        indexes = [models.Index(fields=["organization_id", "basis", "event_type", "day", "recorded_day"],
                                include=["through_transaction", "through_position"], name="analytics_dailytotal_org")]

    def __str__(self):
        return f"{self.event_type} {self.basis} {self.day} {self.organization_id} {self.currency}"
