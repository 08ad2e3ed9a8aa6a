from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator

import pytest

from partner_portal.models import Partner
from tests.conftest import require
from tests.tickets.mailbox.dovecot import PASSWORD, Dovecot
from tickets.mailbox.models import SupportMailbox
from tickets.mailbox.services import MailboxInput, support_mailbox_save

_users = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One private Dovecot for the whole run (each test reads a mailbox of its own)."""
    installed = bool(shutil.which("dovecot")) or os.access("/usr/sbin/dovecot", os.X_OK)
    require(installed, "dovecot is not installed (Debian package dovecot-imapd)")
    server = Dovecot().start()
    yield server
    server.stop()


@pytest.fixture
def connect_mailbox(dovecot: Dovecot, settings) -> Callable[..., SupportMailbox]:
    """`connect_mailbox(partner)`: the partner's support mailbox on the test server, a fresh IMAP user."""
    settings.SUPPORT_MAILBOX_CA_BUNDLE = dovecot.ca_path
    settings.SUPPORT_MAILBOX_TIMEOUT_SECONDS = 5.0

    def connect(
        partner: Partner, *, port: int | None = None, password: str = PASSWORD, security: str = "tls"
    ) -> SupportMailbox:
        user = f"support{next(_users)}-{partner.slug}@mail.test"
        return support_mailbox_save(
            partner=partner, actor=None,
            data=MailboxInput(address=user, host="127.0.0.1", port=port or dovecot.port, username=user,
                              password=password, security=security),
        )  # fmt: skip

    return connect
