"""The Peppol pages: who opens them, another partner's rows are 404, the list in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.peppol.models import AccessPointAccount, EInvoiceSubmission
from tests.billing.peppol.conftest import API_KEY, registrable
from tests.factories.billing import issued

pytestmark = pytest.mark.django_db


def _rejected(tenant, reason: str = "Receiver unknown") -> EInvoiceSubmission:
    invoice = issued(tenant.customer)
    return EInvoiceSubmission.objects.create(
        partner=tenant.partner, customer=tenant.customer, kind="invoice", invoice=invoice, number=invoice.number,
        provider="storecove", receiver_scheme="BE:EN", receiver_id="0202239951", status="rejected",
        rejection_reason=reason,
    )  # fmt: skip


def test_another_partners_submission_is_not_found(tenant, other_tenant, client_for) -> None:
    sub = _rejected(tenant, reason="Alpha secret reason")
    outsider = client_for(other_tenant.finance)
    assert outsider.get(reverse("einvoice_submission_detail", args=[sub.pk])).status_code == 404
    assert outsider.post(reverse("einvoice_submission_retry", args=[sub.pk])).status_code == 404
    assert "Alpha secret reason" not in outsider.get(reverse("einvoice_submission_list")).content.decode()
    sub.refresh_from_db()
    assert sub.status == "rejected"


def test_customers_and_agents_are_refused(tenant, client_for) -> None:
    sub = _rejected(tenant)
    for user in (tenant.customer_admin, tenant.agent):
        page = client_for(user).get(reverse("einvoice_submission_detail", args=[sub.pk]))
        assert page.status_code in (403, 404)
    assert client_for(tenant.finance).get(reverse("peppol_settings")).status_code == 403
    assert client_for(tenant.admin).get(reverse("peppol_settings")).status_code == 200


def test_the_agent_sees_the_status_but_no_link(tenant, client_for) -> None:
    sub = _rejected(tenant)
    page = client_for(tenant.agent).get(reverse("invoice_detail", args=[sub.invoice_id])).content.decode()
    assert 'data-peppol-status="rejected"' in page
    assert "Receiver unknown" in page
    assert reverse("einvoice_submission_detail", args=[sub.pk]) not in page


def test_the_list_filters_searches_and_runs_in_few_queries(tenant, client_for, django_assert_max_num_queries) -> None:
    for _ in range(3):
        _rejected(tenant)
    finance = client_for(tenant.finance)
    with django_assert_max_num_queries(10):
        page = finance.get(reverse("einvoice_submission_list"), {"status": "rejected", "q": "INV", "sort": "number"})
    assert page.status_code == 200
    assert page.content.decode().count("data-submission=") == 3
    assert (
        finance.get(reverse("einvoice_submission_list"), {"status": "delivered"})
        .content.decode()
        .count("data-submission=")
        == 0
    )


def test_the_settings_page_connects_and_shows_the_webhook_address(tenant, storecove, client_for) -> None:
    storecove.keys.add(API_KEY)
    registrable(tenant.partner)
    admin = client_for(tenant.admin)
    response = admin.post(reverse("peppol_settings"), {"api_key": API_KEY})
    assert response.status_code == 302
    page = admin.get(reverse("peppol_settings")).content.decode()
    assert 'data-account-state="active"' in page
    assert f"/webhooks/storecove/{tenant.partner.slug}/" in page
    assert API_KEY not in page
    assert AccessPointAccount.objects.get(partner=tenant.partner).status == "active"


def test_a_refusal_is_shown_on_the_settings_page(tenant, storecove, client_for) -> None:
    registrable(tenant.partner)
    response = client_for(tenant.admin).post(reverse("peppol_settings"), {"api_key": "unknown-key"})
    assert response.status_code == 400
    assert "Storecove refused the registration" in response.content.decode()


def test_the_receiver_check_asks_discovery(tenant, storecove, client_for) -> None:
    storecove.keys.add(API_KEY)
    registrable(tenant.partner)
    client_for(tenant.admin).post(reverse("peppol_settings"), {"api_key": API_KEY})
    storecove.receivers.add(("BE:EN", "0202239951"))
    finance = client_for(tenant.finance)
    found = finance.get(reverse("peppol_receiver_check"), {"scheme": "0208", "identifier": "0202239951"})
    assert 'data-receiver-result="ok"' in found.content.decode()
    missing = finance.get(reverse("peppol_receiver_check"), {"scheme": "0208", "identifier": "0999999999"})
    assert 'data-receiver-result="nok"' in missing.content.decode()


def test_a_peppol_customer_without_identifier_is_warned(tenant) -> None:
    from partner_portal.models import EinvoiceFormat
    from partner_portal.selectors import einvoice_gaps
    from partner_portal.tenancy import Scope

    tenant.customer.einvoice_format = EinvoiceFormat.PEPPOL
    tenant.customer.save()
    scope = Scope(membership=tenant.finance.membership)
    assert "Peppol identifier" in einvoice_gaps(scope=scope, customer=tenant.customer).customer


def test_staff_download_the_evidence_of_a_delivered_document(
    connected, storecove, client_for, django_capture_on_commit_callbacks
) -> None:
    import json

    with django_capture_on_commit_callbacks(execute=True):
        invoice = issued(connected.customer)
    sub = EInvoiceSubmission.objects.get(invoice=invoice)
    url = reverse("einvoice_submission_evidence", args=[sub.pk])
    finance = client_for(connected.finance)
    # Not delivered yet: no link, and asking anyway says why.
    assert url not in finance.get(reverse("einvoice_submission_detail", args=[sub.pk])).content.decode()
    answer = finance.get(url, follow=True)
    assert "Only a delivered document has delivery evidence." in answer.content.decode()
    from billing.peppol.services import webhook_apply

    webhook_apply(
        partner_id=connected.partner.pk, body=json.dumps(storecove.webhook(sub.provider_guid, "succeeded")).encode()
    )
    for user in (connected.finance, connected.admin):
        staff = client_for(user)
        assert url in staff.get(reverse("einvoice_submission_detail", args=[sub.pk])).content.decode()
        assert url in staff.get(reverse("einvoice_submission_list")).content.decode()
        download = staff.get(url)
        assert download.status_code == 200
        assert download["Content-Type"] == "application/json"
        assert f'filename="peppol-evidence-{invoice.number.lower()}' in download["Content-Disposition"]
        evidence = json.loads(download.content)
        assert evidence["guid"] == sub.provider_guid
        assert evidence["evidence"]["message_id"]
    assert ("GET", f"/document_submissions/{sub.provider_guid}/evidence/sending", None) in storecove.requests
    assert client_for(connected.agent).get(url).status_code in (403, 404)


def test_evidence_storecove_does_not_have_is_explained(
    connected, storecove, client_for, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invoice = issued(connected.customer)
    sub = EInvoiceSubmission.objects.get(invoice=invoice)
    EInvoiceSubmission.objects.filter(pk=sub.pk).update(status="delivered")  # delivered here, not at Storecove
    answer = client_for(connected.finance).get(reverse("einvoice_submission_evidence", args=[sub.pk]), follow=True)
    assert answer.status_code == 200
    assert "Storecove has no evidence for this document yet." in answer.content.decode()


def test_another_partners_evidence_is_not_found(tenant, other_tenant, client_for) -> None:
    sub = _rejected(tenant)
    EInvoiceSubmission.objects.filter(pk=sub.pk).update(status="delivered", provider_guid="guid-of-alpha")
    outsider = client_for(other_tenant.finance)
    assert outsider.get(reverse("einvoice_submission_evidence", args=[sub.pk])).status_code == 404
