"""The store's events delivered outside: durable subscriptions, the commit cursor the feed hands out,
signed webhooks with their delivery log, and how far each subscriber is behind."""
