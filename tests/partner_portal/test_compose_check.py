"""`make compose-check` skips cleanly where Docker cannot be used (the full run needs a Docker daemon
and is not part of the test suite)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_with_path(path: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path}
    return subprocess.run(
        [sys.executable, "scripts/compose_check.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_without_docker_it_says_skipped_and_succeeds(tmp_path: Path) -> None:
    result = _run_with_path(str(tmp_path))
    assert result.returncode == 0
    assert result.stdout.strip() == "compose-check skipped: docker is not installed."


def test_with_a_daemon_that_does_not_answer_it_says_skipped_and_succeeds(tmp_path: Path) -> None:
    docker = tmp_path / "docker"
    docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    docker.chmod(0o755)
    result = _run_with_path(str(tmp_path))
    assert result.returncode == 0
    assert "compose-check skipped: the Docker daemon does not answer" in result.stdout


def test_make_test_does_not_run_it() -> None:
    makefile = (ROOT / "Makefile").read_text()
    test_target = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "compose" not in test_target
