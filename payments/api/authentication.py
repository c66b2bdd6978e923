"""`Authorization: Token <key>` with the API tokens of `payments.tokens`: several per user, each
limited to organizations and roles, with an expiry. An expired, revoked or unknown key is a 401 that
says which; a header in another scheme is refused as `eventstore.web.authentication` does."""

from rest_framework.exceptions import AuthenticationFailed

from eventstore.web.authentication import TokenAuthentication
from payments import tokens


class ApiTokenAuthentication(TokenAuthentication):
    """Answers (user, token): `request.auth` is the `ApiToken` (its `credential_id` names it), and the
    user carries it too, so that `payments.selectors.visible_organizations(user)` narrows to its scope."""

    def authenticate_credentials(self, key):
        try:
            token = tokens.authenticated_token(key)
        except tokens.TokenRefused as refusal:
            raise AuthenticationFailed(str(refusal)) from None
        if not token.user.is_active:
            raise AuthenticationFailed("The user of this API token is inactive.")
        setattr(token.user, tokens.ATTRIBUTE, token)
        return token.user, token
