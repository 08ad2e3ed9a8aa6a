"""Attachments: checked by size, by extension AND by their content, stored under a random name.

Files live under MEDIA_ROOT/ticket_attachments/<partner>/ with a random name; the name the customer
gave is kept in the row only. They are never served by URL, only by the scoped download view.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from partner_portal.models import User
from tickets.errors import AttachmentRefused
from tickets.models import Ticket, TicketAttachment, TicketMessage

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
SNIFF_BYTES = 8192


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed block is still text.
        return exc.start >= len(head) - 3
    return True


def _starts(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(prefixes)


def _is_office(head: bytes) -> bool:
    # Office Open XML documents are ZIP archives; their first entry is "[Content_Types].xml" or a
    # folder of the package ("_rels/", "docProps/", "word/", "xl/").
    return head.startswith(b"PK\x03\x04") and any(
        marker in head[:SNIFF_BYTES] for marker in (b"[Content_Types].xml", b"_rels/", b"word/", b"xl/", b"docProps/")
    )


@dataclass(frozen=True)
class FileType:
    content_type: str
    matches: Callable[[bytes], bool]


# What customers and agents may attach: screenshots, documents, logs. Executables, scripts and HTML
# (which a browser would run) are not on the list.
ALLOWED_TYPES: dict[str, FileType] = {
    ".pdf": FileType("application/pdf", _starts(b"%PDF-")),
    ".png": FileType("image/png", _starts(b"\x89PNG\r\n\x1a\n")),
    ".jpg": FileType("image/jpeg", _starts(b"\xff\xd8\xff")),
    ".jpeg": FileType("image/jpeg", _starts(b"\xff\xd8\xff")),
    ".gif": FileType("image/gif", _starts(b"GIF87a", b"GIF89a")),
    ".txt": FileType("text/plain", _is_text),
    ".log": FileType("text/plain", _is_text),
    ".csv": FileType("text/csv", _is_text),
    ".docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _is_office),
    ".xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _is_office),
    ".zip": FileType("application/zip", _starts(b"PK\x03\x04", b"PK\x05\x06")),
}


def max_bytes() -> int:
    return int(getattr(settings, "TICKET_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def attachment_check(upload: UploadedFile) -> FileType:
    """The file's type if it may be attached, else AttachmentRefused with a message for the user."""
    name = PurePath(upload.name or "").name
    size = upload.size or 0
    if size > max_bytes():
        raise AttachmentRefused(
            _("%(name)s is %(size)s; files can be at most %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(max_bytes())}
        )
    if size == 0:
        raise AttachmentRefused(_("%(name)s is empty.") % {"name": name})
    kind = ALLOWED_TYPES.get(PurePath(name).suffix.lower())
    if kind is None:
        raise AttachmentRefused(
            _("%(name)s: this type of file cannot be attached. Allowed: %(types)s.")
            % {"name": name, "types": ", ".join(sorted(ext.lstrip(".") for ext in ALLOWED_TYPES))}
        )
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if not kind.matches(head):
        raise AttachmentRefused(
            _("%(name)s does not contain what its name says; it was not attached.") % {"name": name}
        )
    return kind


def attachments_check(files: list[UploadedFile]) -> None:
    if len(files) > MAX_FILES:
        raise AttachmentRefused(_("Attach at most %(count)d files at once.") % {"count": MAX_FILES})
    for upload in files:
        attachment_check(upload)


def attachment_store(
    *, ticket: Ticket, message: TicketMessage | None, upload: UploadedFile, uploaded_by: User | None
) -> TicketAttachment:
    """Check and store one file. Call inside the service's transaction."""
    kind = attachment_check(upload)
    original = PurePath(upload.name or "file").name[:255]
    stored_name = f"{secrets.token_hex(16)}{PurePath(original).suffix.lower()}"
    attachment = TicketAttachment(
        partner_id=ticket.partner_id,
        ticket=ticket,
        message=message,
        original_name=original,
        size=upload.size or 0,
        content_type=kind.content_type,
        uploaded_by=uploaded_by,
    )
    upload.seek(0)
    attachment.file.save(stored_name, upload, save=False)
    attachment.save()
    return attachment
