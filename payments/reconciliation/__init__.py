"""Reconciliation of the trail against a payment provider's settlement file.

`settlement_format` reads the file (columns, mappings, one line at a time), `matching` pairs lines
with the trail's payment events (pure Python), `models`/`services`/`selectors` keep a run and its
findings, and `workflows`/`activities` run it through Temporal in chunks.
"""
