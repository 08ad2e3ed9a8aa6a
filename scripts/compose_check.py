#!/usr/bin/env python3
"""`make compose-check`: the Docker Compose stack, end to end, on this machine.

Builds the image and starts docker-compose.yml under a project name of its own (its own containers and
volumes, from a copy of this checkout with a generated .env), waits until it is healthy, signs in over
HTTP, has the worker build a bulk PDF export, checks that beat has scheduled every job, takes the
stack down and up again and checks that the user and the export are still there, then removes the
containers and volumes. Where Docker or Compose is missing, or the daemon does not answer, it says so
and exits 0 ("skipped"). Needs only Python's standard library.

    make compose-check                     # web on port 8000
    PORTAL_HTTP_PORT=18000 make compose-check
"""

from __future__ import annotations

import http.cookiejar
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORT = os.environ.get("PORTAL_HTTP_PORT", "8000")
BASE = f"http://127.0.0.1:{PORT}"
USER = "finance@contoso.example"  # a demo user (partner_portal/demo.py) with finance rights
PASSWORD = "portal-demo-2026"
HEALTH_TIMEOUT = int(os.environ.get("COMPOSE_CHECK_TIMEOUT", "300"))


class Failed(Exception):
    pass


def step(message: str) -> None:
    print(f"compose-check: {message}", flush=True)


def run(*args: str, cwd: Path | None = None, check: bool = True, quiet: bool = False) -> str:
    result = subprocess.run(args, cwd=cwd, text=True, capture_output=True)
    if check and result.returncode != 0:
        raise Failed(
            f"`{' '.join(args)[:300]}` exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    if not quiet and result.stdout.strip():
        print(result.stdout.rstrip(), flush=True)
    return result.stdout


def compose_command() -> list[str] | None:
    """`docker compose` (v2) or `docker-compose` (v1), or None where Docker cannot be used."""
    if shutil.which("docker") is None:
        return None
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return None
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if (
        shutil.which("docker-compose")
        and subprocess.run(["docker-compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker-compose"]
    return None


def skip_reason() -> str:
    if shutil.which("docker") is None:
        return "docker is not installed"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "the Docker daemon does not answer (`docker info` fails)"
    return "neither `docker compose` nor `docker-compose` is available"


def copy_checkout(target: Path) -> None:
    """The checkout's files (tracked and new, not ignored), as they are now."""
    listed = run("git", "ls-files", "-z", "-co", "--exclude-standard", cwd=ROOT, quiet=True)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def write_dotenv(target: Path) -> None:
    """What an operator puts in .env (docs/operations.md, section 4), for a stack nobody else uses."""
    (target / ".env").write_text(
        "\n".join(
            [
                f"SECRET_KEY={secrets.token_urlsafe(64)}",
                # Never contacted: the check signs in with verified demo users and sends no email.
                "EMAIL_URL=smtp://mail.invalid:25",
                "ALLOWED_HOSTS=localhost,127.0.0.1",
                "PORTAL_BASE_URL=https://portal-check.example",
                "PARTNER_CENTER_RECORD_ONLY=true",
                "PORTAL_MFA_REQUIRED=false",
                "GUNICORN_WORKERS=2",
                "",
            ]
        )
    )


class Compose:
    def __init__(self, command: list[str], directory: Path, project: str) -> None:
        self.base = [*command, "-p", project]
        self.directory = directory

    def __call__(self, *args: str, check: bool = True, quiet: bool = False) -> str:
        return run(*self.base, *args, cwd=self.directory, check=check, quiet=quiet)

    def container(self, service: str) -> str:
        ids = self("ps", "-q", service, quiet=True).split()
        if not ids:
            raise Failed(f"no {service} container")
        return ids[0]

    def state(self, service: str) -> dict:
        out = run("docker", "inspect", "--format", "{{json .State}}", self.container(service), quiet=True)
        return json.loads(out)

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while True:
            states = {}
            try:
                migrate = self.state("migrate")
                states["migrate"] = (
                    f"exited {migrate['ExitCode']}" if migrate["Status"] == "exited" else migrate["Status"]
                )
                for service in ("postgres", "redis", "web", "worker"):
                    state = self.state(service)
                    states[service] = (state.get("Health") or {}).get("Status", state["Status"])
                states["beat"] = self.state("beat")["Status"]
            except Failed:
                pass
            if states.get("migrate", "").startswith("exited") and states["migrate"] != "exited 0":
                raise Failed(f"migrate failed: {states}")
            wanted = {"migrate": "exited 0", "postgres": "healthy", "redis": "healthy", "web": "healthy",
                      "worker": "healthy", "beat": "running"}  # fmt: skip
            if states == wanted:
                step(f"healthy: {states}")
                return
            if time.monotonic() > deadline:
                raise Failed(f"not healthy after {HEALTH_TIMEOUT}s: {states}")
            time.sleep(5)


class Browser:
    """Signs in and submits forms like a browser: cookies (the Secure ones too, over this plain-HTTP
    local stack) and the CSRF token."""

    def __init__(self) -> None:
        policy = http.cookiejar.DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
        self.jar = http.cookiejar.CookieJar(policy)
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, bytes]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(BASE + path, data=body, headers={"Referer": BASE + path})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.geturl(), response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read()

    def csrf(self, path: str) -> str:
        status, _url, body = self.open(path)
        if status != 200:
            raise Failed(f"GET {path} answered {status}")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if not match:
            raise Failed(f"no CSRF token on {path}")
        return match.group(1).decode()

    def sign_in(self) -> None:
        token = self.csrf("/accounts/login/")
        status, url, body = self.open(
            "/accounts/login/", {"csrfmiddlewaretoken": token, "login": USER, "password": PASSWORD}
        )
        if status != 200 or "/accounts/login/" in url:
            raise Failed(f"sign-in as {USER} failed ({status}, {url}): {body[:300]!r}")
        step(f"signed in over HTTP as {USER}")


def export_pdfs(browser: Browser) -> str:
    """Start a bulk PDF export of every issued invoice; the worker builds the ZIP. Returns its path."""
    token = browser.csrf("/staff/billing/exports/")
    status, url, _body = browser.open("/staff/billing/exports/", {"csrfmiddlewaretoken": token})
    match = re.search(r"/staff/billing/exports/(\d+)/$", url)
    if status != 200 or not match:
        raise Failed(f"starting the export answered {status} at {url}")
    export = f"/staff/billing/exports/{match.group(1)}/"
    deadline = time.monotonic() + 180
    while True:
        status, _url, body = browser.open(export + "status/")
        progress = json.loads(body) if status == 200 else {}
        if progress.get("download_url"):
            break
        if progress.get("status") == "failed" or time.monotonic() > deadline:
            raise Failed(f"the export did not finish: {status} {progress}")
        time.sleep(2)
    check_zip(browser, export)
    return export


def check_zip(browser: Browser, export: str) -> None:
    status, _url, body = browser.open(export + "download/")
    if status != 200:
        raise Failed(f"downloading {export} answered {status}")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
        if not pdfs or not all(archive.read(n).startswith(b"%PDF") for n in pdfs):
            raise Failed(f"the export holds no PDFs: {archive.namelist()[:10]}")
    step(f"export {export}: a ZIP of {len(pdfs)} invoice PDFs built by the worker")


BEAT_PROBE = """
import shelve
from django.conf import settings
with shelve.open("/schedule/celerybeat-schedule", "r") as schedule:  # whichever dbm beat wrote it with
    entries = set(schedule["entries"])
missing = sorted(set(settings.CELERY_BEAT_SCHEDULE) - entries)
print("missing:" + ",".join(missing) if missing else f"scheduled:{len(settings.CELERY_BEAT_SCHEDULE)}")
"""


def check_beat(compose: Compose, workdir: Path) -> None:
    """Every entry of CELERY_BEAT_SCHEDULE is in beat's schedule file (/tmp/celerybeat-schedule). Beat
    writes the file completely only when it stops, so it is stopped, the file copied out of its
    container and read by a one-off container of the same image, and beat started again."""
    beat = compose.container("beat")
    compose("stop", "beat", quiet=True)
    copy = workdir / "beat-schedule"
    copy.mkdir()
    run("docker", "cp", f"{beat}:/tmp/.", str(copy), quiet=True)
    files = sorted(copy.glob("celerybeat-schedule*"))
    if not files:
        raise Failed("beat wrote no schedule file")
    schedule = workdir / "schedule"
    schedule.mkdir()
    for file in files:
        shutil.copy(file, schedule / file.name)
        (schedule / file.name).chmod(0o644)
    out = compose("run", "--rm", "--no-deps", "-T", "-v", f"{schedule}:/schedule:ro", "beat",
                  "python", "manage.py", "shell", "-c", BEAT_PROBE, quiet=True)  # fmt: skip
    compose("start", "beat", quiet=True)
    result = out.strip().splitlines()[-1] if out.strip() else ""
    if not result.startswith("scheduled:"):
        raise Failed(f"beat's schedule is not complete: {result}")
    step(f"beat has scheduled its {result.split(':')[1]} jobs")


def main() -> int:
    command = compose_command()
    if command is None:
        print(f"compose-check skipped: {skip_reason()}.")
        return 0
    project = f"portalcheck{secrets.token_hex(3)}"
    workdir = Path(tempfile.mkdtemp(prefix="compose-check-"))
    compose = Compose(command, workdir, project)
    os.environ["PORTAL_HTTP_PORT"] = PORT
    stage = "copying the checkout"
    try:
        copy_checkout(workdir)
        write_dotenv(workdir)
        stage = "building the image"
        step(f"{' '.join(command)}, project {project}, web on {BASE}; building the image")
        compose("build")
        stage = "starting the stack"
        compose("up", "-d")
        stage = "waiting for health"
        compose.wait_healthy()
        stage = "loading the demo data"
        compose("exec", "-T", "web", "python", "manage.py", "seed_demo", quiet=True)
        stage = "signing in"
        browser = Browser()
        browser.sign_in()
        stage = "the bulk PDF export"
        export = export_pdfs(browser)
        stage = "beat's schedule"
        check_beat(compose, workdir)
        stage = "restarting the stack (down, up)"
        compose("down")
        compose("up", "-d")
        compose.wait_healthy()
        stage = "the data after the restart"
        browser = Browser()
        browser.sign_in()
        check_zip(browser, export)
        step("the data survived the restart")
    except Failed as failure:
        print(f"compose-check FAILED while {stage}: {failure}", file=sys.stderr)
        compose("ps", check=False)
        compose("logs", "--tail", "40", check=False)
        return 1
    finally:
        step("tearing down")
        compose("down", "-v", "--remove-orphans", check=False, quiet=True)
        shutil.rmtree(workdir, ignore_errors=True)
    step("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
