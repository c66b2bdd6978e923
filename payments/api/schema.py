"""What the OpenAPI schema says of a payment command beyond each field on its own, so that a request
matching the schema is one the API accepts (a business rule may still refuse it, e.g. a refund of
more than is left): which fields each command type requires, and which amounts each currency admits
(no more decimals than its minor units, greater than zero, within the per-payment limit).

Built from the domain's own rules when the schema is generated (drf-spectacular extension), never
written by hand.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension

from eventstore.web.query_fields import NO_NUL_PATTERN
from payments.domain import CommandType, currencies_by_minor_units

# Greater than zero, at most 11 integer digits (the domain allows up to MAX_AMOUNT, 12 digits: the
# schema promises a little less than the server accepts), at most `units` decimals.
_WHOLE = r"[1-9][0-9]{0,10}"


def amount_pattern(units: int) -> str:
    if units == 0:
        return rf"^{_WHOLE}$"
    return rf"^({_WHOLE}(\.[0-9]{{1,{units}}})?|0\.[0-9]{{0,{units - 1}}}[1-9])$"


ANY_AMOUNT_PATTERN = amount_pattern(max(currencies_by_minor_units()))
# ISO 8601 with an offset, days 1 to 28 of years 1970 to 2099: a little less than the server accepts,
# so that every time matching it parses (whether it lies in the future is a business rule, 422).
OCCURRED_AT_PATTERN = (r"^(19[7-9][0-9]|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
                       r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$")


def _one_of(values: list[str]) -> dict:
    """A pattern rather than an enum: drf-spectacular turns every enum into a shared component,
    which would merge the groups."""
    return {"type": "string", "pattern": f"^({'|'.join(values)})$"}


def _amounts_by_currency() -> list[dict]:
    return [
        {"properties": {"currency": _one_of(codes), "amount": {"type": "string", "pattern": amount_pattern(units)}}}
        for units, codes in currencies_by_minor_units().items()
    ]


def _command_rules() -> list[dict]:
    amounts = _amounts_by_currency()
    refund_in_the_payments_currency = {"not": {"required": ["currency"]},
                                       "properties": {"amount": {"type": "string", "pattern": ANY_AMOUNT_PATTERN}}}
    return [
        {"title": "CREATE", "properties": {"type": _one_of([CommandType.CREATE.value])},
         "required": ["amount", "currency"], "anyOf": amounts},
        {"title": "REFUND", "properties": {"type": _one_of([CommandType.REFUND.value])},
         "required": ["payment_id", "amount"], "anyOf": [*amounts, refund_in_the_payments_currency]},
        {"title": "CANCEL", "properties": {"type": _one_of([CommandType.CANCEL.value])},
         "required": ["payment_id"],  # an amount and currency, if sent, are checked all the same
         "anyOf": [*amounts, {"not": {"required": ["currency"]}}, {"not": {"required": ["amount"]}}]},
    ]


class PaymentCommandSchema(OpenApiSerializerExtension):
    target_class = "payments.api.serializers.PaymentCommandSerializer"

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target_class, direction, bypass_extensions=True)
        schema["properties"]["currency"] = {
            "type": "string", "enum": sorted(code for codes in currencies_by_minor_units().values() for code in codes),
            "description": schema["properties"]["currency"].get("description", ""),
        }
        schema["properties"]["amount"].update(pattern=ANY_AMOUNT_PATTERN)
        schema["properties"]["occurred_at"].update(pattern=OCCURRED_AT_PATTERN, format="date-time")
        for text in ("description", "correlation_id"):
            schema["properties"][text].update(pattern=NO_NUL_PATTERN)
        schema["oneOf"] = _command_rules()
        return schema
