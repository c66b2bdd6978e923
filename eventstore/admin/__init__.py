"""The store's admin, read-only: nobody, superusers included, may add, change or delete. One module
per part of the store; importing this package registers them all (Django's admin autodiscovery)."""

from eventstore.admin import erasure, events, exports, integrity, ledger, projections, webhooks  # noqa: F401
