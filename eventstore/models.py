"""The log: the events table and the stream heads recorded apart from it.

Rows are written only by `eventstore.store.append_events`; database triggers (eventstore/sql/)
refuse UPDATE, DELETE and TRUNCATE of events, and keep `Stream` as the per-stream chain head.
The packages around the recorder keep their own tables in their own `models.py`
(`eventstore.apps` loads them with these).
"""

from django.db import models
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _

STREAM_ID_MAX_LENGTH = 200
NAME_MAX_LENGTH = 100


class CurrentTransactionId(models.Func):
    """The 64-bit id of the inserting transaction: readers use it to never skip a late commit."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()


class Event(models.Model):
    position = models.BigIntegerField(_("position"), primary_key=True, help_text=_("Global order, from a sequence."))
    event_id = models.UUIDField(_("event id"), unique=True, help_text=_("Idempotency key of the append."))
    stream_id = models.CharField(_("stream id"), max_length=STREAM_ID_MAX_LENGTH, db_collation="C")
    aggregate_type = models.CharField(_("aggregate type"), max_length=NAME_MAX_LENGTH)
    version = models.PositiveIntegerField(_("version"))
    event_type = models.CharField(_("event type"), max_length=NAME_MAX_LENGTH)
    data = models.JSONField(_("data"))
    metadata = models.JSONField(_("metadata"), default=dict)
    recorded_at = models.DateTimeField(_("recorded at"))
    transaction_id = models.BigIntegerField(_("transaction id"), db_default=CurrentTransactionId(), editable=False)
    prev_hash = models.CharField(_("prev hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["stream_id", "version"], name="eventstore_event_stream_version"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="eventstore_event_version_positive"),
        ]
        indexes = [
            models.Index(fields=["transaction_id", "position"], name="eventstore_event_commit_order"),
            models.Index(fields=["event_type", "recorded_at"], name="eventstore_event_type_time"),
            models.Index(KT("metadata__correlation_id"), "position", name="eventstore_event_correlation"),
            models.Index(KT("metadata__organization_id"), "event_type", "recorded_at",
                         name="eventstore_event_organization"),
        ]

    def __str__(self):
        return f"{self.stream_id} v{self.version} {self.event_type}"


class Stream(models.Model):
    """The head of each stream's hash chain, maintained by a trigger on every insert of events.

    A stream's newest event, or a whole stream, can be removed without breaking the chain that
    remains; comparing with these heads is what catches it.
    """

    stream_id = models.CharField(_("stream id"), primary_key=True, max_length=STREAM_ID_MAX_LENGTH, db_collation="C")
    aggregate_type = models.CharField(_("aggregate type"), max_length=NAME_MAX_LENGTH)
    version = models.PositiveIntegerField(_("version"))
    head_position = models.BigIntegerField(_("head position"))
    head_hash = models.CharField(_("head hash"), max_length=64)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("stream")
        verbose_name_plural = _("streams")
        ordering = ["stream_id"]

    def __str__(self):
        return f"{self.stream_id} at v{self.version}"


DATA_EXPORT, DATA_EXPORTED = "DataExport", "DataExported"  # aggregate and event type (eventstore.exports)


class DataExportManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(event_type=DATA_EXPORTED, aggregate_type=DATA_EXPORT)


class DataExport(Event):
    """The `DataExported` events (`eventstore.exports`): who took data out. A view of the events table,
    no table of its own; `view_dataexport` is the auditors' permission to read it."""

    objects = DataExportManager()

    class Meta:
        proxy = True
        ordering = ["-position"]
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")


class PersonalDataKey(models.Model):
    """One data subject's key (`eventstore.personal_data`), wrapped by the master key, which the database
    never sees. The application role holds no privilege on this table: it reads one subject's key at a
    time, creates and destroys keys only through the functions of `eventstore/sql/`."""

    subject = models.CharField(primary_key=True, max_length=300, db_collation="C")
    key_id = models.UUIDField()
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        default_permissions = ()

    def __str__(self):
        return self.subject


DATA_SUBJECT, PERSONAL_DATA_ERASED = "DataSubject", "PersonalDataErased"  # aggregate and event type (eventstore.erasure)


class PersonalDataErasureManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(event_type=PERSONAL_DATA_ERASED, aggregate_type=DATA_SUBJECT)


class PersonalDataErasure(Event):
    """The `PersonalDataErased` events (`eventstore.erasure`): whose personal data was erased, by whom, why.
    A view of the events table; `erase_personal_data` is the permission to erase."""

    objects = PersonalDataErasureManager()

    class Meta:
        proxy = True
        ordering = ["-position"]
        verbose_name = _("personal data erasure")
        verbose_name_plural = _("personal data erasures")
        permissions = [("erase_personal_data", _("Can erase a data subject's personal data"))]
