"""Rating pages: the customer's ticket page, the signed one-click link and the "resolved" email's links."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories.tickets import offering, ticket
from tickets.models import Ticket, TicketRating
from tickets.services import rating_link_token, ticket_rate, ticket_status_change

pytestmark = pytest.mark.django_db
S = Ticket.Status


def resolved(tenant, customer=None, opened_by=None) -> Ticket:
    t = ticket(customer or tenant.customer, opened_by=opened_by or tenant.customer_admin, assignee=tenant.agent)
    return ticket_status_change(ticket=t, status=S.RESOLVED, actor=tenant.agent)


def link(t: Ticket, score: str = "") -> str:
    url = reverse("ticket_rate_link", kwargs={"token": rating_link_token(t)})
    return url + (f"?score={score}" if score else "")


def test_the_customer_rates_a_resolved_ticket_on_its_page(tenant, client_for) -> None:
    t = resolved(tenant)
    client = client_for(tenant.customer_member)
    page = client.get(reverse("customer_ticket_detail", args=[t.pk])).content.decode()
    assert "How did we do?" in page
    assert 'role="radiogroup"' in page
    assert page.count('type="radio" name="score"') == 5
    response = client.post(
        reverse("customer_ticket_rate", args=[t.pk]), {"score": "5", "comment": "Fixed in minutes."}, follow=True
    )
    page = response.content.decode()
    assert "Thank you for your rating." in page
    assert "You rated this request 5 of 5." in page
    assert "Fixed in minutes." in page
    assert 'name="score"' not in page  # rated once: no form any more
    rating = TicketRating.objects.get(ticket=t)
    assert (rating.score, rating.rated_by) == (5, tenant.customer_member)


def test_the_agent_sees_the_customers_rating_on_the_staff_ticket_page(tenant, client_for) -> None:
    t = resolved(tenant)
    staff_page = reverse("ticket_detail", args=[t.pk])
    assert "data-staff-rating" not in client_for(tenant.agent).get(staff_page).content.decode()

    client_for(tenant.customer_member).post(
        reverse("customer_ticket_rate", args=[t.pk]), {"score": "4", "comment": "Quick, but two emails needed."}
    )

    page = client_for(tenant.agent).get(staff_page).content.decode()
    assert "Customer rating" in page
    assert "4 of 5" in page
    assert "Quick, but two emails needed." in page
    assert tenant.customer_member.get_full_name() in page
    assert f"Counted for {tenant.agent.get_full_name()} in the satisfaction report." in page


def test_an_open_ticket_offers_no_rating(tenant, client_for) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    client = client_for(tenant.customer_admin)
    assert "How did we do?" not in client.get(reverse("customer_ticket_detail", args=[t.pk])).content.decode()
    response = client.post(reverse("customer_ticket_rate", args=[t.pk]), {"score": "5"})
    assert response.status_code == 400
    assert "Only a resolved ticket can be rated." in response.content.decode()
    assert not TicketRating.objects.exists()


def test_a_low_rating_on_the_page_reopens_and_says_so(tenant, client_for) -> None:
    t = resolved(tenant)
    response = client_for(tenant.customer_admin).post(
        reverse("customer_ticket_rate", args=[t.pk]), {"score": "1", "comment": "Still failing."}, follow=True
    )
    page = response.content.decode()
    assert "We have reopened your request" in page
    assert "Still failing." in page
    t.refresh_from_db()
    assert t.status == S.OPEN


def test_a_missing_score_is_refused_on_the_form(tenant, client_for) -> None:
    t = resolved(tenant)
    response = client_for(tenant.customer_admin).post(reverse("customer_ticket_rate", args=[t.pk]), {"comment": "x"})
    assert response.status_code == 400
    assert "Choose a score from 1 to 5." in response.content.decode()
    assert not TicketRating.objects.exists()


def test_another_customers_or_partners_ticket_is_404(tenant, other_tenant, client_for) -> None:
    sibling = resolved(tenant, customer=tenant.other_customer, opened_by=tenant.other_customer_admin)
    foreign = resolved(other_tenant)
    client = client_for(tenant.customer_admin)
    for t in (sibling, foreign):
        assert client.get(reverse("customer_ticket_detail", args=[t.pk])).status_code == 404
        assert client.post(reverse("customer_ticket_rate", args=[t.pk]), {"score": "5"}).status_code == 404
    assert not TicketRating.objects.exists()


def test_staff_cannot_rate(tenant, client_for) -> None:
    t = resolved(tenant)
    for user in (tenant.admin, tenant.agent):
        assert client_for(user).post(reverse("customer_ticket_rate", args=[t.pk]), {"score": "5"}).status_code == 403
    assert not TicketRating.objects.exists()


def test_the_signed_link_rates_without_signing_in(tenant) -> None:
    t = resolved(tenant)
    client = Client()
    page = client.get(link(t, "4")).content.decode()
    assert t.reference in page
    assert re.search(r'<input[^>]*value="4"[^>]*checked', page)  # the score clicked is pre-selected
    response = client.post(link(t), {"score": "4", "comment": "Good."}, follow=True)
    assert response.status_code == 200
    assert "You rated this request 4 of 5." in response.content.decode()
    rating = TicketRating.objects.get(ticket=t)
    assert (rating.score, rating.comment, rating.rated_by) == (4, "Good.", None)
    # Rated once: the link shows the rating and a second post is refused.
    again = client.post(link(t), {"score": "1"})
    assert again.status_code == 400
    assert "You rated this request 4 of 5." in again.content.decode()
    assert TicketRating.objects.get(ticket=t).score == 4


def test_a_tampered_or_expired_link_is_refused(tenant) -> None:
    t = resolved(tenant)
    token = rating_link_token(t)
    bad = reverse("ticket_rate_link", kwargs={"token": token[:-3] + "xyz"})
    for method in ("get", "post"):
        response = getattr(Client(), method)(bad, {"score": "5"} if method == "post" else None)
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
        assert t.subject not in response.content.decode()
    url = link(t)
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 31 * 24 * 3600):
        response = Client().post(url, {"score": "5"})
    assert response.status_code == 404
    assert "expired" in response.content.decode()
    assert not TicketRating.objects.exists()


def test_a_link_rates_only_its_own_ticket(tenant, other_tenant) -> None:
    t = resolved(tenant)
    other = resolved(tenant, customer=tenant.other_customer, opened_by=tenant.other_customer_admin)
    Client().post(link(t), {"score": "5", "ticket": other.pk})
    assert list(TicketRating.objects.values_list("ticket_id", flat=True)) == [t.pk]
    # A token for a ticket id of another partner does not reach it: the partner is signed with the id.
    from django.core import signing

    forged = signing.dumps({"t": other.pk, "p": other_tenant.partner.pk}, salt="tickets.rating", compress=True)
    response = Client().post(reverse("ticket_rate_link", kwargs={"token": forged}), {"score": "5"})
    assert response.status_code == 404
    assert TicketRating.objects.filter(ticket=other).count() == 0


def test_the_resolved_email_carries_the_rating_links(tenant, on_commit) -> None:
    offering(tenant.partner)
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    mail.outbox.clear()
    with on_commit():
        ticket_status_change(ticket=t, status=S.RESOLVED, actor=tenant.agent)
    (email,) = [m for m in mail.outbox if m.to == [tenant.customer_admin.email]]
    html = email.alternatives[0][0]
    assert "How did we do?" in email.body
    assert "How did we do?" in html
    links = re.findall(r"https?://\S+/rate/[^/\s\"]+/\?score=(\d)", email.body)
    assert links == ["1", "2", "3", "4", "5"]
    assert len(re.findall(r'href="[^"]+/rate/[^"]+\?score=\d"', html)) == 5
    token = re.search(r"/rate/([^/\s]+)/\?score=5", email.body).group(1)
    assert Client().post(reverse("ticket_rate_link", kwargs={"token": token}), {"score": "5"}).status_code == 302
    assert TicketRating.objects.get(ticket=t).score == 5
    # Other status emails carry no rating link; nor does a later "resolved" once rated.
    mail.outbox.clear()
    with on_commit():
        ticket_status_change(ticket=t, status=S.CLOSED, actor=tenant.agent)
    assert all("/rate/" not in m.body for m in mail.outbox)


def test_the_resolved_email_in_russian(tenant, on_commit) -> None:
    offering(tenant.partner)
    tenant.customer.language = "ru"
    tenant.customer.save()
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    mail.outbox.clear()
    with on_commit():
        ticket_status_change(ticket=t, status=S.RESOLVED, actor=tenant.agent)
    (email,) = [m for m in mail.outbox if m.to == [tenant.customer_admin.email]]
    assert "Как мы справились?" in email.body
    assert "Как мы справились?" in email.alternatives[0][0]


def test_ticket_rate_service_is_used_by_the_link(tenant) -> None:
    t = resolved(tenant)
    ticket_rate(ticket=t, score=3, comment="", actor=tenant.customer_admin)
    page = Client().get(link(t, "5")).content.decode()
    assert "You rated this request 3 of 5." in page
    assert 'name="score"' not in page


def test_the_link_page_form_carries_its_csrf_token(tenant) -> None:
    t = resolved(tenant)
    client = Client(enforce_csrf_checks=True)
    page = client.get(link(t, "5")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    response = client.post(link(t), {"score": "5", "csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302
    assert TicketRating.objects.get(ticket=t).score == 5
