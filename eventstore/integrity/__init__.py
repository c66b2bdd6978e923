"""Tamper evidence inside the database: `verify_event_chain` walks every stream's hash chain and
stream head, checks positions and seals, and records each run and a new seal (the full pass), or
checks what was appended since the last verified point (the incremental pass)."""
