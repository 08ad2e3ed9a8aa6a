"""The IMAP client of support mailboxes: implicit TLS (port 993) or STARTTLS (port 143) before signing in,
certificates always verified; plain IMAP is never used.

RFC 9051 (IMAP4rev2) / RFC 3501: a folder's messages are read by UID (`UID SEARCH UID n:*`, `UID FETCH
n (BODY.PEEK[])`, which leaves the \\Seen flag alone), and UIDs only mean the same message while the
folder's UIDVALIDITY stays the same. Every failure to reach or read the mailbox is MailboxUnavailable:
the reader stops, records the error and tries again on its next run.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class MailboxUnavailable(Exception):
    """The mailbox could not be reached, signed in to or read; nothing was processed from this point.

    `step` says where it failed, for a sentence a person can act on (`services.mailbox_error_text`);
    the message keeps the server's own words for the log and the mailbox's last error."""

    CONNECT, TLS, TIMEOUT, LOGIN, FOLDER, READ = "connect", "tls", "timeout", "login", "folder", "read"

    def __init__(self, message: str, *, step: str = READ) -> None:
        super().__init__(message)
        self.step = step


def _step_of(exc: BaseException, default: str) -> str:
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return MailboxUnavailable.TLS
    if isinstance(exc, TimeoutError):
        return MailboxUnavailable.TIMEOUT
    return default


@dataclass(frozen=True)
class MailboxAddress:
    host: str
    port: int
    username: str
    password: str
    folder: str = "INBOX"
    security: str = "tls"  # "tls": TLS from the first byte (IMAPS); "starttls": STARTTLS before signing in


def tls_context() -> ssl.SSLContext:
    bundle = getattr(settings, "SUPPORT_MAILBOX_CA_BUNDLE", "") or None
    return ssl.create_default_context(cafile=bundle)


class MailboxConnection:
    """One signed-in session with the folder selected read-only."""

    def __init__(self, client: imaplib.IMAP4, uidvalidity: int) -> None:
        self._client = client
        self.uidvalidity = uidvalidity

    def uids_after(self, last_uid: int, *, limit: int) -> list[int]:
        """UIDs above `last_uid`, oldest first, at most `limit`. ("n:*" always names the last message,
        even when its UID is below n, so the answer is filtered.)"""
        status, data = self._client.uid("SEARCH", f"UID {last_uid + 1}:*")
        if status != "OK":
            raise MailboxUnavailable(f"UID SEARCH failed: {data!r}")
        uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > last_uid)
        return uids[:limit]

    def fetch(self, uid: int) -> bytes:
        status, data = self._client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if status != "OK":
            raise MailboxUnavailable(f"UID FETCH {uid} failed: {data!r}")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                return bytes(part[1])
        raise MailboxUnavailable(f"UID FETCH {uid} returned no message")


@contextmanager
def mailbox_session(address: MailboxAddress) -> Iterator[MailboxConnection]:
    """Connect with TLS, sign in and select the folder read-only; any failure is MailboxUnavailable."""
    timeout = float(getattr(settings, "SUPPORT_MAILBOX_TIMEOUT_SECONDS", 30.0))
    client: imaplib.IMAP4 | None = None
    failing = MailboxUnavailable.CONNECT
    try:
        if address.security == "starttls":
            client = imaplib.IMAP4(address.host, address.port, timeout=timeout)
            failing = MailboxUnavailable.TLS  # connected: what fails now is the server's STARTTLS
            client.starttls(ssl_context=tls_context())
        else:
            client = imaplib.IMAP4_SSL(address.host, address.port, ssl_context=tls_context(), timeout=timeout)
    except (OSError, ssl.SSLError, imaplib.IMAP4.error) as exc:
        if client is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.shutdown()
        raise MailboxUnavailable(
            f"cannot connect to {address.host}:{address.port}: {exc}", step=_step_of(exc, failing)
        ) from exc
    try:
        try:
            try:
                client.login(address.username, address.password)
            except imaplib.IMAP4.error as exc:
                raise MailboxUnavailable(str(exc) or "login refused", step=MailboxUnavailable.LOGIN) from exc
            try:
                status, data = client.select(_quote(address.folder), readonly=True)
            except imaplib.IMAP4.error as exc:
                raise MailboxUnavailable(str(exc), step=MailboxUnavailable.FOLDER) from exc
            if status != "OK":
                raise MailboxUnavailable(
                    f"cannot open the folder {address.folder}: {data!r}", step=MailboxUnavailable.FOLDER
                )
            lines = [line for line in client.untagged_responses.get("OK", []) if isinstance(line, bytes)]
            found = [_UIDVALIDITY.search(line) for line in lines]
            given = [v for v in client.untagged_responses.get("UIDVALIDITY", []) if isinstance(v, bytes)]
            values = given or [m.group(1) for m in found if m]
            if not values:
                raise MailboxUnavailable("the server did not give the folder's UIDVALIDITY")
            yield MailboxConnection(client, int(values[-1]))
        except (TimeoutError, OSError, ssl.SSLError, imaplib.IMAP4.error) as exc:
            raise MailboxUnavailable(str(exc) or exc.__class__.__name__, step=_step_of(exc, "read")) from exc
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):  # the connection may be gone already
            client.logout()


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
