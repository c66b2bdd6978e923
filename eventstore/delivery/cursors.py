"""The commit cursor: an opaque text for a place in the store's commit-consistent order
(transaction id, position), as the feed hands it out and a subscription accepts it as its start."""


from eventstore.events import START, Checkpoint

# Places in the store's commit-consistent order (the feed): "c", the transaction id and the position
# in hex, joined by ".". Every such string names a place, so any cursor this API gave out stays valid.
COMMIT_CURSOR_PATTERN = r"^c[0-9a-f]{1,15}\.[0-9a-f]{1,15}$"


def commit_cursor(checkpoint: Checkpoint) -> str:
    return f"c{checkpoint.transaction_id:x}.{checkpoint.position:x}"


def commit_place(cursor: str | None) -> Checkpoint:
    """The place a validated cursor names; the start of the store without one."""
    if not cursor:
        return START
    transaction_id, position = cursor[1:].split(".")
    return Checkpoint(int(transaction_id, 16), int(position, 16))
