"""Checks of examples/: the container config, docker-compose.yml, the Dockerfile, the Kubernetes
manifest and the systemd unit.

Each file is parsed and the structure that makes the sidecar work is asserted: one socket path
everywhere (config, volumes, probes, app environment), probes that call fallbackctl on it, grace
periods longer than the daemon's shutdown grace, the security settings. Where a real validator
runs offline it runs too:

- `fallbackd --check-config` on both configs (needs the binary: FALLBACKD_BIN, else .build/debug);
- `systemd-analyze verify` and `systemd-analyze security --offline` on the unit;
- `docker compose config -q` when the compose plugin is installed. When it is not, the test says
  so in a warning and checks every key against the compose specification's key lists instead;
- `kubectl apply --dry-run=client` when kubectl can reach a cluster. Without one, kubectl still
  decodes the Deployment into its typed API objects offline (`kubectl set serviceaccount --local`),
  and every field of the file must survive that round trip (a misspelt or misplaced field does
  not); the test says which of the two ran in a warning.

A live daemon (FALLBACKD_BIN and FALLBACKCTL_BIN) then runs every probe command of the examples,
and compose-app/app.py sends a request through the OpenAI SDK on the HTTP socket.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path, PurePosixPath

import pytest
import yaml

from examples_lib import (APP, COMPOSE, CONFIG, DOCKERFILE, DOCKERIGNORE, EXAMPLES, K8S, KEY_VARIABLES, ROOT, SYSUSERS,
                          UNIT, check_config, clean_env, grace_ms, http_socket_for, load_compose, load_k8s, load_toml,
                          parse_dockerfile, parse_duration_s, parse_unit)

SOCKET_DIR = "/run/fallbackd"
STATE_DIR = "/var/lib/fallbackd"
CONFIG_IN_IMAGE = "/etc/fallbackd/fallbackd.toml"


@pytest.fixture(scope="module")
def config() -> dict:
    return load_toml(CONFIG)


@pytest.fixture(scope="module")
def config_socket(config) -> str:
    return config["daemon"]["socket"]


def parent(path: str) -> str:
    return str(PurePosixPath(path).parent)


def under(path: str, directory: str) -> bool:
    return PurePosixPath(path).parent == PurePosixPath(directory)


def assert_probe(argv: list[str], socket_path: str, subcommand: str, where: str):
    assert argv[0] == "fallbackctl", f"{where}: the probe runs {argv[0]!r}, not fallbackctl: {argv}"
    assert "--socket" in argv, f"{where}: the probe does not name the socket: {argv}"
    named = argv[argv.index("--socket") + 1]
    assert named == socket_path, f"{where}: the probe asks {named}, the daemon listens on {socket_path}"
    assert argv[-1] == subcommand, f"{where}: the probe's subcommand is {argv[-1]!r}, expected {subcommand!r}"


# =========================================================================== examples/config


def test_container_config_passes_check_config(fallbackd_bin):
    keys = {name: f"test-{name.lower()}" for name in KEY_VARIABLES}
    result = check_config(fallbackd_bin, CONFIG, clean_env(**keys))
    assert result.returncode == 0, f"--check-config {CONFIG} failed:\n{result.stderr}"
    assert "config OK" in result.stdout
    assert "warning" not in result.stderr, f"warnings with every key variable set:\n{result.stderr}"


def test_container_config_without_keys_only_warns(fallbackd_bin):
    result = check_config(fallbackd_bin, CONFIG, clean_env())
    assert result.returncode == 0, result.stderr
    for name in KEY_VARIABLES:
        assert name in result.stderr, f"no warning names the unset {name}:\n{result.stderr}"


def test_container_config_places_files_for_containers(config):
    daemon = config["daemon"]
    assert under(daemon["socket"], SOCKET_DIR), daemon["socket"]
    assert daemon["socket"].endswith(".sock")
    assert under(daemon["database"], STATE_DIR), daemon["database"]
    assert daemon.get("socket_mode") == "0660", "the app container (another uid, same gid) needs group access"
    assert daemon.get("log_format") == "json"
    assert grace_ms(config) == 10_000
    for name, provider in config["providers"].items():
        assert "api_key" not in provider, f"providers.{name}: a literal key in an example"
        assert provider.get("api_key_env") in KEY_VARIABLES, f"providers.{name}: key not from the environment"


def test_container_config_pool_matches_the_repository_config(config):
    """The examples run the seed's pool and chains, as config/fallbackd.toml does."""
    seed = load_toml(ROOT / "config" / "fallbackd.toml")
    assert config["chains"] == seed["chains"]
    assert set(config["models"]) == set(seed["models"])
    for name, model in config["models"].items():
        for key in ("provider", "model_id", "cost_per_1k_input", "cost_per_1k_output"):
            assert model[key] == seed["models"][name][key], f"models.{name}.{key}"


def key_file_variant(text: str, key_dir: Path, allow_shared: bool) -> str:
    """The config with every `api_key_env = "X"` replaced by an api_key_file in key_dir."""
    def replace(match):
        line = f'api_key_file = "{key_dir}/{match.group(1).lower()}"'
        return line + ("\nallow_shared_key_file = true" if allow_shared else "")
    return re.sub(r'^api_key_env = "([A-Z_]+)"$', replace, text, flags=re.M)


def test_container_config_with_key_files(fallbackd_bin, tmp_path):
    """The config's comment: api_key_file works with a 0600 file and refuses a group-readable one."""
    keys = tmp_path / "keys"
    keys.mkdir()
    for name in KEY_VARIABLES:
        path = keys / name.lower()
        path.write_text("test-key\n")
        path.chmod(0o600)
    variant = tmp_path / "fallbackd.toml"
    variant.write_text(key_file_variant(CONFIG.read_text(), keys, allow_shared=False))
    result = check_config(fallbackd_bin, variant)
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    (keys / "openai_api_key").chmod(0o640)
    result = check_config(fallbackd_bin, variant)
    assert result.returncode != 0, "a group-readable key file was accepted"
    assert "allow_shared_key_file" in result.stderr, result.stderr


# =========================================================================== docker-compose.yml

COMPOSE_TOP_KEYS = {"version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models"}
COMPOSE_SERVICE_KEYS = {
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent", "command",
    "configs", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period",
    "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "credential_spec", "depends_on", "deploy", "develop",
    "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname", "driver_opts", "entrypoint",
    "env_file", "environment", "expose", "extends", "external_links", "extra_hosts", "gpus", "group_add",
    "healthcheck", "hostname", "image", "init", "ipc", "isolation", "label_file", "labels", "links", "logging",
    "mac_address", "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit", "models", "network_mode",
    "networks", "oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform", "ports", "post_start",
    "pre_stop", "privileged", "profiles", "provider", "pull_policy", "read_only", "restart", "runtime", "scale",
    "secrets", "security_opt", "shm_size", "stdin_open", "stop_grace_period", "stop_signal", "storage_opt", "sysctls",
    "tmpfs", "tty", "ulimits", "use_api_socket", "user", "userns_mode", "uts", "volumes", "volumes_from", "working_dir",
}
COMPOSE_BUILD_KEYS = {
    "context", "dockerfile", "dockerfile_inline", "args", "ssh", "cache_from", "cache_to", "additional_contexts",
    "entitlements", "extra_hosts", "isolation", "labels", "network", "no_cache", "platforms", "privileged", "pull",
    "secrets", "shm_size", "tags", "target", "ulimits",
}
COMPOSE_HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
COMPOSE_VOLUME_MOUNT_KEYS = {"type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs", "image"}
COMPOSE_DEPENDS_KEYS = {"condition", "restart", "required"}
COMPOSE_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def compose_mounts(service: dict) -> list[dict]:
    """Every volume entry of a service in long syntax."""
    mounts = []
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            mounts.append(entry)
            continue
        parts = entry.split(":")
        source, target = parts[0], parts[1]
        mode = parts[2] if len(parts) > 2 else "rw"
        kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        mounts.append({"type": kind, "source": source, "target": target, "read_only": "ro" in mode.split(",")})
    return mounts


def mount_at(service: dict, target: str) -> dict | None:
    return next((m for m in compose_mounts(service) if m["target"] == target), None)


def compose_env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: str(v) for k, v in env.items()}


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


def test_compose_shares_the_socket_volume(compose, config_socket):
    services, volumes = compose["services"], compose.get("volumes") or {}
    assert set(services) >= {"app", "fallbackd"}
    daemon_mount = mount_at(services["fallbackd"], SOCKET_DIR)
    app_mount = mount_at(services["app"], SOCKET_DIR)
    assert daemon_mount and app_mount, f"both services must mount a volume at {SOCKET_DIR}"
    assert daemon_mount["type"] == app_mount["type"] == "volume", "a named volume, not a bind mount"
    assert daemon_mount["source"] == app_mount["source"], "the two services mount different volumes"
    assert daemon_mount["source"] in volumes, f"volume {daemon_mount['source']} is not declared"
    assert parent(config_socket) == SOCKET_DIR, "the config's socket is not in the shared volume"
    assert not daemon_mount.get("read_only"), "fallbackd must create its sockets in the volume"
    assert app_mount.get("read_only"), "the app needs no write access to the socket volume"


def test_compose_state_volume(compose, config):
    state = mount_at(compose["services"]["fallbackd"], STATE_DIR)
    assert state and state["type"] == "volume" and state["source"] in (compose.get("volumes") or {})
    assert under(config["daemon"]["database"], STATE_DIR)
    assert mount_at(compose["services"]["app"], STATE_DIR) is None, "the app has no business with the call log"


def test_compose_app_environment_names_the_sockets(compose, config_socket):
    env = compose_env(compose["services"]["app"])
    assert env.get("FALLBACKD_SOCKET") == config_socket
    assert env.get("FALLBACKD_HTTP_SOCKET") == http_socket_for(config_socket)
    task = env.get("FALLBACKD_TASK")
    assert task is None or task in load_toml(CONFIG)["chains"], f"FALLBACKD_TASK={task} is not a chain"


def test_compose_healthcheck_and_start_order(compose, config_socket, config):
    daemon, app = compose["services"]["fallbackd"], compose["services"]["app"]
    test = daemon["healthcheck"]["test"]
    assert isinstance(test, list) and test[0] == "CMD", f"exec-form healthcheck expected (no shell in the image): {test}"
    assert_probe(test[1:], config_socket, "ready", "compose healthcheck")
    depends = app["depends_on"]
    assert isinstance(depends, dict) and depends["fallbackd"]["condition"] == "service_healthy"
    assert daemon.get("stop_signal", "SIGTERM") == "SIGTERM"
    stop = parse_duration_s(daemon.get("stop_grace_period", "10s"))
    assert stop > grace_ms(config) / 1000, f"stop_grace_period {stop}s does not exceed shutdown_grace_ms"


def test_compose_builds_and_users(compose):
    daemon, app = compose["services"]["fallbackd"], compose["services"]["app"]
    build = daemon["build"]
    context = (COMPOSE.parent / build["context"]).resolve()
    assert context == ROOT, f"the fallbackd image builds from the repository root, not {context}"
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE
    app_build = app["build"] if isinstance(app["build"], str) else app["build"]["context"]
    assert (COMPOSE.parent / app_build / "Dockerfile").is_file()
    uid, gid = dockerfile_user()
    app_uid, app_gid = (int(x) for x in str(app["user"]).split(":"))
    assert app_gid == gid, f"the app's group {app_gid} is not fallbackd's {gid}: it could not open the 0660 sockets"
    assert app_uid not in (0, uid), "the app runs as its own non-root user"


def test_compose_hardening_and_keys(compose):
    for name, service in compose["services"].items():
        assert service.get("read_only") is True, f"{name}: read_only root"
        assert service.get("cap_drop") == ["ALL"], f"{name}: drop every capability"
        assert "no-new-privileges:true" in service.get("security_opt", []), name
    env = compose_env(compose["services"]["fallbackd"])
    for name in KEY_VARIABLES:
        assert re.fullmatch(r"\$\{" + name + r"(:?-[^}]*)?\}", env.get(name, "")), \
            f"{name} must come from the host environment, not be written in the file: {env.get(name)!r}"


def static_compose_check(compose: dict):
    """What `docker compose config` would reject that this file could get wrong: unknown keys,
    malformed interpolation, depends_on conditions and references."""
    problems = []
    for key in compose:
        if key not in COMPOSE_TOP_KEYS and not key.startswith("x-"):
            problems.append(f"unknown top-level key {key}")
    services = compose.get("services", {})
    for name, service in services.items():
        for key in service:
            if key not in COMPOSE_SERVICE_KEYS and not key.startswith("x-"):
                problems.append(f"services.{name}: unknown key {key}")
        if isinstance(service.get("build"), dict):
            problems += [f"services.{name}.build: unknown key {k}" for k in service["build"]
                         if k not in COMPOSE_BUILD_KEYS]
        problems += [f"services.{name}.healthcheck: unknown key {k}" for k in service.get("healthcheck", {})
                     if k not in COMPOSE_HEALTHCHECK_KEYS]
        for entry in service.get("volumes", []):
            if isinstance(entry, dict):
                problems += [f"services.{name}.volumes: unknown key {k}" for k in entry
                             if k not in COMPOSE_VOLUME_MOUNT_KEYS]
        for mount in compose_mounts(service):
            if mount["type"] == "volume" and mount["source"] not in (compose.get("volumes") or {}):
                problems.append(f"services.{name}: volume {mount['source']} is not declared")
        depends = service.get("depends_on", {})
        for other, spec in (depends.items() if isinstance(depends, dict) else ((d, {}) for d in depends)):
            if other not in services:
                problems.append(f"services.{name}.depends_on: no service {other}")
            problems += [f"services.{name}.depends_on.{other}: unknown key {k}" for k in spec
                         if k not in COMPOSE_DEPENDS_KEYS]
            if spec.get("condition", "service_started") not in COMPOSE_CONDITIONS:
                problems.append(f"services.{name}.depends_on.{other}: bad condition {spec['condition']}")
    for match in re.finditer(r"\$(\$|\{[^}]*\}|[A-Za-z_])", COMPOSE.read_text()):
        token = match.group(0)
        if token != "$$" and not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*((:?[-?+])[^}]*)?\}", token):
            problems.append(f"malformed interpolation {token}")
    assert not problems, "\n".join(problems)


def test_static_compose_check_catches_mistakes():
    """The fallback for a missing `docker compose` is only worth something if it fails on a typo."""
    with pytest.raises(AssertionError, match="unknown key stop_grace"):
        static_compose_check({"services": {"a": {"image": "x", "stop_grace": "5s"}}})
    with pytest.raises(AssertionError, match="bad condition"):
        static_compose_check({"services": {"a": {"image": "x", "depends_on": {"b": {"condition": "healthy"}}},
                                           "b": {"image": "y"}}})


def docker_compose_available() -> bool:
    if not shutil.which("docker"):
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    return probe.returncode == 0


def test_compose_file_validates(compose):
    """`docker compose config -q` when the compose plugin is here (it needs no engine); otherwise
    the specification check below, and a warning that says which one ran."""
    static_compose_check(compose)
    if not docker_compose_available():
        warnings.warn("docker compose is not installed: docker-compose.yml was checked against the compose "
                      "specification's key lists only, not by `docker compose config`")
        return
    env = clean_env(**{name: "" for name in KEY_VARIABLES})
    result = subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                            timeout=60, env=env, cwd=EXAMPLES)
    assert result.returncode == 0, f"docker compose config rejected the file:\n{result.stderr}"


# =========================================================================== Dockerfile


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return parse_dockerfile(DOCKERFILE)


def stages(instructions) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions:
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, rest))
    return result


def exec_form(rest: str) -> list[str]:
    value = json.loads(rest)
    assert isinstance(value, list) and all(isinstance(x, str) for x in value), f"not exec form: {rest}"
    return value


def dockerfile_user() -> tuple[int, int]:
    """The runtime stage's numeric USER uid:gid."""
    final = stages(parse_dockerfile(DOCKERFILE))[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and gid.isdigit(), f"USER {users[-1]}: numeric uid:gid, so runAsNonRoot can verify it"
    return int(uid), int(gid)


def test_dockerfile_builds_static_release_binaries(dockerfile):
    all_stages = stages(dockerfile)
    assert len(all_stages) >= 2, "a multi-stage build"
    build = all_stages[0]
    base = build[0][1]
    assert re.match(r"swift:(\$\{SWIFT_VERSION\}|6\.\d+)-bookworm\b", base), f"build stage base {base}"
    assert " AS " in base.upper()
    text = " ".join(rest for keyword, rest in build if keyword == "RUN")
    for product in ("fallbackd", "fallbackctl"):
        assert re.search(r"swift build -c release --static-swift-stdlib --product " + product + r"\b", text), product
    for package in ("libjansson-dev", "libsqlite3-dev"):
        assert package in text, f"the build stage does not install {package}"


def test_dockerfile_runtime_stage(dockerfile, config_socket):
    final = stages(dockerfile)[-1]
    assert final[0][1].split()[0] == "debian:bookworm-slim"
    run = " ".join(rest for keyword, rest in final if keyword == "RUN")
    installed = set(re.search(r"apt-get install ([^&;]*)", run).group(1).split())
    assert "--no-install-recommends" in installed
    packages = {p for p in installed if not p.startswith("-")}
    assert {"libjansson4", "libsqlite3-0"} <= packages
    assert packages <= {"libjansson4", "libsqlite3-0", "ca-certificates"}, f"more than the runtime needs: {packages}"
    assert not any(p.endswith("-dev") for p in packages)
    assert "rm -rf /var/lib/apt/lists" in run
    copies = [rest for keyword, rest in final if keyword == "COPY"]
    from_build = [c for c in copies if c.startswith("--from=")]
    assert from_build and all(b in from_build[0] for b in ("fallbackd", "fallbackctl"))
    assert f"examples/config/fallbackd.toml {CONFIG_IN_IMAGE}" in copies
    uid, gid = dockerfile_user()
    assert uid != 0 and gid != 0
    for directory in (SOCKET_DIR, STATE_DIR):
        assert re.search(r"install -d -o \S+ -g \S+ -m 07[0-7]0 " + re.escape(directory) + r"\b", run), \
            f"{directory} is not created owned by the runtime user"
    assert parent(config_socket) == SOCKET_DIR
    instructions = dict((keyword, rest) for keyword, rest in final)
    assert exec_form(instructions["ENTRYPOINT"]) == ["fallbackd"]
    assert exec_form(instructions["CMD"]) == ["--config", CONFIG_IN_IMAGE]
    assert instructions["STOPSIGNAL"] == "SIGTERM"
    health = instructions["HEALTHCHECK"]
    assert " CMD " in f" {health} "
    assert_probe(exec_form(health.split(" CMD ", 1)[1]), config_socket, "ready", "Dockerfile HEALTHCHECK")


def dockerignore_patterns() -> list[str]:
    return [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, bare) or \
                any(fnmatch.fnmatch(part, bare) for part in Path(path).parts):
            return True
    return False


def test_dockerfile_context_sources_exist(dockerfile):
    """Every COPY source is in the build context (the repository root) and not excluded from it."""
    patterns = dockerignore_patterns()
    assert ignored(".build", patterns) and ignored("examples/swift/.build", patterns), \
        "the host's .build/ would be sent to the builder"
    for keyword, rest in dockerfile:
        if keyword != "COPY" or rest.startswith("--from="):
            continue
        sources = rest.split()[:-1]
        matched = [s for s in sources if glob.glob(str(ROOT / s))]
        assert matched, f"COPY {rest}: nothing matches in the context"
        for source in sources:
            if "[" in source:        # a glob kept optional on purpose (Package.resolve[d])
                continue
            assert (ROOT / source).exists(), f"COPY {rest}: {source} is not in the repository"
            assert not ignored(source, patterns), f"COPY {rest}: {source} is excluded by {DOCKERIGNORE.name}"


# =========================================================================== kubernetes/pod.yaml


@pytest.fixture(scope="module")
def k8s() -> dict:
    docs = load_k8s()
    by_kind = {d["kind"]: d for d in docs}
    assert set(by_kind) == {"ConfigMap", "Deployment"}, [d["kind"] for d in docs]
    spec = by_kind["Deployment"]["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in spec.get("containers", []) + spec.get("initContainers", [])}
    return {"docs": docs, "configmap": by_kind["ConfigMap"], "deployment": by_kind["Deployment"], "pod": spec,
            "containers": containers, "fallbackd": containers["fallbackd"], "app": containers["app"],
            "volumes": {v["name"]: v for v in spec["volumes"]}}


@pytest.fixture(scope="module")
def k8s_config(k8s, tmp_path_factory) -> tuple[dict, str]:
    text = k8s["configmap"]["data"]["fallbackd.toml"]
    path = tmp_path_factory.mktemp("k8s") / "fallbackd.toml"
    path.write_text(text)
    return load_toml(path), text


def k8s_mount(container: dict, path: str) -> dict | None:
    return next((m for m in container.get("volumeMounts", []) if m["mountPath"] == path), None)


def test_k8s_config_passes_check_config_with_secret_files(fallbackd_bin, k8s_config, tmp_path):
    """The ConfigMap's config, with its key files as the kubelet makes them (0440 under fsGroup)."""
    config, text = k8s_config
    files = [p["api_key_file"] for p in config["providers"].values()]
    key_dir = tmp_path / "secrets"
    key_dir.mkdir()
    for path in files:
        local = key_dir / PurePosixPath(path).name
        local.write_text("test-key\n")
        local.chmod(0o440)
    directory = parent(files[0])
    assert all(parent(f) == directory for f in files)
    variant = tmp_path / "fallbackd.toml"
    variant.write_text(text.replace(directory + "/", f"{key_dir}/"))
    result = check_config(fallbackd_bin, variant)
    assert result.returncode == 0, f"the ConfigMap's config fails --check-config:\n{result.stderr}"
    assert "warning" not in result.stderr, result.stderr
    strict = tmp_path / "strict.toml"
    strict.write_text(variant.read_text().replace("allow_shared_key_file = true\n", ""))
    result = check_config(fallbackd_bin, strict)
    assert result.returncode != 0 and "allow_shared_key_file" in result.stderr, \
        "the comment says a 0440 Secret file is refused without allow_shared_key_file; it was not:\n" + result.stderr


def test_k8s_config_matches_the_container_config(k8s_config, config):
    k8s_cfg, _ = k8s_config
    assert k8s_cfg["chains"] == config["chains"] and k8s_cfg["models"] == config["models"]
    for key in ("socket", "socket_mode", "database", "log_format"):
        assert k8s_cfg["daemon"][key] == config["daemon"][key], f"[daemon] {key}"
    assert grace_ms(k8s_cfg) == grace_ms(config)


def test_k8s_sidecar_shares_the_socket_volume(k8s, k8s_config):
    cfg, _ = k8s_config
    socket_path = cfg["daemon"]["socket"]
    assert parent(socket_path) == SOCKET_DIR
    sidecar = k8s["fallbackd"]
    native = sidecar in k8s["pod"].get("initContainers", [])
    assert not native or sidecar.get("restartPolicy") == "Always", "an init container sidecar needs restartPolicy Always"
    daemon_mount, app_mount = k8s_mount(sidecar, SOCKET_DIR), k8s_mount(k8s["app"], SOCKET_DIR)
    assert daemon_mount and app_mount and daemon_mount["name"] == app_mount["name"]
    assert "emptyDir" in k8s["volumes"][daemon_mount["name"]]
    assert not daemon_mount.get("readOnly") and app_mount.get("readOnly")
    env = {e["name"]: e.get("value") for e in k8s["app"].get("env", [])}
    assert env.get("FALLBACKD_SOCKET") == socket_path
    assert env.get("FALLBACKD_HTTP_SOCKET") == http_socket_for(socket_path)
    listen = cfg["facade"]["listen"]
    assert listen.startswith("127."), "loopback only: the pod's containers share its network namespace"
    assert env.get("OPENAI_BASE_URL") == f"http://{listen}/v1"


def test_k8s_config_and_keys_mounts(k8s, k8s_config):
    cfg, _ = k8s_config
    sidecar, volumes = k8s["fallbackd"], k8s["volumes"]
    args = sidecar.get("args", [])
    config_path = args[args.index("--config") + 1]
    config_mount = k8s_mount(sidecar, parent(config_path))
    assert config_mount and config_mount.get("readOnly") and "subPath" not in config_mount
    source = volumes[config_mount["name"]]["configMap"]
    assert source["name"] == k8s["configmap"]["metadata"]["name"]
    assert PurePosixPath(config_path).name in k8s["configmap"]["data"]
    key_dir = parent(next(iter(cfg["providers"].values()))["api_key_file"])
    key_mount = k8s_mount(sidecar, key_dir)
    assert key_mount and key_mount.get("readOnly")
    secret = volumes[key_mount["name"]]["secret"]
    assert secret.get("defaultMode") == 0o400
    assert all(m["name"] != key_mount["name"] for m in k8s["app"].get("volumeMounts", [])), \
        "the app must not mount the keys (allow_shared_key_file relies on that)"
    db_mount = k8s_mount(sidecar, parent(cfg["daemon"]["database"]))
    assert db_mount and not db_mount.get("readOnly"), "the call log needs a writable volume (read-only root)"


def test_k8s_probes_use_fallbackctl(k8s, k8s_config):
    cfg, _ = k8s_config
    socket_path = cfg["daemon"]["socket"]
    sidecar = k8s["fallbackd"]
    expected = {"startupProbe": "ping", "livenessProbe": "ping", "readinessProbe": "ready"}
    for probe, subcommand in expected.items():
        assert "exec" in sidecar[probe], f"{probe}: exec probe expected"
        assert_probe(sidecar[probe]["exec"]["command"], socket_path, subcommand, f"fallbackd {probe}")
    for name, container in k8s["containers"].items():
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert "httpGet" not in container.get(probe, {}), \
                f"{name}.{probe}: httpGet comes from the node and cannot reach 127.0.0.1 or a Unix socket"


def test_k8s_grace_period_exceeds_shutdown_grace(k8s, k8s_config):
    cfg, _ = k8s_config
    grace = k8s["pod"]["terminationGracePeriodSeconds"]
    pre_stop = k8s["app"].get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    assert grace > grace_ms(cfg) / 1000 + pre_stop, \
        f"terminationGracePeriodSeconds {grace} leaves no time for the app's preStop ({pre_stop}s) and the daemon's drain"


def test_k8s_security_context(k8s, k8s_config):
    cfg, _ = k8s_config
    pod = k8s["pod"]["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsGroup"] == pod["fsGroup"], "one shared group for the 0660 sockets"
    assert cfg["daemon"]["socket_mode"] == "0660"
    uid, gid = dockerfile_user()
    assert pod["runAsGroup"] == gid
    assert k8s["pod"].get("automountServiceAccountToken") is False
    for name, container in k8s["containers"].items():
        sc = container["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["capabilities"]["drop"] == ["ALL"], name
        assert sc.get("runAsGroup", pod["runAsGroup"]) == pod["runAsGroup"], f"{name} leaves the shared group"
        assert sc.get("runAsUser", pod.get("runAsUser", 1)) != 0, name
    assert k8s["fallbackd"]["securityContext"]["runAsUser"] == uid, "the image's user"


def subset_problems(expected, actual, path="") -> list[str]:
    """Fields of `expected` that a typed round trip lost or changed (zero values may be omitted)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {actual!r} is not an object"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                if value in (False, 0, "", [], {}, None):
                    continue
                problems.append(f"{path}.{key}: dropped (not a field of this API object)")
            else:
                problems += subset_problems(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: {actual!r} differs from {expected!r}"]
        return [p for i, (e, a) in enumerate(zip(expected, actual)) for p in subset_problems(e, a, f"{path}[{i}]")]
    return [] if expected == actual or str(expected) == str(actual) else [f"{path}: {expected!r} became {actual!r}"]


def test_k8s_manifest_validates(k8s, tmp_path):
    """`kubectl apply --dry-run=client` with a cluster; without one, kubectl's offline typed decoding
    of the Deployment with every field required to survive. A warning says which ran."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        warnings.warn("kubectl is not installed: kubernetes/pod.yaml was checked statically only")
        return
    env = clean_env()
    result = subprocess.run([kubectl, "apply", "--dry-run=client", "-f", str(K8S)], capture_output=True, text=True,
                            timeout=60, env=env)
    if result.returncode == 0:
        return
    offline = re.search(r"connection refused|unable to recognize|no configuration|couldn't get current server|"
                        r"failed to download openapi|dial tcp|Unable to connect", result.stderr)
    assert offline, f"kubectl apply --dry-run=client rejected the manifest:\n{result.stderr}"
    warnings.warn("kubectl has no cluster here: the Deployment was validated by kubectl's offline typed decoding "
                  "(kubectl set serviceaccount --local), not by kubectl apply --dry-run=client")
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(yaml.safe_dump(k8s["deployment"]))
    decoded = subprocess.run([kubectl, "set", "serviceaccount", "--local", "-f", str(deployment), "default", "-o",
                              "json"], capture_output=True, text=True, timeout=60, env=env)
    assert decoded.returncode == 0, f"kubectl cannot decode the Deployment:\n{decoded.stderr}"
    problems = subset_problems(k8s["deployment"], json.loads(decoded.stdout))
    assert not problems, "fields kubectl does not know:\n" + "\n".join(problems)
    # The same round trip loses a misspelt field: the check above can fail.
    mutated = json.loads(json.dumps(k8s["deployment"]))
    mutated["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesytem"] = True
    deployment.write_text(yaml.safe_dump(mutated))
    decoded = subprocess.run([kubectl, "set", "serviceaccount", "--local", "-f", str(deployment), "default", "-o",
                              "json"], capture_output=True, text=True, timeout=60, env=env)
    assert decoded.returncode == 0 and subset_problems(mutated, json.loads(decoded.stdout)), \
        "kubectl's offline decoding kept a misspelt field: the fallback check proves nothing"
    configmap = k8s["configmap"]
    assert configmap["apiVersion"] == "v1" and set(configmap) <= {"apiVersion", "kind", "metadata", "data"}
    assert all(isinstance(v, str) for v in configmap["data"].values())


def test_subset_check_catches_a_misspelt_field():
    """The offline fallback above is only worth something if a typo fails it."""
    assert subset_problems({"a": {"readOnlyRootFilesytem": True}}, {"a": {}}) != []
    assert subset_problems({"a": {"readOnly": False}}, {"a": {}}) == []


# =========================================================================== systemd


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return parse_unit(UNIT)


def one(unit, key, section="Service") -> str:
    values = unit[section].get(key)
    assert values, f"[{section}] {key}= is missing"
    return values[-1]


def test_systemd_unit_directives(unit, config):
    service = unit["Service"]
    assert one(unit, "Type") in ("exec", "simple")
    assert one(unit, "ExecStart") == f"/usr/local/bin/fallbackd --config {CONFIG_IN_IMAGE}"
    assert "/bin/kill -HUP $MAINPID" in service["ExecReload"]
    assert one(unit, "KillSignal") == "SIGTERM"
    assert parse_duration_s(one(unit, "TimeoutStopSec")) > grace_ms(config) / 1000
    assert one(unit, "Restart") == "on-failure"
    assert "/run/" + one(unit, "RuntimeDirectory") == parent(config["daemon"]["socket"])
    assert "/var/lib/" + one(unit, "StateDirectory") == parent(config["daemon"]["database"])
    assert "/etc/" + one(unit, "ConfigurationDirectory") == parent(CONFIG_IN_IMAGE)
    assert service.get("User") or service.get("DynamicUser") == ["yes"]
    assert service.get("EnvironmentFile") or service.get("LoadCredential")
    hardening = {
        "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
        "PrivateDevices": "yes", "CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes",
        "LockPersonality": "yes", "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "RestrictNamespaces": "yes", "RestrictSUIDSGID": "yes", "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes", "ProtectControlGroups": "yes", "SystemCallArchitectures": "native",
    }
    for key, value in hardening.items():
        assert one(unit, key) == value, f"{key}={one(unit, key)}, expected {value!r}"
    assert "@system-service" in service["SystemCallFilter"]
    assert one(unit, "WantedBy", "Install") == "multi-user.target"


def test_systemd_sysusers_names_the_unit_user(unit):
    entries = [line.split() for line in SYSUSERS.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert any(e[0] == "u" and e[1] == one(unit, "User") for e in entries)
    assert one(unit, "Group") == one(unit, "User")


def systemd_analyze() -> str | None:
    return shutil.which("systemd-analyze")


def runnable_unit(tmp_path: Path, binary: str) -> Path:
    """The unit with its binaries pointing at an existing file, which verify insists on."""
    copy = tmp_path / "fallbackd.service"
    copy.write_text(UNIT.read_text().replace("/usr/local/bin/fallbackd", binary))
    return copy


def test_systemd_analyze_verify(tmp_path, fallbackd_bin):
    tool = systemd_analyze()
    if not tool:
        warnings.warn("systemd-analyze is not installed: fallbackd.service was checked statically only")
        return
    result = subprocess.run([tool, "verify", str(runnable_unit(tmp_path, fallbackd_bin))], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), \
        f"systemd-analyze verify complains:\n{result.stderr}"
    # The unit as shipped: the only complaint allowed is the binary not being installed here.
    result = subprocess.run([tool, "verify", str(UNIT)], capture_output=True, text=True, timeout=60)
    other = [line for line in result.stderr.splitlines()
             if line.strip() and "/usr/local/bin/fallbackd" not in line]
    assert not other, "systemd-analyze verify complains about more than the missing binary:\n" + "\n".join(other)


def test_systemd_security_exposure(tmp_path, fallbackd_bin):
    tool = systemd_analyze()
    if not tool:
        warnings.warn("systemd-analyze is not installed: the sandbox was not rated")
        return
    result = subprocess.run([tool, "security", "--offline=yes", "--threshold=20",
                             str(runnable_unit(tmp_path, fallbackd_bin))], capture_output=True, text=True, timeout=60)
    summary = [line for line in result.stdout.splitlines() if "Overall exposure" in line]
    assert result.returncode == 0, f"exposure above 2.0: {summary or result.stderr}"


# =========================================================================== the probes and the app, live


def example_probes(config_socket: str) -> list[tuple[str, list[str]]]:
    compose = load_compose()
    probes = [("compose healthcheck", compose["services"]["fallbackd"]["healthcheck"]["test"][1:])]
    final = stages(parse_dockerfile(DOCKERFILE))[-1]
    health = next(rest for keyword, rest in final if keyword == "HEALTHCHECK")
    probes.append(("Dockerfile HEALTHCHECK", exec_form(health.split(" CMD ", 1)[1])))
    spec = next(d for d in load_k8s() if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    sidecar = next(c for c in spec.get("initContainers", []) + spec["containers"] if c["name"] == "fallbackd")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        probes.append((f"kubernetes {probe}", sidecar[probe]["exec"]["command"]))
    return probes


def localized(argv: list[str], ctl: str, config_socket: str, live_socket: str) -> list[str]:
    return [ctl if i == 0 else (live_socket if word == config_socket else word) for i, word in enumerate(argv)]


def test_probe_commands_against_a_live_daemon(live_daemon, config_socket, fallbackctl_bin):
    """Every probe of the examples, run against fallbackd on the example config (socket moved to a
    temp dir): all pass on a fresh daemon; `ready` fails once every default-chain model is isolated."""
    daemon = live_daemon(CONFIG)
    for path in (daemon.socket, daemon.http_socket):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o660, f"{path} has mode {oct(mode)}; socket_mode = \"0660\" in the config"
    failures = []
    for where, argv in example_probes(config_socket):
        result = subprocess.run(localized(argv, fallbackctl_bin, config_socket, daemon.socket), capture_output=True,
                                text=True, timeout=30, env=clean_env())
        if result.returncode != 0:
            failures.append(f"{where}: {' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
    assert not failures, "probes that fail on a healthy daemon:\n" + "\n".join(failures)
    for model in load_toml(CONFIG)["chains"]["default"]:
        subprocess.run([fallbackctl_bin, "--socket", daemon.socket, "breaker", "isolate", model], check=True,
                       capture_output=True, timeout=30, env=clean_env())
    ready = subprocess.run([fallbackctl_bin, "--socket", daemon.socket, "ready"], capture_output=True, text=True,
                           timeout=30, env=clean_env())
    assert ready.returncode == 1, f"`ready` exited {ready.returncode} with every default-chain model isolated"


def test_reload_and_stop_signals(live_daemon, fallbackctl_bin, config):
    """What the unit, the compose file and the pod rely on: SIGHUP reloads and never exits; SIGTERM
    exits 0 within shutdown_grace_ms."""
    daemon = live_daemon(CONFIG)
    before = daemon.call("status")["config_generation"]
    daemon.proc.send_signal(signal.SIGHUP)
    # The barrier: the reload the signal asked for is in force (status counts reloads that applied).
    deadline = time.monotonic() + 30
    while daemon.proc.poll() is None and daemon.call("status")["config_generation"] == before:
        assert time.monotonic() < deadline, f"SIGHUP did not reload within 30 s:\n{daemon.log()}"
        time.sleep(0.02)
    assert daemon.proc.poll() is None, f"fallbackd exited on SIGHUP:\n{daemon.log()}"
    ping = subprocess.run([fallbackctl_bin, "--socket", daemon.socket, "ping"], capture_output=True, timeout=30,
                          env=clean_env())
    assert ping.returncode == 0
    started = time.monotonic()
    daemon.proc.send_signal(signal.SIGTERM)
    code = daemon.proc.wait(grace_ms(config) / 1000 + 5)
    assert code == 0, f"SIGTERM exit status {code}:\n{daemon.log()}"
    assert time.monotonic() - started < grace_ms(config) / 1000 + 5
    assert not os.path.exists(daemon.socket), "the socket was left behind"


def test_compose_app_talks_to_fallbackd(live_daemon):
    """compose-app/app.py, unchanged, through the OpenAI SDK on the HTTP socket (simulated providers)."""
    try:
        import openai  # noqa: F401
    except ImportError as error:
        pytest.fail(f"the `openai` package is not importable ({error}); `make deps` installs it", pytrace=False)
    daemon = live_daemon(ROOT / "config" / "demo.toml")
    result = subprocess.run([sys.executable, str(APP)], capture_output=True, text=True, timeout=120,
                            env=clean_env(FALLBACKD_HTTP_SOCKET=daemon.http_socket, FALLBACKD_TASK="simple_generation"))
    assert result.returncode == 0, f"app.py failed:\n{result.stdout}\n{result.stderr}\n{daemon.log()}"
    assert re.search(r"served by \S+ after \d+ fallback", result.stdout), result.stdout
