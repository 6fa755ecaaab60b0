"""The Render Blueprint (``infra/render.yaml``) checked against Render's rules and against the code it deploys.

A deploy is the only other place most of these mistakes would show up. The code side covers: settings names
(``core.settings.Settings`` ignores unknown ``VIDEOGEN_*`` variables; Prefect ignores unknown ``PREFECT_*``
ones), modules and CLI commands named in start commands, shell variables those commands read, and the work pool
in ``prefect.yaml``. Every assertion message names the service, key or command it tried.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import re
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import AliasChoices, BaseModel, SecretStr

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT_PATH = ROOT / "infra" / "render.yaml"
BLUEPRINT: dict[str, Any] = yaml.safe_load(BLUEPRINT_PATH.read_text())
PREFECT_YAML: dict[str, Any] = yaml.safe_load((ROOT / "prefect.yaml").read_text())

SERVICES: dict[str, dict[str, Any]] = {s["name"]: s for s in BLUEPRINT.get("services", [])}
DATABASES: dict[str, dict[str, Any]] = {d["name"]: d for d in BLUEPRINT.get("databases", [])}
GROUPS: dict[str, dict[str, Any]] = {g["name"]: g for g in BLUEPRINT.get("envVarGroups", [])}

# Render's Blueprint spec (https://render.com/docs/blueprint-spec)
TOP_LEVEL = {"services", "databases", "envVarGroups", "previews", "projects", "ungrouped"}
CODE_KEYS = {"type", "name", "runtime", "buildCommand", "startCommand"}  # services built from this repo
REQUIRED_KEYS = {
    "web": CODE_KEYS,
    "worker": CODE_KEYS,
    "pserv": CODE_KEYS,
    "cron": CODE_KEYS | {"schedule"},
    "keyvalue": {"type", "name", "ipAllowList"},
}
SERVICE_PROPERTIES = {"host", "port", "hostport"}  # fromService; a Key Value also has connectionString
DATABASE_PROPERTIES = {"connectionString", "host", "port", "user", "password", "database"}
VALUE_SOURCES = ("value", "generateValue", "sync", "fromDatabase", "fromService")
GROUP_VALUE_SOURCES = ("value", "generateValue", "sync")  # groups cannot reference services or databases
COMMANDS = ("buildCommand", "preDeployCommand", "startCommand")

# Variables the commands may read without the Blueprint defining them: the shell sets PWD, and Render sets PORT
# and RENDER_EXTERNAL_URL on web services only.
SHELL_PROVIDED = {"PWD"}
WEB_PROVIDED = {"PORT", "RENDER_EXTERNAL_URL"}
# Environment variables read by something other than our settings, Prefect or our start commands.
OUTSIDE_CONSUMERS = {
    "PYTHON_VERSION": "Render's Python runtime",
    "PYTHONUNBUFFERED": "the Python interpreter",
    "DO_NOT_TRACK": "Prefect's and other libraries' telemetry opt-out",
    "OPENAI_API_KEY": "core.settings fallback for VIDEOGEN_OPENAI__API_KEY",
    "REPLICATE_API_TOKEN": "core.settings fallback for VIDEOGEN_REPLICATE__API_TOKEN",
}
SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "API_KEY", "ACCESS_KEY", "AUTH_STRING")


# ---------------------------------------------------------------- helpers


def env_entries(service: dict[str, Any]) -> list[dict[str, Any]]:
    """The service's own env entries plus those of the groups it pulls in (each entry has a ``key``)."""
    entries: list[dict[str, Any]] = []
    for entry in service.get("envVars", []):
        if "fromGroup" in entry:
            entries.extend(GROUPS.get(entry["fromGroup"], {}).get("envVars", []))  # unknown: see the refs test
        else:
            entries.append(entry)
    return entries


def env_keys(service: dict[str, Any]) -> set[str]:
    return {entry["key"] for entry in env_entries(service)}


def commands(service: dict[str, Any]) -> dict[str, str]:
    return {field: service[field] for field in COMMANDS if field in service}


def exported(command: str) -> dict[str, str]:
    """``export A="x" B=y`` assignments in a command: name -> value (quotes removed)."""
    found: dict[str, str] = {}
    for clause in re.findall(r"\bexport\s+((?:[A-Z_][A-Z0-9_]*=(?:\"[^\"]*\"|\S*)\s*)+)", command):
        for name, value in re.findall(r"([A-Z_][A-Z0-9_]*)=(\"[^\"]*\"|\S*)", clause):
            found[name] = value.strip('"')
    return found


def read_vars(command: str) -> set[str]:
    return set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", command))


def all_env_keys() -> set[str]:
    keys = {entry["key"] for group in GROUPS.values() for entry in group["envVars"]}
    for service in SERVICES.values():
        keys |= {entry["key"] for entry in service.get("envVars", []) if "key" in entry}
    return keys


def prefect_yaml_templates() -> set[str]:
    """Environment variables that prefect.yaml reads through ``{{ $NAME }}`` (e.g. VIDEOGEN_HOME)."""
    return set(re.findall(r"\{\{\s*\$([A-Z_][A-Z0-9_]*)\s*\}\}", (ROOT / "prefect.yaml").read_text()))


def settings_path(env_name: str) -> list[str]:
    """VIDEOGEN_STORAGE__ACCESS_KEY_ID -> ["storage", "access_key_id"] (env_prefix + "__" nesting)."""
    return [part.lower() for part in env_name.removeprefix("VIDEOGEN_").split("__")]


def has_field(model: type[BaseModel], path: list[str]) -> bool:
    head, *rest = path
    field = model.model_fields.get(head)
    if field is None:
        return False
    if not rest:
        return True
    nested = field.annotation
    return isinstance(nested, type) and issubclass(nested, BaseModel) and has_field(nested, rest)


def as_text(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):  # list settings also take one comma-separated value
        return ",".join(map(str, value))
    return str(value)


@functools.cache
def prefect_env_names() -> frozenset[str]:
    """Every environment variable name Prefect's settings (and prefect-redis's) accept, aliases included."""
    from prefect.settings import Settings as PrefectSettings
    from prefect.settings.base import PrefectBaseSettings
    from prefect_redis.client import RedisMessagingSettings

    names: set[str] = set()

    def walk(model: type[BaseModel]) -> None:
        prefix = str(model.model_config.get("env_prefix", ""))
        for name, field in model.model_fields.items():
            nested = field.annotation
            if isinstance(nested, type) and issubclass(nested, PrefectBaseSettings):
                walk(nested)
                continue
            names.add(f"{prefix}{name}".upper())
            if isinstance(field.validation_alias, AliasChoices):
                names.update(c.upper() for c in field.validation_alias.choices if isinstance(c, str))

    walk(PrefectSettings)
    walk(RedisMessagingSettings)
    return frozenset(names)


def code_services() -> list[str]:
    return [name for name, s in SERVICES.items() if s["type"] in {"web", "worker", "pserv", "cron"}]


def sample_value(entry: dict[str, Any]) -> str:
    """What Render would put in the variable: the literal value, or a stand-in for generated/prompted/linked ones."""
    if "value" in entry:
        return str(entry["value"])
    ref = entry.get("fromDatabase") or entry.get("fromService") or {}
    return "5432" if ref.get("property") == "port" else f"sample-{entry['key'].lower()}"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No VIDEOGEN_/vendor variables from the test session or the developer's shell."""
    for name in list(os.environ):
        if name.startswith("VIDEOGEN_") or name in OUTSIDE_CONSUMERS:
            monkeypatch.delenv(name)
    return monkeypatch


# ---------------------------------------------------------------- Render's rules


def test_top_level_keys_and_unique_names() -> None:
    assert set(BLUEPRINT) <= TOP_LEVEL, f"unknown top-level keys in {BLUEPRINT_PATH.name}: {set(BLUEPRINT) - TOP_LEVEL}"
    names = [s["name"] for s in BLUEPRINT["services"]] + [d["name"] for d in BLUEPRINT.get("databases", [])]
    assert len(names) == len(set(names)), f"duplicate service/database names: {names}"
    groups = [g["name"] for g in BLUEPRINT.get("envVarGroups", [])]
    assert len(groups) == len(set(groups)), f"duplicate env group names: {groups}"


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_has_the_keys_render_requires_for_its_type(name: str) -> None:
    service = SERVICES[name]
    kind = service.get("type")
    assert kind in REQUIRED_KEYS, f"{name}: unknown service type {kind!r}"
    missing = REQUIRED_KEYS[kind] - set(service)
    assert not missing, f"{name} ({kind}) lacks {sorted(missing)}"
    if kind in {"web", "worker", "pserv", "cron"}:
        assert service["runtime"] == "python", f"{name}: runtime {service['runtime']!r}"
        assert "uv sync --frozen --no-dev" in service["buildCommand"], f"{name}: build does not sync the lock"
    if kind == "web":
        assert service.get("healthCheckPath", "").startswith("/"), f"{name}: web service without healthCheckPath"
    if kind == "keyvalue":
        assert service["ipAllowList"] == [], f"{name}: Key Value reachable from outside ({service['ipAllowList']})"


@pytest.mark.parametrize("name", list(DATABASES))
def test_database_is_private_and_new_enough_for_prefect(name: str) -> None:
    database = DATABASES[name]
    assert database.get("ipAllowList") == [], f"database {name}: ipAllowList must be [] (private network only)"
    major = int(database.get("postgresMajorVersion", 0))
    assert major >= 14, f"database {name}: postgresMajorVersion {major}; Prefect needs Postgres >= 14.9"


def test_everything_runs_in_one_region() -> None:
    """Render's private network (fromService host/port, the internal database URL) only spans one region."""
    regions = {r.get("region", "oregon") for r in [*SERVICES.values(), *DATABASES.values()]}
    assert len(regions) == 1, f"services and databases span regions {regions}"


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_env_entries_have_one_source_each_and_no_duplicates(name: str) -> None:
    for entry in SERVICES[name].get("envVars", []):
        if "fromGroup" in entry:
            assert set(entry) == {"fromGroup"}, f"{name}: fromGroup entry with extra keys {entry}"
            continue
        sources = [s for s in VALUE_SOURCES if s in entry]
        assert "key" in entry and len(sources) == 1, f"{name}: env entry {entry} needs a key and one source"
        if "sync" in entry:
            assert entry["sync"] is False, f"{name}: {entry['key']} has sync other than false"
    keys = [entry["key"] for entry in env_entries(SERVICES[name])]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert not duplicates, f"{name}: {duplicates} set twice (own envVars and/or groups)"


@pytest.mark.parametrize("group", list(GROUPS))
def test_env_group_entries_use_only_what_groups_support(group: str) -> None:
    for entry in GROUPS[group]["envVars"]:
        sources = [s for s in entry if s != "key"]
        assert "key" in entry and len(sources) == 1, f"group {group}: {entry} needs a key and one source"
        assert sources[0] in GROUP_VALUE_SOURCES, f"group {group}: {entry['key']} uses {sources[0]} (not in groups)"


def test_references_name_resources_defined_in_the_file() -> None:
    tried = 0
    for name, service in SERVICES.items():
        for entry in service.get("envVars", []):
            tried += 1
            if "fromGroup" in entry:
                assert entry["fromGroup"] in GROUPS, f"{name}: fromGroup {entry['fromGroup']!r} is not defined"
            elif "fromDatabase" in entry:
                ref = entry["fromDatabase"]
                assert ref["name"] in DATABASES, f"{name}.{entry['key']}: no database {ref['name']!r}"
                assert ref["property"] in DATABASE_PROPERTIES, f"{name}.{entry['key']}: property {ref['property']!r}"
            elif "fromService" in entry:
                ref = entry["fromService"]
                target = SERVICES.get(ref["name"])
                assert target is not None, f"{name}.{entry['key']}: no service {ref['name']!r}"
                assert ref["type"] == target["type"], f"{name}.{entry['key']}: {ref['name']} is a {target['type']}"
                if "envVarKey" in ref:
                    assert ref["envVarKey"] in env_keys(target), f"{name}.{entry['key']}: {ref} names no variable"
                else:
                    allowed = SERVICE_PROPERTIES | ({"connectionString"} if target["type"] == "keyvalue" else set())
                    assert ref["property"] in allowed, f"{name}.{entry['key']}: property {ref['property']!r}"
    assert tried, "no env entries were checked"


def test_no_secret_is_committed_in_the_file() -> None:
    for scope, entries in [(f"group {g}", grp["envVars"]) for g, grp in GROUPS.items()] + [
        (f"service {s}", svc.get("envVars", [])) for s, svc in SERVICES.items()
    ]:
        for entry in entries:
            key = entry.get("key", "")
            if any(word in key for word in SECRET_WORDS):
                assert "value" not in entry, f"{scope}: {key} has a literal value; use sync: false or generateValue"


# ---------------------------------------------------------------- settings names


@pytest.mark.parametrize(
    "key",
    sorted(
        {k for k in all_env_keys() if k.startswith("VIDEOGEN_")}
        | {k for s in SERVICES.values() for c in commands(s).values() for k in exported(c) if k.startswith("VIDEOGEN_")}
    ),
)
def test_videogen_variable_is_a_settings_field(key: str) -> None:
    if key in prefect_yaml_templates():  # read by prefect.yaml's pull step in the worker's flow runs, not Settings
        worker_exports = exported(SERVICES["videogen-worker"]["startCommand"])
        assert key in worker_exports or key in env_keys(SERVICES["videogen-worker"]), f"the worker lacks {key}"
        return
    path = settings_path(key)
    assert has_field(Settings, path), f"{key} -> Settings.{'.'.join(path)} does not exist (it would be ignored)"


@pytest.mark.parametrize(
    "name", [n for n in code_services() if any(k.startswith("VIDEOGEN_") for k in env_keys(SERVICES[n]))]
)
def test_service_environment_lands_in_settings(name: str, clean_env: pytest.MonkeyPatch) -> None:
    """The service's whole environment at once (literal values, stand-ins for secrets) builds a valid Settings."""
    entries = [e for e in env_entries(SERVICES[name]) if e["key"].startswith("VIDEOGEN_")]
    for entry in entries:
        clean_env.setenv(entry["key"], sample_value(entry))
    settings = Settings(_env_file=None)
    for entry in entries:
        landed = functools.reduce(getattr, settings_path(entry["key"]), settings)
        assert as_text(landed) == sample_value(entry), f"{name}: {entry['key']}={sample_value(entry)!r} -> {landed!r}"


@pytest.mark.parametrize("name", code_services())
def test_every_env_variable_has_a_reader(name: str) -> None:
    """PREFECT_* must be a Prefect (or prefect-redis) setting, unless the service's own commands read it."""
    service = SERVICES[name]
    read = set().union(*(read_vars(c) for c in commands(service).values()))
    for key in env_keys(service):
        if key.startswith("VIDEOGEN_") or key in read or key in OUTSIDE_CONSUMERS:
            continue
        assert key.startswith("PREFECT_"), f"{name}: nothing reads {key}"
        assert key in prefect_env_names(), f"{name}: {key} is not a Prefect setting (it would be ignored)"


@pytest.mark.parametrize("name", code_services())
def test_shell_variables_in_commands_are_defined(name: str) -> None:
    service = SERVICES[name]
    defined = env_keys(service) | SHELL_PROVIDED | (WEB_PROVIDED if service["type"] == "web" else set())
    for field, command in commands(service).items():
        undefined = read_vars(command) - defined - set(exported(command))
        assert not undefined, f"{name}.{field} reads {sorted(undefined)}, which nothing defines"


def test_prefect_server_environment_builds_the_postgres_and_redis_settings(clean_env: pytest.MonkeyPatch) -> None:
    """prefect-server's env (stand-ins for the database/Key Value parts) read back through Prefect's settings."""
    from prefect.settings import Settings as PrefectSettings
    from prefect_redis.client import RedisMessagingSettings

    server = SERVICES["prefect-server"]
    for entry in env_entries(server):
        if entry["key"].startswith("PREFECT_"):
            clean_env.setenv(entry["key"], sample_value(entry))
    for key, value in exported(server["startCommand"]).items():
        clean_env.setenv(key, value.replace("$", "sample-"))
    settings = PrefectSettings()
    url = settings.server.database.connection_url
    assert url is not None and url.get_secret_value().startswith("postgresql+asyncpg://"), f"database URL {url}"
    assert settings.server.events.messaging_broker == "prefect_redis.messaging"
    assert settings.server.events.messaging_cache == "prefect_redis.messaging"
    assert settings.server.api.auth_string is not None, "the public server must require an auth string"
    redis = RedisMessagingSettings()
    assert redis.host.startswith("sample-") and redis.db == 1, f"prefect-redis reads host={redis.host} db={redis.db}"
    assert server["healthCheckPath"] == "/api/health", "the only unauthenticated GET on an auth-protected server"


# ---------------------------------------------------------------- code named in commands


def start_modules() -> list[tuple[str, str, str | None]]:
    """(service, module, attribute) for `python -m X` and `uvicorn [--factory] X:attr` in every command."""
    found: list[tuple[str, str, str | None]] = []
    for name, service in SERVICES.items():
        for command in commands(service).values():
            found += [(name, module, None) for module in re.findall(r"python\s+-m\s+([\w.]+)", command)]
            found += [(name, m, a) for m, a in re.findall(r"uvicorn\s+(?:--factory\s+)?([\w.]+):(\w+)", command)]
    return found


@pytest.mark.parametrize(("service", "module", "attr"), start_modules())
def test_module_in_command_is_importable(service: str, module: str, attr: str | None) -> None:
    assert importlib.util.find_spec(module) is not None, f"{service}: module {module} not found"
    if attr is not None:
        assert callable(getattr(importlib.import_module(module), attr, None)), f"{service}: {module}:{attr} missing"


def videogen_invocations() -> list[tuple[str, list[str]]]:
    """(service, words) for each `videogen <command...>` the Blueprint runs."""
    found: list[tuple[str, list[str]]] = []
    for name, service in SERVICES.items():
        for command in commands(service).values():
            for words in re.findall(r"(?:^|&&|;|\bexec)\s*(?:\S*/)?videogen((?:\s+[a-z][\w-]*)+)", command):
                found.append((name, words.split()))
    return found


@pytest.mark.parametrize(("service", "words"), videogen_invocations())
def test_videogen_cli_command_exists(service: str, words: list[str]) -> None:
    from flows.cli import app

    command: Any = typer.main.get_command(app)  # Typer vendors click: duck-type the groups
    for depth, word in enumerate(words):
        subcommands = getattr(command, "commands", None)
        if not isinstance(subcommands, dict):
            return  # a leaf command: the remaining words are its arguments
        command = subcommands.get(word)
        assert command is not None, f"{service}: `videogen {' '.join(words[: depth + 1])}` is not a command"


def test_worker_predeploy_prepares_storage() -> None:
    worker = SERVICES["videogen-worker"]
    assert "videogen infra apply-lifecycle" in worker.get("preDeployCommand", ""), "worker preDeployCommand"


# ---------------------------------------------------------------- Prefect wiring


def test_worker_pool_matches_prefect_yaml() -> None:
    pools = {d["work_pool"]["name"] for d in PREFECT_YAML["deployments"]}
    assert len(pools) == 1, f"prefect.yaml deployments use several pools: {pools}"
    workers = [s for s in SERVICES.values() if "prefect worker start" in s.get("startCommand", "")]
    assert workers, "no service runs `prefect worker start`"
    (pool,) = pools
    for worker in workers:
        start = worker["startCommand"]
        assert re.findall(r"--pool\s+(\S+)", start) == [pool], f"{worker['name']}: {start}"
        assert re.findall(r"--type\s+(\S+)", start) == ["process"], f"{worker['name']}: {start}"
        assert worker.get("numInstances", 1) >= 2, f"{worker['name']}: numInstances {worker.get('numInstances')}"
        created = re.findall(r"work-pool create\s+(\S+)\s+--type\s+(\S+)", worker.get("preDeployCommand", ""))
        assert created == [(pool, "process")], f"{worker['name']} preDeployCommand creates {created}"


@pytest.mark.parametrize("name", [n for n in code_services() if n != "prefect-server"])
def test_prefect_clients_get_the_servers_api_url(name: str) -> None:
    """Each client exports PREFECT_API_URL=http://<prefect-server hostport>/api before anything else runs."""
    service = SERVICES[name]
    hostport = {
        e["key"]
        for e in service.get("envVars", [])
        if e.get("fromService", {}).get("name") == "prefect-server" and e["fromService"].get("property") == "hostport"
    }
    for field in ("preDeployCommand", "startCommand"):
        if field not in service:
            continue
        url = exported(service[field]).get("PREFECT_API_URL")
        assert url is not None, f"{name}.{field} does not export PREFECT_API_URL"
        assert re.fullmatch(r"http://\$\{?(\w+)\}?/api", url), f"{name}.{field}: PREFECT_API_URL={url}"
        assert read_vars(url) <= hostport, f"{name}.{field}: {url} is not built from prefect-server's hostport"
        assert service[field].lstrip().startswith("export PREFECT_API_URL="), f"{name}.{field} sets it too late"


def test_worker_results_go_to_the_block_apply_lifecycle_registers(clean_env: pytest.MonkeyPatch) -> None:
    worker = SERVICES["videogen-worker"]
    env = {e["key"]: sample_value(e) for e in env_entries(worker)}
    for key, value in env.items():
        if key.startswith("VIDEOGEN_"):
            clean_env.setenv(key, value)
    block = Settings(_env_file=None).storage.results_block
    assert env.get("PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK") == f"s3-bucket/{block}", f"worker env: {env}"
    assert env.get("PREFECT_RESULTS_PERSIST_BY_DEFAULT") == "true"


def test_api_and_workers_share_the_storage_settings() -> None:
    """Uploads written by the API are read by the workers, results the other way round."""
    api, worker = (
        {e["key"]: e for e in env_entries(SERVICES[n]) if e["key"].startswith("VIDEOGEN_STORAGE__")}
        for n in ("videogen-api", "videogen-worker")
    )
    assert api == worker, f"storage settings differ: api {sorted(api)} vs worker {sorted(worker)}"
    assert api["VIDEOGEN_STORAGE__BACKEND"].get("value") == "s3", "production storage must be S3"
