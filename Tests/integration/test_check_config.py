"""`fallbackd --check-config FILE`: exit 0 with "config OK: N models, M chains", or exit 1 naming the key."""

import os
import subprocess

import pytest

import fbd_harness as H


@pytest.fixture
def cfg_dir():
    d = H.short_tmpdir("fbd-cfg-")
    yield d
    import shutil

    shutil.rmtree(d, ignore_errors=True)


def _write(cfg_dir, cfg, name="c.toml"):
    p = os.path.join(cfg_dir, name)
    with open(p, "w") as f:
        f.write(H.to_toml(cfg))
    return p


def _base(fake_server, cfg_dir):
    key_file = os.path.join(cfg_dir, "compat.key")
    with open(key_file, "w") as f:
        f.write(H.COMPAT_KEY)
    os.chmod(key_file, 0o600)  # a key file others can read is refused
    return H.config_dict(fake_server, os.path.join(cfg_dir, "calls.sqlite"), key_file)


def test_good_config(fallbackd_bin, fake_server, cfg_dir):
    p = _write(cfg_dir, _base(fake_server, cfg_dir))
    rc, out, err = H.run_check_config(fallbackd_bin, p)
    assert rc == 0, err
    assert f"config OK: {len(H.POOL)} models, {len(H.CHAINS)} chains" in out + err
    assert not os.path.exists(os.path.join(cfg_dir, "calls.sqlite")), "check-config must not create the call log"
    for key in H.ALL_KEYS:
        assert key not in out + err


def _del(path):
    def f(cfg):
        d = cfg
        for k in path[:-1]:
            d = d[k]
        del d[path[-1]]

    return f


def _set(path, value):
    def f(cfg):
        d = cfg
        for k in path[:-1]:
            d = d.setdefault(k, {})
        d[path[-1]] = value

    return f


# (id, mutation, substrings stderr must contain)
BAD = [
    ("unknown-daemon-key", _set(["daemon", "bogus_key"], 1), ["bogus_key"]),
    ("unknown-provider-key", _set(["providers", "openai", "api_kee_env"], "X"), ["api_kee_env"]),
    ("unknown-model-key", _set(["models", "gpt-4o", "colour"], "red"), ["colour"]),
    ("unknown-section", _set(["telemetry", "enabled"], True), ["telemetry"]),
    ("chain-unknown-model", _set(["chains", "default"], ["gpt-4o", "nope-model"]), ["chains.default"]),
    ("missing-default-chain", _del(["chains", "default"]), ["chains", "default"]),
    ("provider-without-key-source", _del(["providers", "openai", "api_key_env"]), ["providers.openai"]),
    ("anthropic-without-key-source", _del(["providers", "anthropic", "api_key_env"]), ["providers.anthropic"]),
    ("bad-url", _set(["providers", "anthropic", "base_url"], "not a url"), ["providers.anthropic", "base_url"]),
    ("bad-url-scheme", _set(["providers", "gemini", "base_url"], "ftp://127.0.0.1/v1"),
     ["providers.gemini", "base_url"]),
    ("compat-without-base-url", _del(["providers", "compat", "base_url"]), ["providers.compat", "base_url"]),
    ("unknown-provider-kind", _set(["providers", "openai", "kind"], "openia"), ["providers.openai", "kind"]),
    ("model-unknown-provider", _set(["models", "gpt-4o", "provider"], "nope"), ["models.gpt-4o", "provider"]),
    ("wrong-type", _set(["daemon", "max_line_bytes"], "big"), ["max_line_bytes"]),
]


@pytest.mark.parametrize("case_id,mutate,needles", BAD, ids=[b[0] for b in BAD])
def test_bad_config(fallbackd_bin, fake_server, cfg_dir, case_id, mutate, needles):
    cfg = _base(fake_server, cfg_dir)
    mutate(cfg)
    p = _write(cfg_dir, cfg)
    rc, out, err = H.run_check_config(fallbackd_bin, p)
    assert rc == 1, f"exit {rc}; stdout={out!r} stderr={err!r}"
    assert "config error" in err, err
    for n in needles:
        assert n in err, f"stderr does not name {n!r}: {err!r}"
    assert "config OK" not in out + err


def test_toml_syntax_error(fallbackd_bin, cfg_dir):
    p = os.path.join(cfg_dir, "broken.toml")
    with open(p, "w") as f:
        f.write('[daemon\ndatabase = "x.sqlite"\n')
    rc, out, err = H.run_check_config(fallbackd_bin, p)
    assert rc == 1
    assert "config error" in err


def test_missing_file(fallbackd_bin, cfg_dir):
    rc, out, err = H.run_check_config(fallbackd_bin, os.path.join(cfg_dir, "does-not-exist.toml"))
    assert rc == 1
    assert err.strip()


@pytest.mark.parametrize("name", ["fallbackd.toml", "demo.toml"])
def test_repo_configs_pass(fallbackd_bin, name):
    p = os.path.join(H.REPO_ROOT, "config", name)
    assert os.path.isfile(p), f"config/{name} is missing from the repository ({p}): it ships with fallbackd"
    rc, out, err = H.run_check_config(fallbackd_bin, p)
    assert rc == 0, f"config/{name} failed check-config: {err}"
    assert "config OK:" in out + err


def test_daemon_refuses_bad_config(fallbackd_bin, fake_server, cfg_dir):
    cfg = _base(fake_server, cfg_dir)
    cfg["chains"]["default"] = ["gpt-4o", "nope-model"]
    p = _write(cfg_dir, cfg)
    sock = os.path.join(cfg_dir, "s.sock")
    proc = subprocess.run([fallbackd_bin, "--config", p, "--socket", sock], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=H.daemon_env(), timeout=20)
    assert proc.returncode != 0 and proc.returncode > 0, proc.returncode
    assert "chains.default" in proc.stderr
    assert not os.path.exists(sock)


@pytest.mark.parametrize("key,value,ok", [("confirm_probes", 3, True), ("confirm_probes", 0, False),
                                          ("confirm_interval_ms", 0, True), ("confirm_interval_ms", -1, False)])
def test_recovery_confirm_keys(fallbackd_bin, fake_server, cfg_dir, key, value, ok):
    cfg = _base(fake_server, cfg_dir)
    cfg["recovery"] = {key: value}
    rc, out, err = H.run_check_config(fallbackd_bin, _write(cfg_dir, cfg))
    assert (rc == 0) == ok, out + err
    if not ok:
        assert f"recovery.{key}" in out + err
