"""Reads of the ledger's leaves that other read paths join to events."""


from eventstore.ledger.models import LedgerEntry


def ledger_indexes(positions: list[int]) -> dict[int, int | None]:
    """Each position's ledger index, None for an event not yet in the ledger."""
    found = dict(LedgerEntry.objects.filter(position__in=positions).values_list("position", "ledger_index"))
    return {position: found.get(position) for position in positions}
