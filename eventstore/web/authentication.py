"""Token authentication that says which scheme it takes.

DRF's TokenAuthentication ignores an Authorization header in another scheme, so a client sending
`Bearer <key>` is told only that no credentials were provided. This one refuses such a header with a
message that names the scheme the API takes. Which keys are valid is the app's to say: it subclasses
this and answers `authenticate_credentials(key)` (payments.api.authentication).
"""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from eventstore.replica import primary_reads


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`; a header in any other scheme is refused with 401 naming it."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if header and header[0].lower() != self.keyword.lower().encode():
            scheme = header[0].decode("latin-1")[:40]
            raise exceptions.AuthenticationFailed(
                _("The %(scheme)r authorization scheme is not accepted here: send 'Authorization: %(keyword)s <key>' "
                  "(manage.py create_api_token prints a key), or use a session.") % {"scheme": scheme,
                                                                                      "keyword": self.keyword}
            )
        with primary_reads():  # a revoked key is refused at once, however far the read replica lags
            return super().authenticate(request)
