"""The store's JSON API: events (search, timelines, inclusion proofs) in `events`, the feed in `feed`,
webhook endpoints in `webhooks`, signed tree heads and consistency proofs in `ledger`; how an event
is shown in `serializers` and how lists of events page in `pages` (which apps' views of events reuse).
Routed by `urls`, under /api/."""
