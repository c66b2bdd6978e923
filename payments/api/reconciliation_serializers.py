"""Reconciliation runs and findings on the API."""

from rest_framework import serializers

from payments.domain import ID_PATTERN
from payments.reconciliation.finding_texts import finding_message
from payments.reconciliation.matching import money
from payments.reconciliation.models import Finding, Reconciliation
from payments.reconciliation.settlement_format import AUTO, MAPPINGS


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The settlement file, CSV in UTF-8 (see the README's Reconciliation).")
    organization_id = serializers.RegexField(
        max_length=100, regex=rf"\A{ID_PATTERN.pattern}\Z", required=False,
        help_text="Whose settlement it is; may be left out by a member of one organization.")
    mapping = serializers.ChoiceField(choices=[AUTO, *MAPPINGS], default=AUTO,
                                      help_text="The file's columns: auto-detected, or native, stripe or adyen.")
    period_start = serializers.DateField(required=False, help_text="First day (UTC) the file covers; default: "
                                                                   "its earliest booking date.")
    period_end = serializers.DateField(required=False, help_text="Last day (UTC) the file covers; default: its "
                                                                 "latest booking date.")

    def validate(self, data):
        given = [name for name in ("period_start", "period_end") if name in data]
        if len(given) == 1:
            raise serializers.ValidationError("Give both period_start and period_end, or neither.")
        if given and data["period_start"] > data["period_end"]:
            raise serializers.ValidationError("period_start is after period_end.")
        return data


class ReconciliationSerializer(serializers.ModelSerializer):
    organization_id = serializers.CharField()
    progress = serializers.FloatField(help_text="0 to 1.")
    findings = serializers.SerializerMethodField(help_text="Findings in all, and those not resolved yet.")
    already_imported = serializers.SerializerMethodField(help_text="True when this file had been imported before: "
                                                                   "this is the earlier run.")

    class Meta:
        model = Reconciliation
        fields = ["id", "organization_id", "file_name", "sha256", "size", "mapping", "period_start", "period_end",
                  "status", "progress", "lines_total", "lines_read", "lines_matched", "file_totals", "summary",
                  "findings", "error", "created_at", "completed_at", "workflow_id", "already_imported"]

    def get_findings(self, run) -> dict:
        findings = Finding.objects.filter(reconciliation=run, number__isnull=False)
        return {"total": findings.count(), "open": findings.filter(resolved_at__isnull=True).count()}

    def get_already_imported(self, run) -> bool:
        return bool(self.context.get("already_imported"))


class FindingSerializer(serializers.ModelSerializer):
    """Amounts as decimal strings with their currency's minor units; the message in the request's
    language (Accept-Language), with its code and parameters for programs."""

    message = serializers.SerializerMethodField(help_text="What differs, in the request's language.")
    message_code = serializers.CharField(help_text="What the message says, as a code; empty for findings "
                                                   "recorded before codes.")
    message_params = serializers.DictField(help_text="The message's parameters: amounts as decimal strings, "
                                                     "dates in ISO 8601.")

    class Meta:
        model = Finding
        fields = ["number", "outcome", "message", "message_code", "message_params", "line_number", "payment_id",
                  "kind", "gross", "fee", "net", "currency", "event_id", "trail_amount", "trail_currency",
                  "resolved_at", "resolved_by", "resolution_note"]

    def get_message(self, finding) -> str:
        return finding_message(finding)

    def to_representation(self, finding):
        answer = super().to_representation(finding)
        for name, currency in (("gross", finding.currency), ("fee", finding.currency), ("net", finding.currency),
                               ("trail_amount", finding.trail_currency)):
            value = getattr(finding, name)
            answer[name] = None if value is None else money(value, currency)
        return answer


class ResolveSerializer(serializers.Serializer):
    note = serializers.RegexField(r"\S", max_length=2000, help_text="How the finding was resolved (not only blanks).")


class ReconciliationPageSerializer(serializers.Serializer):
    results = ReconciliationSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="URL of the next page, or null at the end.")


class FindingPageSerializer(serializers.Serializer):
    results = FindingSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="URL of the next page, or null at the end.")
