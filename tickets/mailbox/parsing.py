"""Reading one email: its thread headers, sender, the new text of the reply, attachments, and whether
it was sent by a machine (an auto-reply or a delivery report), which never opens a ticket.

The reply is cut from quoted history and signatures by mail-parser-reply. Its languages are data
(`mailparser_reply.constants.MAIL_LANGUAGES`); it has no Russian, so the portal adds the headers and
sign-offs of the mail clients Russian-speaking customers use (Gmail, Outlook, Thunderbird, Apple Mail,
Yandex, Mail.ru).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from django.utils.html import strip_tags
from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES, QUOTED_MATCH_INCLUDE

# Russian mail clients' reply headers:
#   Gmail:        "пн, 1 дек. 2026 г. в 10:00, Иван Петров <ivan@example.ru>:"
#   Apple Mail:   "1 дек. 2026 г., в 10:00, Иван Петров <ivan@example.ru> написал(а):"
#   Thunderbird:  "01.12.2026 10:00, Иван Петров пишет:"
#   Yandex:       "01.12.2026, 10:00, "Иван" <ivan@example.ru>:"
#   Outlook:      "От: ... / Отправлено: ... / Кому: ... / Тема: ..."
MAIL_LANGUAGES.setdefault(
    "ru",
    {
        "wrote_header": r"^("
        + QUOTED_MATCH_INCLUDE
        + r"(?:.{0,200}?\s(?:пишет|написал(?:а|\(а\))?)\s?:"
        + r"|(?:пн|вт|ср|чт|пт|сб|вс),\s.{0,60}?\sг\.\sв\s\d{1,2}:\d{2},\s.{0,200}?:"
        + r"|\d{1,2}\.\d{1,2}\.\d{2,4},?\s\d{1,2}:\d{2},\s.{0,200}?<[^>\s]+@[^>\s]+>:))$",
        "from_header": r"((?:(?:^|\n|\n"
        + QUOTED_MATCH_INCLUDE
        + r")[* ]*(?:От|Отправлено|Кому|Тема|Дата|Копия):[ *]*(?:\s{,2}).*){2,}(?:\n.*){,1})",
        "disclaimers": [r"(?:КОНФИДЕНЦИАЛЬНО|Конфиденциально)[:.]", r"Внимание[:!]"],
        "signatures": ["С уважением", "С наилучшими пожеланиями", "Всего доброго", "Спасибо,", "Благодарю,"],
        "sent_from": "Отправлено с|Отправлено из|Sent from my|Get Outlook for",
    },
)

_REPLY_LANGUAGES = ["en", "ru"]
_TICKET_REFERENCE = re.compile(r"\bT-(\d{1,9})\b")
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
_BULK_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes
    content_type: str


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    from_address: str
    from_name: str
    subject: str
    text: str
    reply: str
    attachments: list[Attachment] = field(default_factory=list)
    machine: str = ""  # why it was sent by a machine ("auto-reply", "delivery report", ...), else ""
    sent_at: dt.datetime | None = None

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this email answers, nearest first."""
        return [*self.in_reply_to, *reversed(self.references)]

    def ticket_numbers(self) -> list[int]:
        return [int(n) for n in _TICKET_REFERENCE.findall(self.subject)]


def message_ids(value: str | None) -> list[str]:
    """The <...> ids of a Message-ID, In-Reply-To or References header, in order."""
    return re.findall(r"<[^<>\s]+>", str(value or ""))


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header the policy cannot read
        value = None
    return " ".join(str(value or "").split())


def machine_reason(message: Message, from_address: str) -> str:
    """Why the email was sent by a machine, or "" for a person's email.

    RFC 3834 (Auto-Submitted other than "no"; auto-responders also set Precedence), RFC 3464 and 6522
    (delivery and disposition reports are multipart/report), mailing lists (RFC 2369 List-Id), and bounces
    from a null return path or MAILER-DAEMON."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return "auto-reply"
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return "auto-reply"
    if _header(message, "Precedence").lower() in _BULK_PRECEDENCE:
        return "bulk"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    if from_address.split("@")[0] in _BOUNCE_SENDERS or _header(message, "Return-Path") == "<>":
        return "delivery report"
    if _header(message, "List-Id"):
        return "mailing list"
    return ""


def _text_of(message: Message) -> str:
    part = None
    if isinstance(message, EmailMessage):
        part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True) or b""
        content = bytes(payload).decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        content = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", str(content))
        content = html.unescape(strip_tags(content))
    return str(content).replace("\r\n", "\n")


def reply_text(text: str) -> str:
    """The new text of a reply: quoted history, reply headers and the signature cut off."""
    if not text.strip():
        return ""
    parsed = EmailReplyParser(languages=_REPLY_LANGUAGES).read(text=text)
    if not parsed.replies:
        return text.strip()
    return (parsed.replies[0].body or "").strip()


def _attachments(message: Message) -> list[Attachment]:
    found: list[Attachment] = []
    if not isinstance(message, EmailMessage):
        return found
    for part in message.iter_attachments():
        name = part.get_filename()
        if not name:
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            found.append(Attachment(name=str(name), content=payload, content_type=part.get_content_type()))
    return found


def email_parse(raw: bytes) -> ParsedEmail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    addresses = getaddresses([_header(message, "From")])
    from_name, from_address = addresses[0] if addresses else ("", "")
    from_address = from_address.strip().lower()
    ids = message_ids(_header(message, "Message-ID"))
    # A message without a Message-ID gets one from its content, so reading it twice still finds it.
    message_id = ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"
    try:
        sent_at = parsedate_to_datetime(_header(message, "Date")) if _header(message, "Date") else None
    except (TypeError, ValueError):
        sent_at = None
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=dt.UTC)
    text = _text_of(message)
    return ParsedEmail(
        message_id=message_id[:998],
        in_reply_to=message_ids(_header(message, "In-Reply-To")),
        references=message_ids(_header(message, "References")),
        from_address=from_address[:320],
        from_name=from_name[:200],
        subject=_header(message, "Subject")[:500],
        text=text,
        reply=reply_text(text),
        attachments=_attachments(message),
        machine=machine_reason(message, from_address),
        sent_at=sent_at,
    )
