"""Attachments: size and type limits checked by extension and content, random names, scoped downloads."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories.tickets import PNG, ticket, upload
from tickets.errors import AttachmentRefused
from tickets.models import TicketAttachment, TicketMessage
from tickets.services import ticket_message_add

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


def test_accepted_file_is_stored_under_a_random_name(tenant, settings) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin, files=[upload("Error screen.PNG")])
    attachment = TicketAttachment.objects.get(ticket=t)
    assert (attachment.original_name, attachment.size, attachment.content_type) == (
        "Error screen.PNG",
        len(PNG),
        "image/png",
    )
    stored = attachment.file.name
    assert stored.startswith(f"ticket_attachments/{tenant.partner.pk}/")
    assert stored.endswith(".png")
    assert "Error" not in stored
    assert len(stored.rsplit("/", 1)[1]) == len("0123456789abcdef0123456789abcdef.png")
    with attachment.file.open("rb") as fh:
        assert fh.read() == PNG


def test_too_large_file_is_refused(tenant, settings) -> None:
    settings.TICKET_ATTACHMENT_MAX_BYTES = 2048
    with pytest.raises(AttachmentRefused, match=r"big\.pdf is 4\.0\xa0KB; files can be at most 2\.0\xa0KB\."):
        ticket(tenant.customer, files=[upload("big.pdf", PDF + b"0" * 4096, "application/pdf")])
    assert TicketAttachment.objects.count() == 0
    assert tenant.customer.tickets.count() == 0  # nothing written when a file is refused


def test_ten_megabytes_is_the_default_limit(tenant) -> None:
    from tickets.services.attachments import max_bytes

    assert max_bytes() == 10 * 1024 * 1024


@pytest.mark.parametrize("name", ["setup.exe", "page.html", "script.js", "noextension", "invoice.pdf.exe"])
def test_types_not_allowed_are_refused(tenant, name: str) -> None:
    with pytest.raises(AttachmentRefused, match="this type of file cannot be attached"):
        ticket(tenant.customer, files=[upload(name, b"MZ\x90\x00", "application/octet-stream")])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", b"MZ\x90\x00\x03 this is a Windows executable"),
        ("photo.png", b"<html><script>alert(1)</script></html>"),
        ("photo.jpg", PNG),
        ("notes.txt", b"\x00\x01\x02binary"),
        ("report.docx", b"PK\x03\x04" + b"\x00" * 40),  # a ZIP, but not an Office document
    ],
)
def test_spoofed_content_is_refused(tenant, name: str, content: bytes) -> None:
    with pytest.raises(AttachmentRefused, match="does not contain what its name says"):
        ticket(tenant.customer, files=[upload(name, content, "image/png")])


def test_text_and_pdf_pass(tenant) -> None:
    t = ticket(
        tenant.customer, files=[upload("log.txt", "Ошибка входа\n".encode(), "text/plain"), upload("a.pdf", PDF)]
    )
    assert sorted(t.attachments.values_list("content_type", flat=True)) == ["application/pdf", "text/plain"]


def test_empty_file_is_refused(tenant) -> None:
    with pytest.raises(AttachmentRefused, match="is empty"):
        ticket(tenant.customer, files=[upload("empty.txt", b"", "text/plain")])


def _reply_with_file(t, author, internal: bool) -> TicketAttachment:
    message = ticket_message_add(ticket=t, author=author, body="See attached.", internal=internal, files=[upload()])
    return TicketAttachment.objects.get(message=message)


def test_download_is_scoped(tenant, other_tenant, client_for) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin, files=[upload("shot.png")])
    attachment = t.attachments.get()
    url = reverse("ticket_attachment", args=[attachment.pk])
    for user in (tenant.customer_admin, tenant.customer_member, tenant.agent, tenant.finance):
        response = client_for(user).get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="shot.png"'
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == PNG
    for user in (tenant.other_customer_admin, other_tenant.agent, other_tenant.customer_admin):
        assert client_for(user).get(url).status_code == 404
    from django.test import Client

    assert Client().get(url).status_code == 302


def test_internal_note_files_never_reach_customers(tenant, client_for, api_for) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    internal = _reply_with_file(t, tenant.agent, internal=True)
    public = _reply_with_file(t, tenant.agent, internal=False)
    customer = client_for(tenant.customer_admin)
    assert customer.get(reverse("ticket_attachment", args=[internal.pk])).status_code == 404
    assert customer.get(reverse("ticket_attachment", args=[public.pk])).status_code == 200
    assert client_for(tenant.agent).get(reverse("ticket_attachment", args=[internal.pk])).status_code == 200
    page = customer.get(reverse("customer_ticket_detail", args=[t.pk])).content.decode()
    assert reverse("ticket_attachment", args=[public.pk]) in page
    assert reverse("ticket_attachment", args=[internal.pk]) not in page
    data = api_for(tenant.customer_admin).get(f"/api/v1/tickets/{t.pk}/messages/").json()
    assert [m["id"] for m in data["results"]] == [public.message_id]
    assert TicketMessage.objects.filter(ticket=t).count() == 2


def test_reply_form_refuses_a_spoofed_file_with_a_message(tenant, client_for) -> None:
    t = ticket(tenant.customer, opened_by=tenant.customer_admin)
    response = client_for(tenant.customer_admin).post(
        reverse("customer_ticket_detail", args=[t.pk]),
        {
            "body": "Here is the invoice",
            "attachments": [upload("invoice.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")],
        },
    )
    assert response.status_code == 400
    assert "invoice.pdf does not contain what its name says; it was not attached." in response.content.decode()
    assert TicketMessage.objects.count() == 0
