"""What the OpenAPI schema says of a payment command beyond each field on its own, so that a request
matching the schema is one the API accepts (a business rule may still refuse it, e.g. a refund of
more than is left): which fields each command type requires, and which amounts each currency admits
(no more decimals than its minor units, greater than zero, within the per-payment limit).

Built from the domain's own rules when the schema is generated (drf-spectacular extension), never
written by hand.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension

from eventstore.api.queries import NO_NUL_PATTERN
from payments.domain import CommandType, currencies_by_minor_units

# Greater than zero, at most 11 integer digits (the domain allows up to MAX_AMOUNT, 12 digits: the
# schema promises a little less than the server accepts), at most `units` decimals.
_WHOLE = r"[1-9][0-9]{0,10}"


def amount_pattern(units: int) -> str:
    if units == 0:
        return rf"^{_WHOLE}$"
    return rf"^({_WHOLE}(\.[0-9]{{1,{units}}})?|0\.[0-9]{{0,{units - 1}}}[1-9])$"


ANY_AMOUNT_PATTERN = amount_pattern(max(currencies_by_minor_units()))


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
        for text in ("description", "correlation_id"):
            schema["properties"][text].update(pattern=NO_NUL_PATTERN)
        schema["oneOf"] = _command_rules()
        return schema
