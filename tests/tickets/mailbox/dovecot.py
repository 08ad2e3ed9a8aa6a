"""A private Dovecot IMAP server for the tests: its own config folder, a spare local port, implicit TLS
with a certificate of a trustme test CA, and a static passdb (every user name, one password), so each
test reads its own mailbox. Messages are put in with IMAP APPEND, as a mail client would.

Configuration as Dovecot 2.3 documents it: https://doc.dovecot.org/2.3/configuration_manual/
(passdb/userdb `static` drivers, `ssl = required`, `service imap-login { inet_listener imaps }`, and an
`imap` listener where `ssl = required` makes STARTTLS come before signing in).
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import trustme

PASSWORD = "mailbox-test-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="portal-dovecot-"))
        self.port = _free_port()  # IMAPS: TLS from the first byte
        self.starttls_port = _free_port()  # IMAP with STARTTLS required before signing in
        self.ca_path = str(self.dir / "ca.pem")
        self.process: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        d = self.dir
        if os.getuid() == 0:  # Dovecot refuses to run its login and mail processes as root
            internal, login = "dovecot", "dovenull"
            mail_user = pwd.getpwnam("dovecot")
        else:
            internal = login = pwd.getpwuid(os.getuid()).pw_name
            mail_user = pwd.getpwuid(os.getuid())
        d.chmod(0o755)  # the mail processes run as another user and must reach their folder
        for sub in ("run", "state", "mail"):
            (d / sub).mkdir(exist_ok=True)
        os.chown(d / "mail", mail_user.pw_uid, mail_user.pw_gid)
        return f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = 0
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={d}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.starttls_port}
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""

    def start(self) -> Dovecot:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        cert.private_key_pem.write_to_path(str(self.dir / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(self.dir / "cert.pem"))
        ca.cert_pem.write_to_path(self.ca_path)
        (self.dir / "dovecot.conf").write_text(self._config())
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.dir / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot stopped: {self.process.stdout.read() if self.process.stdout else ''}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, user: str) -> imaplib.IMAP4_SSL:
        client = imaplib.IMAP4_SSL(
            "127.0.0.1", self.port, ssl_context=ssl.create_default_context(cafile=self.ca_path), timeout=10
        )
        client.login(user, PASSWORD)
        return client

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        client = self.client(user)
        try:
            status, data = client.append(folder, None, None, raw)
            assert status == "OK", data
        finally:
            client.logout()
