"""DRF's throttles, counting anonymous clients per address as eventstore.web.client_address finds it
(behind TRUSTED_PROXY_COUNT proxies), the same address the flood limit and the login lockout use."""

from rest_framework import throttling

from eventstore.web.client_address import client_address


class ClientAddressIdentity:
    def get_ident(self, request):
        return client_address(request)


class AnonRateThrottle(ClientAddressIdentity, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddressIdentity, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(ClientAddressIdentity, throttling.ScopedRateThrottle):
    pass
