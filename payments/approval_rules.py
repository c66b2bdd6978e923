"""Which refunds and cancels need a second person: an organization's approval policy as pure rules.
No Django, so the rules read the same in an activity, a view and a test."""

from dataclasses import dataclass
from decimal import Decimal

from payments.domain import CommandType, money

DEFAULT_TIMEOUT_SECONDS = 72 * 3600


@dataclass(frozen=True)
class ApprovalRule:
    """A command type that needs approval: always (no threshold), or from `threshold` in `currency`.
    An empty currency means every currency (only without a threshold)."""

    command_type: str  # REFUND or CANCEL
    currency: str = ""
    threshold: Decimal | None = None

    def covers(self, command_type: str, amount: Decimal, currency: str) -> bool:
        if command_type != self.command_type or (self.currency and self.currency != currency):
            return False
        return self.threshold is None or amount >= self.threshold

    def describe(self) -> str:
        what = "every refund" if self.command_type == CommandType.REFUND else "every cancel"
        if self.threshold is None:
            return what + (f" in {self.currency}" if self.currency else "")
        return f"{what} from {money(self.threshold)} {self.currency}"


def rule_for(rules: list[ApprovalRule], command_type: str, amount: Decimal, currency: str) -> ApprovalRule | None:
    """The first rule that puts the command under four-eyes control, or None."""
    return next((rule for rule in rules if rule.covers(command_type, amount, currency)), None)
