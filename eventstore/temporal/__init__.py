"""The store's side of Temporal: one client per process, the worker's options and sandbox, strict
inputs, errors that cross the boundary, the wire types, and the store's own workflows and activities.
Workflow modules import only the Django-free modules here (messages, errors, inputs)."""
