"""Reads of the ledger's tables: the leaves other read paths join to events, and signed tree heads."""

from dataclasses import dataclass
from typing import Iterator

from eventstore.ledger.models import LedgerEntry, TreeHead
from eventstore.replica import read_alias
from eventstore.selectors import fetch_rows

# Fixed text, one array parameter: a page's lookup is prepared once per connection (the ORM's `__in`
# over a page of positions cost more to compile than to run).
_INDEXES = (f"SELECT position, ledger_index FROM {LedgerEntry._meta.db_table} "
            "WHERE position = ANY(%s::bigint[])")


def ledger_indexes(positions: list[int]) -> dict[int, int | None]:
    """Each position's ledger index, None for an event not yet in the ledger."""
    found = dict(fetch_rows(_INDEXES, [list(positions)])) if positions else {}
    return {position: found.get(position) for position in positions}


def head_of_size(tree_size: int) -> TreeHead | None:
    """The signed head of exactly `tree_size` leaves, if one was signed."""
    return TreeHead.objects.filter(tree_size=tree_size).first()


def heads_newest_first(*, smaller_than: int | None = None, limit: int) -> list[TreeHead]:
    """Up to `limit` signed heads, newest first, each smaller than `smaller_than` if given."""
    heads = TreeHead.objects.order_by("-tree_size")
    if smaller_than is not None:
        heads = heads.filter(tree_size__lt=smaller_than)
    return list(heads[:limit])


def signed_sizes_below(tree_size: int) -> Iterator[int]:
    """The size of every signed head smaller than `tree_size`, smallest first."""
    sizes = TreeHead.objects.filter(tree_size__lt=tree_size).order_by("tree_size").values_list("tree_size", flat=True)
    return sizes.iterator()


def heads_smaller_than(tree_size: int) -> Iterator[TreeHead]:
    """Every signed head smaller than `tree_size`, smallest first."""
    return TreeHead.objects.filter(tree_size__lt=tree_size).order_by("tree_size").iterator()


def head_covering(ledger_index: int) -> TreeHead | None:
    """The first signed head that includes leaf `ledger_index`."""
    return TreeHead.objects.filter(tree_size__gt=ledger_index).order_by("tree_size").first()


@dataclass(frozen=True)
class LedgerPlace:
    ledger_index: int
    head: TreeHead | None  # the first signed head that holds the event


def ledger_places(positions: list[int]) -> dict[int, LedgerPlace]:
    """Where events stand in the ledger: their index and the first signed head that includes them, in
    one query however many events (each entry joined to its first head)."""
    if not positions:
        return {}
    heads: dict[int, TreeHead] = {}
    places = {}
    for position, index, *head in fetch_rows(_PLACES_SQL, [positions]):
        if head[0] is not None and head[0] not in heads:
            heads[head[0]] = TreeHead.from_db(read_alias(), _HEAD_COLUMNS, head)
        places[position] = LedgerPlace(index, heads.get(head[0]))
    return places


_HEAD_COLUMNS = [field.attname for field in TreeHead._meta.concrete_fields]
_PLACES_SQL = f"""
    SELECT entry.position, entry.ledger_index, {', '.join(f'head.{column}' for column in _HEAD_COLUMNS)}
    FROM eventstore_ledgerentry AS entry
    LEFT JOIN LATERAL (SELECT * FROM eventstore_treehead WHERE tree_size > entry.ledger_index
                       ORDER BY tree_size LIMIT 1) AS head ON true
    WHERE entry.position = ANY(%s)"""
