"""The projection engine: read models that follow the log in commit order, with their checkpoints,
the catch-up loop, lag, rebuild by replay, events set aside, tracking records and snapshots."""
