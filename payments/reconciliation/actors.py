"""Who acted on a reconciliation, as its events name them (metadata.actor): the authenticated user
and the channel they came through, taken from the request, never from what a client sent."""


def user_actor(user, channel: str) -> dict:
    """`channel` is "admin" or "api"."""
    return {"kind": "user", "id": str(user.pk), "name": user.get_username(), "channel": channel}
