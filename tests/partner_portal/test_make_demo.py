"""`make demo PORT=...` end to end: it serves on the port asked, the demo sign-in printed works, and one
Ctrl-C stops the web server, the Celery worker and beat, leaving nothing running.

It runs in a copy of the tree (the developer's var/ and its SQLite file are left alone) that uses the
same virtualenv through links, with a make stamp of its own so that make never installs anything.
No DATABASE_URL or REDIS_URL: the demo runs embedded (SQLite and the filesystem broker under var/).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import require

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LEFT_OUT = shutil.ignore_patterns(".git", ".venv", "var", "__pycache__", ".mypy_cache", ".ruff_cache", "node_modules")
# Variables of the test run (or of the developer's shell) that would send the demo elsewhere.
UNSET = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PORTAL_VAR_DIR", "PORTAL_BASE_URL")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _copy_of_the_tree(target: Path) -> Path:
    tree = target / "portal"
    shutil.copytree(ROOT, tree, ignore=LEFT_OUT, symlinks=True)  # copy2: pyproject.toml keeps its time
    venv = Path(sys.prefix).resolve()
    (tree / ".venv").mkdir()
    for entry in venv.iterdir():
        if entry.name != ".installed":
            (tree / ".venv" / entry.name).symlink_to(entry)
    (tree / ".venv" / ".installed").touch()  # newer than pyproject.toml: `make` has nothing to install
    return tree


def _group(pgid: int) -> set[int]:
    """The processes of a process group still alive (zombies are gone for our purpose)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.add(int(entry.name))
    return found


def _sign_in(base: str, email: str, password: str) -> str:
    """Sign in through the login form as a browser does; the page it lands on."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(f"{base}/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, form[:500]
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "login": email, "password": password}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (http on localhost, built here)
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request, timeout=20) as answer:
        assert answer.status == 200
        assert "/accounts/login/" not in answer.url, "still on the sign-in page"
        return str(answer.read().decode())


def test_make_demo_serves_on_the_port_and_one_ctrl_c_stops_everything(tmp_path: Path) -> None:
    require(shutil.which("make") is not None, "make is not installed")
    tree = _copy_of_the_tree(tmp_path)
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if name not in UNSET}
    make = subprocess.Popen(
        ["make", "demo", f"PORT={port}"],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(make.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 100  # migrate and seed on a fresh SQLite file: half a minute or so
        while not _listening(port):
            assert make.poll() is None, "make demo ended early:\n" + "".join(output)
            assert time.monotonic() < deadline, "make demo did not answer in time:\n" + "".join(output)
            time.sleep(0.5)
        printed = "".join(output)
        assert f"Sign in at http://127.0.0.1:{port}/ with:" in printed
        email = re.search(r"^\s+(\S+@\S+)\s+partner_admin$", printed, re.MULTILINE)
        password = re.search(r"Password for every demo login: (\S+)", printed)
        assert email, printed
        assert password, printed
        landing = _sign_in(f"http://127.0.0.1:{port}", email.group(1), password.group(1))
        assert "Contoso Cloud Partners" in landing
        seen = _group(make.pid)
        commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in seen)
        for process in ("runserver", "celery -A config worker", "celery -A config beat"):
            assert process in commands, commands

        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C
        make.wait(timeout=30)
        reader.join(timeout=5)
        assert "Stopped the web server, the worker and beat." in "".join(output)
        assert not _listening(port)
        deadline = time.monotonic() + 5  # a killed child may take a moment to be reaped
        while _group(make.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(make.pid) == set(), "left running: " + ", ".join(map(str, _group(make.pid)))
    finally:
        if make.poll() is None or _group(make.pid):
            os.killpg(make.pid, signal.SIGKILL)
            make.wait(timeout=10)
    assert (tree / "var" / "portal.sqlite3").exists()
