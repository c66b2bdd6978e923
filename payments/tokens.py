"""API tokens as credentials: issuing, revoking and checking them, and what a token allows.

A token belongs to one user and may do no more than that user: it is limited to some of the user's
organizations (`organizations`, or `all_organizations`: every one the user may see) and to roles.

| role      | GET (every read) | POST, DELETE (commands, uploads, webhooks) | approve, reject |
|-----------|------------------|--------------------------------------------|-----------------|
| `read`    | yes              | no                                         | no              |
| `submit`  | yes              | yes                                        | no              |
| `approve` | yes              | no                                         | yes             |

Roles add up: a token with `submit` and `approve` does both (a person still never approves their own
request, whatever the token). Every role reads. A view that changes something names the role it needs
in its `token_role` (default `submit`); `payments.api.permissions.TokenRoleRequired` refuses the others.

The key (`tok_ab12cd34_<43 random characters>`) is shown once; the database keeps its SHA-256 (the key
is random enough that a fast hash is safe) and its public beginning, the token's `credential_id`.
"""

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from eventstore.selectors import fetch_rows
from payments.models import ApiToken, Membership, Organization

READ, SUBMIT, APPROVE = "read", "submit", "approve"
ROLES = {
    READ: gettext_lazy("read: GET only"),
    SUBMIT: gettext_lazy("submit: read, and run payment commands and uploads"),
    APPROVE: gettext_lazy("approve: read, and approve or reject requests"),
}
DEFAULT_ROLES = (READ, SUBMIT)
PREFIX = "tok_"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often per token
ATTRIBUTE = "api_token"  # the authenticated user object carries its token here, for `token_of`


class TokenRefused(Exception):
    """The presented key is unknown, expired or revoked; the message says which, without the key."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # the whole key: shown once, stored nowhere


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def default_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.API_TOKEN_DEFAULT_LIFETIME_DAYS)


def allows(token: ApiToken, role: str) -> bool:
    """Whether `token`'s roles allow what `role` stands for (every role reads)."""
    return role == READ or role in token.roles


def check_roles(roles) -> list[str]:
    roles = sorted(set(roles))
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise ValueError(f"Roles are {', '.join(ROLES)}; got {', '.join(unknown) or 'none'}.")
    return roles


def organizations_open_to(user) -> list[str] | None:
    """The organizations a token of `user` may be limited to: the user's (None: every organization)."""
    if user.has_perm("payments.view_all_organizations"):
        return None
    return list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


@transaction.atomic
def issue_api_token(*, user, name: str, roles=DEFAULT_ROLES, organization_ids=(), all_organizations: bool = False,
                    expires_at: datetime | None = None) -> IssuedToken:
    """A new token of `user`: limited to `organization_ids` (which must be among the user's), or
    to every organization the user may see; its key is in the answer and nowhere else."""
    roles = check_roles(roles)
    organization_ids = sorted(set(organization_ids))
    if not all_organizations and not organization_ids:
        raise ValueError("A token needs at least one organization, or every organization of its user.")
    open_to = organizations_open_to(user)
    outside = [org for org in organization_ids if open_to is not None and org not in open_to]
    if outside:
        raise ValueError(f"{user.get_username()} is no member of {', '.join(outside)}.")
    if open_to is None:
        known = set(Organization.objects.filter(id__in=organization_ids).values_list("id", flat=True))
        if unknown := [org for org in organization_ids if org not in known]:
            raise ValueError(f"No organization {', '.join(unknown)}.")
    expires_at = expires_at or default_expiry()
    if expires_at <= timezone.now():
        raise ValueError("The expiry must lie in the future.")
    token, key = _saved_with_new_key(ApiToken(user=user, name=name, roles=roles, all_organizations=all_organizations,
                                              expires_at=expires_at))
    token.organizations.set(organization_ids)
    return IssuedToken(token, key)


def _saved_with_new_key(token: ApiToken) -> tuple[ApiToken, str]:
    """Saves `token` with a fresh key; a public prefix already taken (1 in 4 billion) draws again."""
    for _ in range(5):
        public = PREFIX + secrets.token_hex(4)
        key = f"{public}_{secrets.token_urlsafe(32)}"
        token.prefix, token.key_hash = public, key_digest(key)
        try:
            with transaction.atomic():
                token.save()
        except IntegrityError:
            continue
        return token, key
    raise RuntimeError("Could not draw an unused token prefix.")


def revoke_api_tokens(tokens) -> int:
    """Revoke the tokens of a queryset (those not revoked yet); they are refused from the next request on."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def authenticated_token(key: str) -> ApiToken:
    """The live token whose key this is, with its user, the user's permissions and the organizations
    the token sees, all in one query (nothing is cached between requests, so a revoked token is refused
    from the next request on); marks it used (at most once a minute). Raises TokenRefused."""
    token = _token_with_permissions(key_digest(key))
    if token is None:
        raise TokenRefused("Invalid token: no API token has this key.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRefused(f"This API token ({token.prefix}, {token.name!r}) was revoked on "
                           f"{token.revoked_at:%Y-%m-%d %H:%M} UTC; use another.")
    if token.expires_at <= now:
        raise TokenRefused(f"This API token ({token.prefix}, {token.name!r}) expired on "
                           f"{token.expires_at:%Y-%m-%d %H:%M} UTC; create a new one (manage.py create_api_token).")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)).update(last_used_at=now)
        token.last_used_at = now
    _remember_permissions(token)
    return token


def _token_with_permissions(digest: str) -> ApiToken | None:
    """The token of this key digest with its user, and as `user_permissions`, `group_permissions`,
    `member_of` and `limited_to` the user's permissions (own and through groups), the user's
    organizations and the token's: one statement of fixed text, built once (the ORM compiling its
    four subqueries on every request cost more than running them)."""
    token_columns, user_columns = _columns(ApiToken), _columns(get_user_model())
    rows = fetch_rows(_token_sql(), [digest], using=connection.alias)  # prepared: planned once per connection
    if not rows:
        return None
    row = rows[0]
    width = len(token_columns)
    token = ApiToken.from_db(connection.alias, token_columns, row[:width])
    token.user = get_user_model().from_db(connection.alias, user_columns, row[width:width + len(user_columns)])
    token.user_permissions, token.group_permissions, token.member_of, token.limited_to = row[width + len(user_columns):]
    return token


def _columns(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@functools.cache
def _token_sql() -> str:
    user_model = get_user_model()
    quote, table = connection.ops.quote_name, lambda model: connection.ops.quote_name(model._meta.db_table)
    own, groups = user_model.user_permissions.through, user_model.groups.through
    group_permissions = Group.permissions.through
    permission = (f"SELECT ct.app_label || '.' || p.codename FROM {table(Permission)} AS p"
                  f" JOIN {table(ContentType)} AS ct ON ct.id = p.content_type_id")
    columns = [f"t.{quote(column.column)}" for column in ApiToken._meta.concrete_fields]
    columns += [f"u.{quote(column.column)}" for column in user_model._meta.concrete_fields]
    return f"""
        SELECT {', '.join(columns)},
            ARRAY({permission} JOIN {table(own)} AS own ON own.permission_id = p.id WHERE own.user_id = t.user_id),
            ARRAY({permission} JOIN {table(group_permissions)} AS gp ON gp.permission_id = p.id
                  JOIN {table(groups)} AS ug ON ug.group_id = gp.group_id WHERE ug.user_id = t.user_id),
            ARRAY(SELECT m.organization_id FROM {table(Membership)} AS m WHERE m.user_id = t.user_id),
            ARRAY(SELECT o.organization_id FROM {table(ApiToken.organizations.through)} AS o WHERE o.apitoken_id = t.id)
        FROM {table(ApiToken)} AS t JOIN {table(user_model)} AS u ON u.id = t.user_id
        WHERE t.key_hash = %s"""


def _remember_permissions(token: ApiToken) -> None:
    """Primes the user's permission cache (as Django's ModelBackend fills it on first use) and the
    token's visible organizations (as `payments.selectors.visible_organizations` works them out), from
    what `_token_with_permissions` read."""
    user = token.user
    user._user_perm_cache, user._group_perm_cache = set(token.user_permissions), set(token.group_permissions)
    user._perm_cache = user._user_perm_cache | user._group_perm_cache
    sees_all = (user.is_active and user.is_superuser) or "payments.view_all_organizations" in user._perm_cache
    if token.all_organizations:
        token.visible_organization_ids = None if sees_all else list(token.member_of)
    else:
        token.visible_organization_ids = [org for org in token.limited_to if sees_all or org in token.member_of]


def token_of(user) -> ApiToken | None:
    """The token the user authenticated with in this request (None: a session, or none)."""
    return getattr(user, ATTRIBUTE, None)
