"""What an API token's roles allow (`payments.tokens`): every role reads; a request that changes
something needs the role its view names in `token_role` (default `submit`). Sessions are not limited
by roles: their user's permissions and organizations apply."""

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
        raise PermissionDenied(
            f"This API token ({token.credential_id}) has the role{'s' if len(token.roles) > 1 else ''} "
            f"{', '.join(token.roles)}; {request.method} {request.path} needs the role {role} "
            f"({tokens.ROLES[role]}). Use a token with that role.")
