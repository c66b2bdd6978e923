"""English and French: the reader picks the language in the admin's header (or the browser's
Accept-Language picks it), and the pages, figures and the API's error messages follow."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import translation

from payments.models import PaymentSummary, money_label

pytestmark = pytest.mark.django_db

NARROW_NBSP, NBSP = "\N{NARROW NO-BREAK SPACE}", "\N{NO-BREAK SPACE}"
NOT_COMPILED = "no French: is locale/fr/LC_MESSAGES/django.mo compiled? `make install` compiles it"


@pytest.fixture
def payment():
    moment = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)
    return PaymentSummary.objects.create(
        payment_id="payment-fr-1", organization_id="org-paris", user_id="amelie", amount=Decimal("1234.50"),
        refunded=Decimal("0"), currency="EUR", status="PROCESSED", description="Facture 2026-0042",
        created_at=moment, updated_at=moment, occurred_at=moment, version=1, last_position=1)


def test_money_is_written_the_readers_way():
    with translation.override("en"):
        assert money_label(Decimal("1234.5"), "EUR") == "1,234.50 EUR"
        assert money_label(Decimal("30230"), "JPY") == "30,230 JPY"
    with translation.override("fr"):
        assert money_label(Decimal("1234.5"), "EUR") == f"1{NARROW_NBSP}234,50{NBSP}€"
        assert money_label(Decimal("-1234567.891"), "BHD") == f"-1{NARROW_NBSP}234{NARROW_NBSP}567,891{NBSP}BHD"


def test_a_finance_user_switches_the_admin_to_french(client, finance_user, payment):
    client.force_login(finance_user)
    english = client.get("/admin/payments/paymentsummary/").content.decode()
    assert 'id="language-form"' in english and "1,234.50 EUR" in english and "Payment id" in english

    chosen = client.post("/i18n/setlang/", {"language": "fr", "next": "/admin/payments/paymentsummary/"})
    assert chosen.status_code == 302 and chosen["Location"] == "/admin/payments/paymentsummary/"
    page = client.get("/admin/payments/paymentsummary/").content.decode()
    assert "Identifiant de paiement" in page, NOT_COMPILED
    assert f"1{NARROW_NBSP}234,50{NBSP}€" in page  # "1 234,50 €"
    assert "Encaissé" in page and "Exporter en XLSX" in page and "Piste d’audit des paiements" in page
    assert '<option value="fr" selected>Français</option>' in page

    detail = client.get("/admin/payments/paymentsummary/payment-fr-1/change/").content.decode()
    assert "Montant" in detail and f"1{NARROW_NBSP}234,50{NBSP}€" in detail and "29/03/2026 09:30:00 UTC" in detail

    statement = client.get("/admin/analytics/statement/").content.decode()
    assert "Relevé de période" in statement and "Survenus du" in statement


def test_the_api_answers_in_the_language_asked(client, tenants):
    anonymous = client.get("/api/payments/", HTTP_ACCEPT_LANGUAGE="fr")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["message"].startswith("Aucun identifiant n’a été fourni"), NOT_COMPILED
    assert client.get("/api/payments/", HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"].startswith(
        "No credentials were provided")

    refused = tenants.acme.get("/api/analytics/statement/", {"organization_id": "org-acme", "from": "2024-02-01T00:00:00Z",
                                                             "to": "2024-01-01T00:00:00Z"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Saisie invalide\N{NO-BREAK SPACE}: from: « from » doit précéder « to »."
    missing = tenants.acme.get("/api/analytics/statement/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Ce champ est obligatoire." in missing.json()["error"]["message"]  # DRF's own, translated by DRF
    unknown = client.get("/api/nowhere/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert unknown.status_code == 404 and unknown.json()["error"]["message"].startswith("Aucun point d’accès")


def test_the_approvals_queue_tokens_and_codec_answers_speak_french(client, finance_user):
    client.force_login(finance_user)
    client.post("/i18n/setlang/", {"language": "fr", "next": "/admin/"})
    queue = client.get("/admin/payments/approval/").content.decode()
    assert "En attente de ma décision" in queue and "Demandées par moi" in queue, NOT_COMPILED
    tokens = client.get("/admin/payments/apitoken/add/").content.decode()
    assert "Rôles" in tokens and "Toutes les organisations" in tokens and "Expire le" in tokens

    refused = client.post("/codec/decode", {"payloads": []}, content_type="application/json",
                          HTTP_ACCEPT_LANGUAGE="fr")
    assert refused.status_code == 403
    assert "requiert la permission eventstore.decode_temporal_payloads" in refused.json()["error"]["message"]
