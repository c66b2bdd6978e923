"""Who wrote an event: the authenticated principal, stamped by the server. Pure Python, no Django,
so workflows may import it."""

from dataclasses import asdict, dataclass, fields

KINDS = ("user", "api_token", "management_command", "schedule", "system", "temporal_client", "unknown")


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str
    name: str = ""
    channel: str = ""
    credential: str = ""
    session: str = ""
    on_behalf_of: str = ""

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value or key in ("kind", "id")}

    @classmethod
    def from_dict(cls, data: dict) -> "Actor":
        known = {each.name for each in fields(cls)}
        return cls(**{key: str(value) for key, value in (data or {}).items() if key in known})


UNKNOWN = Actor(kind="unknown", id="")
