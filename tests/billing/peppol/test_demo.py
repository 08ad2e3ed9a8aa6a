"""`make demo` shows Peppol sending: the Belgian partner's Storecove account and its submissions in the
states staff meet, with nothing ever sent to Storecove."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from billing.peppol.models import AccessPointAccount, EInvoiceSubmission
from billing.peppol.services import submission_evidence, submission_send, submissions_retry_due
from billing.peppol.storecove import StorecoveClient
from partner_portal import clock
from partner_portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(StorecoveClient, "_call", lambda self, method, path, body=None: calls.append(path))
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return calls


def test_the_demo_partner_shows_its_peppol_submissions(demo) -> None:
    finance = Client()
    assert finance.login(email="finance@woodgrove.example", password=DEMO_PASSWORD)
    page = finance.get(reverse("einvoice_submission_list")).content.decode()
    subs = {s.status: s for s in EInvoiceSubmission.objects.filter(partner__slug="woodgrove")}
    assert set(subs) == {"delivered", "rejected", "retrying"}
    for sub in subs.values():
        assert f'data-submission="{sub.number}"' in page
    assert "buyer reference PO-4711 is closed" in page
    assert reverse("einvoice_submission_evidence", args=[subs["delivered"].pk]) in page
    detail = finance.get(reverse("einvoice_submission_detail", args=[subs["rejected"].pk])).content.decode()
    assert "data-rejection-reason" in detail
    assert "data-retry" in detail
    waiting = finance.get(reverse("einvoice_submission_detail", args=[subs["retrying"].pk])).content.decode()
    assert "Storecove answered 503" in waiting or "Waiting to retry" in waiting


def test_the_demo_account_never_calls_storecove(demo) -> None:
    account = AccessPointAccount.objects.get(partner__slug="woodgrove")
    assert account.demo
    assert account.status == AccessPointAccount.Status.PAUSED
    waiting = EInvoiceSubmission.objects.get(partner__slug="woodgrove", status="retrying")
    with clock.frozen(waiting.next_attempt_at + dt.timedelta(seconds=1)):
        submissions_retry_due()
        submission_send(submission_id=waiting.pk)
    waiting.refresh_from_db()
    assert waiting.status == "retrying"
    # Even the calls staff start are refused before the network.
    AccessPointAccount.objects.filter(pk=account.pk).update(status=AccessPointAccount.Status.ACTIVE)
    delivered = EInvoiceSubmission.objects.get(partner__slug="woodgrove", status="delivered")
    with pytest.raises(Exception, match="demo account"):
        submission_evidence(submission=delivered, actor=None)
    admin = Client()
    assert admin.login(email="finance@woodgrove.example", password=DEMO_PASSWORD)
    assert (
        "demo account"
        in admin.get(reverse("einvoice_submission_evidence", args=[delivered.pk]), follow=True).content.decode()
    )
    assert demo == []
