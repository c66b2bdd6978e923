"""deploy/prometheus/alerts.yml: valid rules (promtool check rules), each alert firing on the series
of alerts.test.yml that should fire it and quiet on the others (promtool test rules), and every metric
the rules name exported by the code."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from eventstore.integrity.verification import verify_event_chain
from eventstore.web.metrics import registry
from tests.deploy.conftest import needs

PROMETHEUS = Path(settings.BASE_DIR) / "deploy" / "prometheus"
OUR_METRIC = re.compile(r"\b((?:eventstore|payments)_[a-z_]+)")


def promtool(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *arguments], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)


@needs("promtool")
def test_the_alert_rules_are_valid():
    checked = promtool("check", "rules", "alerts.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr


@needs("promtool")
def test_each_alert_fires_when_it_should_and_only_then():
    tested = promtool("test", "rules", "alerts.test.yml")

    assert tested.returncode == 0, tested.stdout + tested.stderr
    alerts = {rule["alert"] for group in _rules()["groups"] for rule in group["rules"]}
    tested_alerts = set(re.findall(r"alertname: (\w+)", (PROMETHEUS / "alerts.test.yml").read_text()))
    assert tested_alerts == alerts


@pytest.mark.django_db(transaction=True)
def test_every_metric_the_rules_name_is_exported(temporal, client):
    verify_event_chain()  # the verification gauges are absent until a first run
    client.get("/healthz")  # and the request counter until a first request
    exported = {sample.name for family in registry().collect() for sample in family.samples}
    named = {name for group in _rules()["groups"] for rule in group["rules"] for name in OUR_METRIC.findall(rule["expr"])}

    assert named and named <= exported | {f"{name}_total" for name in exported}, named - exported


def _rules() -> dict:
    return yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
