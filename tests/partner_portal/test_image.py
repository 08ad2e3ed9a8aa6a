"""The container image: what a build and a start need, read from the Dockerfile (no Docker needed)."""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def _ignored(path: str) -> bool:
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        if fnmatch.fnmatch(path, pattern.lstrip("!")):
            ignored = not negate
    return ignored


def test_the_readme_pyproject_names_is_copied_beside_it() -> None:
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["readme"]
    assert not _ignored(readme)
    for word, args in _instructions():
        if word == "COPY" and "pyproject.toml" in args.split():
            sources, target = args.split()[:-1], args.split()[-1]
            assert readme in sources, "pyproject.toml is built without the readme it names"
            assert target.endswith("/"), target
            break
    else:
        raise AssertionError("the Dockerfile does not copy pyproject.toml")


def test_the_runtime_user_has_a_writable_font_cache_built_at_build_time() -> None:
    instructions = _instructions()
    env = " ".join(args for word, args in instructions if word == "ENV")
    cache_home = re.search(r"XDG_CACHE_HOME=(\S+)", env)
    assert cache_home, "no XDG_CACHE_HOME: Fontconfig has no writable cache directory for the runtime user"
    users = [i for i, (word, _) in enumerate(instructions) if word == "USER"]
    assert users, "the image runs as root"
    runtime_user = instructions[users[-1]][1]
    commands = [args for word, args in instructions if word == "RUN"]
    owned = [c for c in commands if f"chown {runtime_user}:{runtime_user}" in c and "$XDG_CACHE_HOME" in c]
    assert owned, "the cache directory is not the runtime user's"
    after_user = [args for word, args in instructions[users[-1] :] if word == "RUN"]
    assert any("fc-cache" in shlex.split(c) for c in after_user), "the font cache is not built as the runtime user"
    apt = next(c for c in commands if "apt-get install" in c)
    assert "fontconfig" in apt.split(), "fc-cache comes with Debian's fontconfig package"
