"""What an API token's roles allow (`payments.tokens`): every role reads; a request that changes
something needs the role its view names in `token_role` (default `submit`). Sessions are not limited
by roles: their user's permissions and organizations apply."""

from django.utils.translation import ngettext
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from payments import tokens
from payments.models import ApiToken


class TokenRoleRequired(BasePermission):
    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken) or request.method in SAFE_METHODS:
            return True
        role = getattr(view, "token_role", tokens.SUBMIT)
        if tokens.allows(token, role):
            return True
        raise PermissionDenied(ngettext(
            "This API token (%(token)s) has the role %(roles)s; %(method)s %(path)s needs the role %(role)s "
            "(%(meaning)s). Use a token with that role.",
            "This API token (%(token)s) has the roles %(roles)s; %(method)s %(path)s needs the role %(role)s "
            "(%(meaning)s). Use a token with that role.", len(token.roles)) % {
            "token": token.credential_id, "roles": ", ".join(token.roles), "method": request.method,
            "path": request.path, "role": role, "meaning": tokens.ROLES[role]})
