"""One list of settings: every variable the settings read reaches the containers and is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from config.settings.variables import BY_NAME, VARIABLES, env

ROOT = Path(__file__).resolve().parents[2]
PORTAL_SERVICES = ("migrate", "web", "worker", "beat")
# What docker compose does with `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`.
SUBSTITUTION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _substitute(value: str, dotenv: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"] or "", match["arg"] or ""
        if name in dotenv and (dotenv[name] or ":" not in op):
            return dotenv[name]
        if op.endswith("?"):
            raise AssertionError(f"compose refuses to start: {arg}")
        return arg

    return SUBSTITUTION.sub(one, value)


def _container_environment(service: dict, dotenv: dict[str, str]) -> dict[str, str]:
    """The environment compose gives a container: env_file first, `environment:` over it."""
    env_files = service.get("env_file") or []
    env_files = [env_files] if isinstance(env_files, str) else env_files
    result: dict[str, str] = dict(dotenv) if ".env" in env_files else {}
    for name, value in (service.get("environment") or {}).items():
        result[name] = _substitute(str(value), dotenv)
    return result


@pytest.mark.parametrize("service", PORTAL_SERVICES)
def test_every_declared_variable_set_in_dotenv_reaches_the_service(service: str) -> None:
    spec = _compose()["services"][service]
    dotenv = {v.name: f"from-dotenv-{v.name.lower()}" for v in VARIABLES}
    container = _container_environment(spec, dotenv)
    for variable in VARIABLES:
        assert variable.name in container, f"{variable.name} does not reach {service}"
        if variable.fixed_in_compose:
            assert container[variable.name] != dotenv[variable.name], variable.name
        else:
            assert container[variable.name] == dotenv[variable.name], f"{service} ignores {variable.name} from .env"


def test_the_values_compose_fixes_are_the_declared_ones_and_known_settings() -> None:
    environment = _compose()["x-portal-environment"]
    fixed = {name for name, value in environment.items() if "${" not in str(value)}
    assert fixed == {v.name for v in VARIABLES if v.fixed_in_compose}
    assert set(environment) <= set(BY_NAME), "compose sets a variable the settings do not declare"


def test_compose_needs_only_the_secrets_in_dotenv_and_the_rest_has_defaults() -> None:
    spec = _compose()["services"]["web"]
    container = _container_environment(spec, {"SECRET_KEY": "s" * 60, "EMAIL_URL": "smtp://relay:25"})
    assert container["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert container["SECURE_SSL_REDIRECT"] == "false"
    with pytest.raises(AssertionError, match="set SECRET_KEY"):
        _container_environment(spec, {"EMAIL_URL": "smtp://relay:25"})


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_env_example_names_each_variable(variable) -> None:
    text = (ROOT / ".env.example").read_text()
    assert re.search(rf"^#? ?{variable.name}=", text, re.MULTILINE), f".env.example does not name {variable.name}"


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_operations_guide_names_each_variable(variable) -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    assert f"`{variable.name}`" in text, f"docs/operations.md does not name {variable.name}"


def test_a_setting_read_outside_the_list_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="NOT_A_DECLARED_SETTING is read by the settings but not declared"):
        env.str("NOT_A_DECLARED_SETTING", default="")
    with pytest.raises(ImproperlyConfigured, match="NOT_A_DECLARED_URL"):
        env.db("NOT_A_DECLARED_URL", default="sqlite:///x")


def test_the_settings_modules_read_the_environment_only_through_the_list() -> None:
    """Every mode's reads, even those only production executes, name a declared variable."""
    read = re.compile(r"\benv(?:\.\w+)?\(\s*\"(\w+)\"")
    for module in sorted((ROOT / "config" / "settings").glob("*.py")):
        if module.name == "variables.py":
            continue
        source = module.read_text()
        assert "os.environ" not in source, module.name
        assert "getenv" not in source, module.name
        assert "environ.Env(" not in source, f"{module.name} makes its own reader instead of using variables.env"
        for name in read.findall(source):
            assert name in BY_NAME, f"{module.name} reads {name}, which variables.py does not declare"
    for module in sorted((ROOT / "config").glob("*.py")):
        # Outside the settings only the entry points choose the settings module.
        for line in module.read_text().splitlines():
            if "os.environ" in line:
                assert 'setdefault("DJANGO_SETTINGS_MODULE"' in line, f"{module.name}: {line.strip()}"
