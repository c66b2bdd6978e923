"""Finance staff act from the admin: a refund or cancel requested on a payment's page, and the
decisions of the approvals queue. Both go through the same Temporal paths as the API
(`payments.client`), as the signed-in user. What an approval asks and what its decision did are told
from the approvals read model, amounts and times the reader's way (the workflow's own message is
English with plain decimals)."""

import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from temporalio.service import RPCError

from eventstore.temporal.connection import TemporalUnavailable
from eventstore.temporal.search_attributes import SearchAttributesMissing
from eventstore.web.actors import actor_of_request
from eventstore.web.admin_base import when
from payments import client, selectors
from payments.domain import MAX_DESCRIPTION_LENGTH, CommandType
from payments.messages import ApprovalDecision, PaymentCommandRequest
from payments.models import Approval, money_label

UNAVAILABLE = (TemporalUnavailable, SearchAttributesMissing, client.CommandNotFinished, RPCError)


class PaymentRequestForm(forms.Form):
    command = forms.ChoiceField(label=gettext_lazy("Command"), choices=[
        (CommandType.REFUND.value, gettext_lazy("Request refund")),
        (CommandType.CANCEL.value, gettext_lazy("Request cancel"))])
    amount = forms.CharField(label=gettext_lazy("Amount"), required=False, max_length=40,
                             help_text=gettext_lazy("The refund's amount, e.g. 2000.00."))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=MAX_DESCRIPTION_LENGTH)
    occurred_at = forms.CharField(required=False, max_length=40, label=gettext_lazy("Business time"), help_text=(
        gettext_lazy("When it happened at the bank, ISO 8601 with an offset, e.g. 2024-03-05T10:30:00+01:00; "
                     "empty: now.")))
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)  # a second click runs nothing twice

    def clean(self):
        data = super().clean()
        if data.get("command") == CommandType.REFUND and not data.get("amount"):
            self.add_error("amount", _("A refund needs an amount."))
        return data


def new_request_form() -> PaymentRequestForm:
    return PaymentRequestForm(initial={"key": uuid.uuid4().hex})


def request_command(request, payment, form: PaymentRequestForm) -> None:
    """Run the refund or cancel and tell the outcome with the messages framework."""
    data = form.cleaned_data
    command = PaymentCommandRequest(
        type=data["command"], payment_id=payment.payment_id, organization_id=payment.organization_id,
        user_id=request.user.get_username(), amount=data["amount"] or None, currency=payment.currency,
        description=data["reason"], idempotency_key=f"admin-{data['key']}", occurred_at=data["occurred_at"] or None)
    try:
        result = client.run_command(command, actor=actor_of_request(request),
                                    timeout=settings.API_COMMAND_TIMEOUT_SECONDS)
    except UNAVAILABLE as error:
        messages.error(request, _("The command service did not answer (%(error)s); submit again to retry it "
                                   "safely.") % {"error": error})
        return
    if result.approval_state == "pending":
        approval = selectors.visible_approval(request.user, result.approval_id)
        messages.warning(request, result.message if approval is None else _awaiting(approval))
    elif result.success:
        messages.success(request, result.message)
    else:
        messages.error(request, result.message)


def decide(request, approval, decision: str, reason: str) -> None:
    if decision == "reject" and not reason.strip():
        messages.error(request, _("Give a reason to reject."))
        return
    try:
        result = client.decide(approval.workflow_id, ApprovalDecision(decision, reason),
                               actor=actor_of_request(request), timeout=settings.API_COMMAND_TIMEOUT_SECONDS)
    except (client.DecisionRefused, client.ApprovalClosed, client.InvalidDecision) as error:
        messages.error(request, str(error))
        return
    except UNAVAILABLE as error:
        messages.error(request, _("The command service did not answer (%(error)s); nothing was decided.")
                       % {"error": error})
        return
    if result.success:
        messages.success(request, _approved(approval))
    elif result.approval_state == "rejected":
        messages.success(request, _("Rejected. %(message)s") % {"message": result.message})
    else:
        messages.error(request, result.message)


def _awaiting(approval: Approval) -> str:
    facts = {"amount": money_label(approval.amount, approval.currency), "payment": approval.payment_id,
             "rule": approval.rule, "approval": approval.approval_id, "until": when(approval.expires_at)}
    if approval.command_type == CommandType.CANCEL:
        return _("The cancel of %(amount)s on payment %(payment)s awaits approval by a second person (%(rule)s); "
                 "approval %(approval)s, until %(until)s.") % facts
    return _("The refund of %(amount)s on payment %(payment)s awaits approval by a second person (%(rule)s); "
             "approval %(approval)s, until %(until)s.") % facts


def _approved(approval: Approval) -> str:
    facts = {"amount": money_label(approval.amount, approval.currency), "payment": approval.payment_id}
    if approval.command_type == CommandType.CANCEL:
        return _("Approved: payment %(payment)s is cancelled.") % facts
    return _("Approved: %(amount)s refunded on payment %(payment)s.") % facts
