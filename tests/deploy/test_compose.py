"""docker-compose.yml checked statically (no Docker engine here): the Compose Specification schema, the
environment it gives the app against what the settings read, secrets, health checks, GPU, TLS."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from tests.deploy.compose import (
    APP_SERVICES,
    ROOT,
    env_example,
    environment,
    raw,
    referenced_variables,
    resolved,
    secret_mounts,
    settings_variables,
    volume_targets,
)
from tests.system_packages import CADDY_MISSING

# The Compose Specification's JSON schema (Apache-2.0, compose-spec/compose-spec), as check-jsonschema ships it.
COMPOSE_SCHEMA = json.loads(
    files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text(encoding="utf-8")
)
ONE_SHOTS = {"elasticsearch-certs", "elasticsearch-setup", "prepare"}
# Started, not healthy: the app answers with quoted passages until TGI has loaded its model.
STARTED_IS_ENOUGH = {"tgi"}

# What the production stack cannot run without, and the value where one is required.
PRODUCTION_ENVIRONMENT = {
    "DEBUG": "false",
    "SECRET_KEY_FILE": None,
    "AUDIT_KEY_FILE": None,
    "PSEUDONYM_KEY_FILE": None,
    "ALLOWED_HOSTS": None,
    "CSRF_TRUSTED_ORIGINS": None,
    "DATA_DIR": None,
    "DATABASE_URL_FILE": None,
    "REDIS_URL_FILE": None,
    "SEARCH_BACKEND": "elasticsearch",
    "ELASTICSEARCH_URL": None,
    "ELASTICSEARCH_USERNAME": None,
    "ELASTICSEARCH_PASSWORD_FILE": None,
    "ELASTICSEARCH_CA_CERT": None,
    "LLM_BACKEND": "tgi",
    "TGI_URL": None,
    "LOG_FORMAT": "json",
}


@pytest.mark.parametrize("interpolated", [False, True], ids=["as-written", "interpolated"])
def test_compose_file_follows_the_compose_specification(interpolated):
    document = resolved() if interpolated else raw()
    jsonschema.validate(document, COMPOSE_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_schema_check_catches_a_mistake():
    broken = resolved()
    broken["services"]["web"]["healthcheck"]["retires"] = 5
    with pytest.raises(jsonschema.ValidationError, match="retires"):
        jsonschema.validate(broken, COMPOSE_SCHEMA)
    broken = resolved()
    broken["services"]["worker"]["depends_on"]["web"]["condition"] = "service_ready"
    with pytest.raises(jsonschema.ValidationError, match="service_ready"):
        jsonschema.validate(broken, COMPOSE_SCHEMA)


def test_every_interpolated_variable_is_documented_in_env_example_and_nothing_else_is():
    assert referenced_variables() == set(env_example())


def test_compose_needs_the_domain():
    variables = env_example()
    del variables["FARO_DOMAIN"]
    with pytest.raises(ValueError, match="FARO_DOMAIN"):
        resolved(variables)


def test_app_services_share_one_environment_and_every_variable_is_read_by_the_settings():
    services = resolved()["services"]
    environments = [environment(services[name]) for name in APP_SERVICES]
    assert environments[0] == environments[1] == environments[2]
    unknown = set(environments[0]) - settings_variables()
    assert not unknown, f"compose sets variables config/settings.py never reads: {sorted(unknown)}"


def test_every_setting_the_production_stack_needs_is_set():
    services = resolved()["services"]
    env = environment(services["web"])
    for name, required in PRODUCTION_ENVIRONMENT.items():
        assert env.get(name), f"{name} is not set for the app"
        if required is not None:
            assert env[name] == required, name
    assert env["ALLOWED_HOSTS"] == env_example()["FARO_DOMAIN"]
    assert env["CSRF_TRUSTED_ORIGINS"] == f"https://{env_example()['FARO_DOMAIN']}"
    for url_name, service in (("ELASTICSEARCH_URL", "elasticsearch"), ("TGI_URL", "tgi")):
        assert urlsplit(env[url_name]).hostname == service and service in services
    assert urlsplit(env["ELASTICSEARCH_URL"]).scheme == "https", "Elasticsearch runs with TLS"


@pytest.mark.parametrize("service_name", APP_SERVICES)
def test_app_files_come_from_mounted_secrets_and_volumes(service_name):
    service = resolved()["services"][service_name]
    env, secrets, volumes = environment(service), secret_mounts(service), volume_targets(service)
    for name, value in env.items():
        if name.endswith("_FILE"):
            assert value in secrets.values(), f"{name}={value} is not a secret mounted in {service_name}"
    assert env["DATA_DIR"] in volumes
    assert any(env["ELASTICSEARCH_CA_CERT"].startswith(target + "/") for target in volumes)


def test_no_secret_is_written_into_the_compose_file():
    for name, service in raw()["services"].items():
        for variable in environment(service):
            assert not re.search(r"(PASSWORD|SECRET|TOKEN|SECRET_KEY)$", variable), f"{name}: {variable} in clear"
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "postgres://" not in text and "redis://" not in text, "URLs with passwords live in secrets/"


def test_init_secrets_creates_every_secret_file_once(tmp_path):
    target = tmp_path / "secrets"
    subprocess.run(["sh", str(ROOT / "deploy" / "init-secrets.sh"), str(target)], check=True, capture_output=True)
    declared = raw()["secrets"]
    for name, spec in declared.items():
        path = target / Path(spec["file"]).name
        assert path.is_file(), name
        if name != "hf_token":  # optional: only gated models need it
            assert path.read_text().strip(), f"{name} is empty"
    services = raw()["services"]
    database_url = urlsplit((target / "database_url").read_text())
    assert database_url.scheme == "postgres" and database_url.hostname in services
    assert database_url.password == (target / "postgres_password").read_text()
    redis_url = urlsplit((target / "redis_url").read_text())
    assert redis_url.hostname in services and redis_url.password == (target / "redis_password").read_text()
    assert len((target / "secret_key").read_text()) >= 50  # Django's check --deploy wants 50+ characters

    before = {path.name: path.read_text() for path in target.iterdir() if path.is_file()}
    subprocess.run(["sh", str(ROOT / "deploy" / "init-secrets.sh"), str(target)], check=True, capture_output=True)
    assert before == {path.name: path.read_text() for path in target.iterdir() if path.is_file()}, "never rotates"


def test_every_service_has_a_health_check_or_is_a_one_shot():
    services = resolved()["services"]
    for name, service in services.items():
        if name in ONE_SHOTS:
            assert service.get("restart", "no") == "no", f"one-shot {name} must not restart"
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", name


def test_every_dependency_waits_on_the_right_condition():
    services = resolved()["services"]
    roots = set()
    for name, service in services.items():
        depends_on = service.get("depends_on")
        if not depends_on:
            roots.add(name)
            continue
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency, spec in depends_on.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if dependency in ONE_SHOTS:
                expected = "service_completed_successfully"
            elif dependency in STARTED_IS_ENOUGH:
                expected = "service_started"
            else:
                expected = "service_healthy"
            assert spec.get("condition") == expected, f"{name} -> {dependency}"
    assert roots == {"postgres", "redis", "elasticsearch-certs", "tgi"}
    for name in APP_SERVICES:
        assert {"postgres", "redis", "elasticsearch-setup"} <= set(services[name]["depends_on"])
    assert services["web"]["depends_on"]["prepare"]["condition"] == "service_completed_successfully"
    for name in ("worker", "trainer", "beat"):  # after web, so after prepare's migrations and reindex
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy"


def test_an_upgrade_migrates_and_re_embeds_before_anything_serves():
    """An upgrade that changes the embedding model (issue 14: 384 -> 512 dimensions) re-embeds the indexed
    documents (on Elasticsearch into a new index of the new width) before web serves a question or a worker
    writes to the index: the one-shot ``prepare`` migrates, then runs ``reindex --model-changed``, and every
    app service starts after it has finished."""
    services = resolved()["services"]
    prepare = " ".join(services["prepare"]["command"])
    assert prepare.index("manage.py migrate --noinput") < prepare.index("manage.py reindex --model-changed")
    assert "&&" in prepare, "no reindex when the migrations failed"
    assert "migrate" not in " ".join(services["web"]["command"]), "migrations run once, in prepare"
    assert services["web"]["depends_on"]["prepare"]["condition"] == "service_completed_successfully"
    for name in ("worker", "trainer", "beat"):
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy", name


def test_only_the_proxy_publishes_ports():
    services = resolved()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}


def test_tgi_reserves_a_gpu_and_loads_adapters_from_the_shared_volume():
    services = resolved()["services"]
    tgi = services["tgi"]
    devices = tgi["deploy"]["resources"]["reservations"]["devices"]
    assert any(device["driver"] == "nvidia" and "gpu" in device["capabilities"] for device in devices)
    env = environment(tgi)
    assert env["MODEL_ID"] == env_example()["TGI_MODEL_ID"]
    assert "LORA_ADAPTERS" in env
    assert "adapters:/adapters:ro" in tgi["volumes"]
    assert "adapters:/adapters" in services["worker"]["volumes"]
    assert "adapters:/adapters" in services["trainer"]["volumes"]
    assert "hf_token" in secret_mounts(tgi)


def test_elasticsearch_runs_single_node_with_security_tls_a_sized_heap_and_a_data_volume():
    services = resolved()["services"]
    es = environment(services["elasticsearch"])
    assert es["discovery.type"] == "single-node"
    for flag in ("xpack.security.enabled", "xpack.security.http.ssl.enabled", "xpack.security.transport.ssl.enabled"):
        assert es[flag] == "true", flag
    assert es["ELASTIC_PASSWORD_FILE"] in secret_mounts(services["elasticsearch"]).values()
    heap = re.findall(r"-Xm([sx])(\S+)", es["ES_JAVA_OPTS"])
    assert dict(heap)["s"] == dict(heap)["x"], "minimum and maximum heap are equal"
    assert "/usr/share/elasticsearch/data" in volume_targets(services["elasticsearch"])
    assert es["path.repo"] in volume_targets(services["elasticsearch"]), "snapshots have a volume"


def test_faro_connects_to_elasticsearch_as_the_user_the_setup_creates_for_its_indices():
    from django.conf import settings

    script = (ROOT / "deploy" / "elasticsearch" / "setup-users.sh").read_text(encoding="utf-8")
    env = environment(resolved()["services"]["web"])
    assert f"_security/user/{env['ELASTICSEARCH_USERNAME']}" in script
    patterns = re.findall(r'"names": \["([^"]+)"\]', script)
    assert patterns and all(re.fullmatch(p.replace("*", ".*"), settings.ELASTICSEARCH_INDEX) for p in patterns)


def test_proxy_config_uses_only_what_the_proxy_service_sets():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    used = set(re.findall(r"\{\$([A-Z_]+)", caddyfile))
    proxy = resolved()["services"]["proxy"]
    assert used == set(environment(proxy))
    assert "reverse_proxy web:8000" in caddyfile
    # Inside a handle block: a bare `respond` would sort after the catch-all `handle` and never run.
    assert re.search(r"handle @internal \{\s*respond 404", caddyfile)


@pytest.mark.parametrize("tls", ["internal", "it@example.com", "/etc/caddy/tls/faro.crt /etc/caddy/tls/faro.key"])
def test_proxy_config_is_valid_and_hides_internal_endpoints(tls):
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip(f"{CADDY_MISSING}; the static checks above still ran")
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "FARO_DOMAIN": "faro.example.com", "FARO_TLS": tls}
    result = subprocess.run(
        [caddy, "adapt", "--config", str(ROOT / "deploy" / "Caddyfile")], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    server = json.loads(result.stdout)["apps"]["http"]["servers"]["srv0"]
    assert server["listen"] == [":443"]
    routes = server["routes"][0]["handle"][0]["routes"]
    text = [json.dumps(route) for route in routes]
    internal = next(i for i, route in enumerate(text) if '"/metrics"' in route and '"status_code": 404' in route)
    proxied = next(i for i, route in enumerate(text) if '"reverse_proxy"' in route)
    assert internal < proxied, "the proxy would forward /metrics and /health/ready"


def test_dockerfile_has_the_stages_compose_builds_and_installs_cpu_torch():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, flags=re.MULTILINE))
    targets = {service["build"]["target"] for service in raw()["services"].values() if "build" in service}
    assert targets <= stages and len(stages) >= 3
    assert "download.pytorch.org/whl/cpu" in dockerfile
    assert re.search(r"^USER faro$", dockerfile, flags=re.MULTILINE), "the app does not run as root"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {"secrets/", ".env", ".venv/"} <= set(ignored)


def test_shell_snippets_in_the_compose_file_parse():
    for name, service in resolved()["services"].items():
        snippets = []
        test = service.get("healthcheck", {}).get("test") or []
        if test[:1] == ["CMD-SHELL"]:
            snippets.append(test[1])
        for key in ("command", "entrypoint"):
            value = service.get(key)
            if isinstance(value, list) and value[:2] in (["sh", "-c"], ["/bin/sh", "-c"]):
                snippets.append(value[2])
        for snippet in snippets:
            result = subprocess.run(["sh", "-n", "-c", snippet], capture_output=True, text=True)
            assert result.returncode == 0, f"{name}: {snippet}: {result.stderr}"


def test_the_worker_and_the_trainer_consume_the_queues_the_code_sends_to():
    from tuning.tasks import TRAINING_QUEUE

    services = resolved()["services"]
    commands = {name: services[name]["command"] for name in ("worker", "trainer")}
    queue_of = {name: command[command.index("-Q") + 1] for name, command in commands.items()}
    assert queue_of == {"worker": "celery", "trainer": TRAINING_QUEUE}
