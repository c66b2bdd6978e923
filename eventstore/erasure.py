"""Erasing a data subject's personal data (crypto-shredding): its key is destroyed, and the erasure is
recorded as a `PersonalDataErased` event (stream `data-subject-<subject>`, aggregate `DataSubject`):
who (the actor), when (`recorded_at`), on which legal basis and why. Both in one transaction.

From then on every personal field stored under the key reads as `personal_data.ERASED`, everywhere,
since every read opens envelopes with the keys that exist. Nothing stored changes: every hash, seal,
tree head and proof covers the envelopes, so all of them, and every audit bundle exported before or
after, still verify. Copies made while the key existed are dropped or rebuilt in the same transaction:
the stream's snapshots, and the read models of the prompt projections, which the event reaches with
its append (a projection that keeps personal fields refolds the stream's rows on it, as a rebuild
would).

A retention rule (`settings.PERSONAL_DATA_RETENTION`, a list of `{"rule", "subjects", "days"|"until"}`)
holds the subjects whose id starts with `subjects` until a date (`until`, or `days` after the subject's
key was made): an erasure within a hold is refused, naming the rule and the date, and writes nothing.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from eventstore import personal_data
from eventstore.actors import SCHEMA as ACTOR_SCHEMA
from eventstore.actors import Actor
from eventstore.errors import EventStoreError
from eventstore.events import ANY, NewEvent, RecordedEvent
from eventstore.models import DATA_SUBJECT, PERSONAL_DATA_ERASED
from eventstore.projections.engine import apply_with_append
from eventstore.projections.snapshots import drop_snapshots
from eventstore.registry import EventSchemas
from eventstore.store import append_events

AGGREGATE_TYPE = DATA_SUBJECT
STREAM_PREFIX = "data-subject-"
MAX_TEXT = 1000

_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
ERASURE_SCHEMAS = EventSchemas(
    data={PERSONAL_DATA_ERASED: {
        "type": "object",
        "required": ["subject", "key_id", "legal_basis", "reason"],
        "properties": {
            "subject": {"type": "string", "description": "The data subject, e.g. payment:payment-123."},
            "key_id": {"type": "string", "description": "The id of the key destroyed."},
            "aggregate_type": {"type": "string", "description": "The aggregate type of the subject's stream."},
            "stream_id": {"type": "string", "description": "The stream whose personal fields were erased."},
            "legal_basis": {**_TEXT, "description": "e.g. GDPR Art. 17(1)(a)."},
            "reason": {**_TEXT, "description": "Why, e.g. the request's reference."},
        },
    }},
    metadata={
        "type": "object",
        "required": ["actor"],
        "properties": {"actor": ACTOR_SCHEMA},
    },
)
DEFAULT_LEGAL_BASIS = "GDPR Art. 17 (right to erasure)"


class ErasureRefused(EventStoreError):
    """The erasure was not made (nothing to erase, a retention hold, missing reason): nothing written."""


@dataclass(frozen=True)
class RetentionHold:
    rule: str
    until: date


def retention_hold(subject: str, key_made_at: datetime, now: datetime) -> RetentionHold | None:
    """The first retention rule that holds `subject` on `now`, if any."""
    for rule in settings.PERSONAL_DATA_RETENTION:
        if not subject.startswith(rule.get("subjects", "")):
            continue
        if "until" in rule:
            until = date.fromisoformat(rule["until"])
        else:
            until = (key_made_at + timedelta(days=int(rule["days"]))).date()
        if now.date() < until:
            return RetentionHold(str(rule.get("rule", "retention")), until)
    return None


def erase_personal_data(*, subject: str, reason: str, legal_basis: str = DEFAULT_LEGAL_BASIS,
                        actor: Actor) -> RecordedEvent:
    """Destroy `subject`'s key and record the erasure, or raise ErasureRefused having written nothing."""
    reason, legal_basis = (reason or "").strip(), (legal_basis or "").strip()
    if not reason or not legal_basis:
        raise ErasureRefused(gettext("An erasure needs a reason and a legal basis."))
    key = personal_data.subject_keys([subject]).get(subject)
    if key is None:
        raise ErasureRefused(gettext(
            "%(subject)s has no personal data key: nothing to erase (an unknown subject, one erased before, or one "
            "whose events predate encryption and hold their data in plaintext).") % {"subject": subject})
    hold = retention_hold(subject, key.created_at, timezone.now())
    if hold is not None:
        raise ErasureRefused(gettext(
            "The erasure of %(subject)s is refused: the retention rule %(rule)s holds its personal data until "
            "%(until)s.") % {"subject": subject, "rule": repr(hold.rule), "until": hold.until.isoformat()})
    stream = personal_data.stream_of(subject)
    data = {"subject": subject, "key_id": key.key_id, "legal_basis": legal_basis[:MAX_TEXT], "reason": reason[:MAX_TEXT],
            **({"aggregate_type": stream[0], "stream_id": stream[1]} if stream else {})}

    def destroy_key(result) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT eventstore_personal_data_key_erase(%s)", [subject])
            erased = cursor.fetchone()[0]
        if str(erased) != key.key_id:
            raise ErasureRefused(gettext(
                "The key of %(subject)s changed while it was being erased; nothing was erased.") % {"subject": subject})
        if stream:
            drop_snapshots(stream[1])
        apply_with_append(list(result.events))

    result = append_events(stream_id=f"{STREAM_PREFIX}{subject}", aggregate_type=AGGREGATE_TYPE,
                           events=[NewEvent(PERSONAL_DATA_ERASED, data, {})],
                           expected_version=ANY, with_append=destroy_key, actor=actor)
    return result.events[0]
