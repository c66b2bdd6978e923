"""The demo's settlement file: made from the trail of one organization's last month, it reconciles
to exactly its four planted discrepancies."""

import time
from collections import Counter
from datetime import date

import pytest

from config.devstack.demo_settlement import write_demo_settlement
from eventstore.actors import Actor
from payments.models import Organization
from payments.reconciliation import selectors, services
from payments.reconciliation.models import Reconciliation
from tests.payments.reconciliation.settlement_files import record_payment

pytestmark = pytest.mark.django_db(transaction=True)

ORGANIZATION = "org-acme"


def test_the_demo_file_reconciles_to_its_planted_discrepancies(temporal, tmp_path):
    organization = Organization.objects.create(id=ORGANIZATION, name="Acme Corporation")
    for day, amount in enumerate(["120.00", "80.50", "99.99", "1500.00", "42.10"], start=3):
        record_payment(f"payment-demo-t{day}", ORGANIZATION, amount, "EUR", f"2026-10-{day:02d}",
                       refunds=("10.00",) if day == 4 else ())
    record_payment("payment-demo-t9", ORGANIZATION, "60.00", "EUR", "2026-10-09", cancel=True)
    record_payment("payment-demo-t10", "org-globex", "70.00", "EUR", "2026-10-10")
    path = write_demo_settlement(tmp_path, date(2026, 11, 26), [ORGANIZATION, "org-globex"])
    assert path.name == "settlement-org-acme-2026-10.csv"

    with open(path, "rb") as upload:
        run = services.import_settlement_file(organization=organization, upload=upload, file_name=path.name,
                                              actor=Actor(kind="user", id="1", name="demo", channel="admin"))
    deadline = time.monotonic() + 30
    while Reconciliation.objects.get().status != "completed" and time.monotonic() < deadline:
        time.sleep(0.1)
    findings = Counter(selectors.findings(run.reconciliation).values_list("outcome", flat=True))
    assert findings == {"not_in_file": 1, "not_in_trail": 1, "amount_mismatch": 1, "duplicate": 1}
