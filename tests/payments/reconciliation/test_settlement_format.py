"""Reading settlement lines: the providers' headers mapped to ours, and each rule a line can break
named with its line number."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from payments.reconciliation.settlement_format import FileRefused, LineRefused, Reader, choose_mapping

STRIPE = ("automatic_payout_id,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,"
          "payment_metadata[payment_id]\n"
          "po_1,txn_1,2026-11-02 09:30:00,eur,125.00,1.75,123.25,charge,ch_1,payment-7\n"
          "po_1,txn_2,2026-11-03 10:00:00,eur,-20.00,0.00,-20.00,refund,re_1,7\n"
          "po_1,txn_3,2026-11-04 00:00:00,eur,-100.00,0.00,-100.00,payout,po_1,\n")
ADYEN = ("Company Account,Merchant Account,Psp Reference,Merchant Reference,Type,Creation Date,Gross Currency,"
         "Gross Debit (GC),Gross Credit (GC),Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),"
         "Scheme Fees (NC),Interchange (NC),Batch Number\n"
         "Acme,AcmeEUR,8815,payment-9,Settled,2026-11-02 09:30:00,EUR,,50.00,,49.10,0.10,0.20,0.30,0.30,42\n"
         "Acme,AcmeEUR,8816,payment-9,Chargeback,2026-11-05 12:00:00,EUR,50.00,,65.00,,15.00,,,,43\n"
         "Acme,AcmeEUR,8817,,MerchantPayout,2026-11-06 08:00:00,EUR,49.10,,49.10,,,,,,43\n")


def read_all(text: str, wanted: str = "auto"):
    rows = list(csv.reader(io.StringIO(text)))
    reader = Reader(rows[0], choose_mapping(rows[0], wanted))
    return reader.mapping.name, [reader.read(number, cells) for number, cells in enumerate(rows[1:], start=2)]


def test_stripe_and_adyen_reports_are_read_through_their_mappings():
    name, (charge, refund, payout) = read_all(STRIPE)
    assert name == "stripe" and payout is None
    assert (charge.reference, charge.kind, charge.gross, charge.fee, charge.net, charge.currency, charge.booking_date,
            charge.payout_id, charge.provider_reference) == (
        "payment-7", "charge", Decimal("125.00"), Decimal("1.75"), Decimal("123.25"), "EUR", date(2026, 11, 2),
        "po_1", "ch_1")
    assert (refund.reference, refund.kind, refund.gross) == ("payment-7", "refund", Decimal("-20.00"))

    name, (settled, chargeback, payout) = read_all(ADYEN)
    assert name == "adyen" and payout is None
    assert (settled.gross, settled.fee, settled.net, settled.payout_id) == (
        Decimal("50.00"), Decimal("0.90"), Decimal("49.10"), "42")
    assert (chargeback.kind, chargeback.gross, chargeback.fee, chargeback.net) == (
        "chargeback", Decimal("-50.00"), Decimal("15.00"), Decimal("-65.00"))


@pytest.mark.parametrize("line, message", [
    ("payment-1,charge,12.5x,0,12.5x,EUR,2026-11-02,po", "Line 2: gross '12.5x' is not a decimal amount"),
    ("payment-1,charge,12.505,0,12.505,EUR,2026-11-02,po", "Line 2: gross 12.505 has more decimals than the "
                                                           "currency's 2"),
    ("payment-1,charge,10.00,1.00,8.00,EUR,2026-11-02,po", "Line 2: net 8.00 is not gross 10.00 minus fee 1.00"),
    ("payment-1,refund,10.00,0,10.00,EUR,2026-11-02,po", "Line 2: a refund's gross must be negative"),
    ("payment-1,payout,10.00,0,10.00,EUR,2026-11-02,po", "Line 2: unknown kind 'payout'"),
    ("payment-1,charge,10.00,0,10.00,EUX,2026-11-02,po", "Line 2: currency 'EUX' is not an ISO 4217 code"),
    ("payment-1,charge,10.00,0,10.00,EUR,02/11/2026,po", "Line 2: booking date '02/11/2026' is not a date"),
    (",charge,10.00,0,10.00,EUR,2026-11-02,po", "Line 2: a charge needs a reference"),
    ("payment 1,charge,10.00,0,10.00,EUR,2026-11-02,po", "Line 2: reference 'payment 1' is not a payment id"),
    ("payment-1,charge,10.00", "Line 2: 3 cells where the header has 8"),
])
def test_a_line_that_breaks_a_rule_is_refused_with_its_line_number(line, message):
    with pytest.raises(LineRefused, match=message.replace("(", r"\(")):
        read_all(f"reference,kind,gross,fee,net,currency,booking_date,payout_id\n{line}\n")


def test_unknown_columns_name_what_is_missing():
    with pytest.raises(FileRefused, match="lacks kind, gross, fee, net, currency, booking_date, payout_id"):
        choose_mapping(["reference", "amount"])
    with pytest.raises(FileRefused, match="lacks the adyen columns Merchant Reference"):
        choose_mapping(["reference", "kind", "gross", "fee", "net", "currency", "booking_date", "payout_id"], "adyen")
