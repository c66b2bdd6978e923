"""Request parsing: JSON numbers with a fraction become Decimal, never float."""

import json
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser


class DecimalJSONParser(JSONParser):
    """JSON numbers with a fraction become Decimal, not float: 10.10 stays exactly 10.10."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(stream.read().decode(encoding), parse_float=Decimal, parse_constant=_reject_constant)
        except RequestDataTooBig:
            raise
        except ValueError as error:
            raise exceptions.ParseError(_("Malformed JSON: %(error)s") % {"error": error}) from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")
