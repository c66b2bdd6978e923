"""Seals and the record of every chain verification, read-only."""


from django.contrib import admin

from eventstore.integrity.models import ChainVerification, Seal
from eventstore.web.admin_base import ReadOnlyAdmin


@admin.register(Seal)
class SealAdmin(ReadOnlyAdmin):
    list_display = ("id", "sealed_at", "event_count", "hash")
    ordering = ("-id",)
    csv_fields = ("id", "sealed_at", "event_count", "transaction_horizon", "events_digest", "hash")


@admin.register(ChainVerification)
class ChainVerificationAdmin(ReadOnlyAdmin):
    list_display = ("ran_at", "kind", "ok", "events_checked", "streams_checked", "problem_count", "seal_hash")
    list_filter = ("kind", "ok")
    csv_fields = ("ran_at", "kind", "ok", "events_checked", "streams_checked", "problem_count", "seal_hash",
                  "from_transaction", "transaction_horizon", "from_position", "last_position", "from_tree_size",
                  "tree_size")
