"""Who wrote an event: the authenticated principal the server stamps into its metadata as `actor`.

Pure Python, no Django: workflows import it. The fields follow CloudTrail's `userIdentity`: what kind
of principal acted, its id and display name, the channel it came through, the credential it used
(an API token's public id, a short hash of the admin session), and, when one person acts for
another, that person's id (`on_behalf_of`). The acting principal is never a value a client chose:
Django code stamps it where the request was authenticated (`eventstore.web.actors`), and it crosses
Temporal sealed (`eventstore.temporal.actor_seals`).
"""

from dataclasses import asdict, dataclass, fields

KINDS = ("user", "api_token", "management_command", "schedule", "system", "temporal_client", "unknown")
CHANNELS = ("admin", "api", "command_line", "schedule", "temporal")


@dataclass(frozen=True)
class Actor:
    kind: str  # one of KINDS
    id: str  # user pk as text; for temporal_client: the identity Temporal reports; a command's name
    name: str = ""  # display name (username, command name)
    channel: str = ""  # "admin", "api", "command_line", "schedule", "temporal"
    credential: str = ""  # an API token's public id ("tok_..."), or ""
    session: str = ""  # a short, non-secret id of the admin session (a hash of the session key), or ""
    on_behalf_of: str = ""  # when one person acts for another: that person's id

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown actor kind {self.kind!r}; use one of {', '.join(KINDS)}.")
        for field in fields(self):
            if not isinstance(getattr(self, field.name), str):
                raise ValueError(f"The actor's {field.name} must be text.")

    def to_dict(self) -> dict:
        """The metadata form: every field that is set, and always kind and id."""
        return {name: value for name, value in asdict(self).items() if value or name in ("kind", "id")}

    @classmethod
    def from_dict(cls, data: dict) -> "Actor":
        """The actor a metadata `actor` names; ValueError when it is not one."""
        if not isinstance(data, dict):
            raise ValueError("An actor is a JSON object.")
        known = {field.name for field in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Unknown actor fields: {', '.join(sorted(unknown))}.")
        return cls(**{name: data.get(name, "") for name in known})


UNKNOWN = Actor(kind="unknown", id="")  # what events written before actors existed read back with


def management_command(name: str) -> Actor:
    """A management command run by an operator on the command line."""
    return Actor(kind="management_command", id=name, name=name, channel="command_line")


def system(name: str, *, channel: str = "") -> Actor:
    """The application itself (a loader, a schedule's workflow), named for what it is."""
    return Actor(kind="system", id=name, name=name, channel=channel)


# The JSON Schema of a metadata `actor` (the OpenAPI 3.0 subset), for apps' event schemas.
SCHEMA = {
    "type": "object",
    "description": "The authenticated principal that wrote the event, stamped by the server, never by a client.",
    "required": ["kind", "id"],
    "additionalProperties": False,
    "properties": {
        "kind": {"type": "string", "enum": list(KINDS)},
        **{name: {"type": "string"} for name in ("id", "name", "channel", "credential", "session", "on_behalf_of")},
    },
}
