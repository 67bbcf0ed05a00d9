"""Test configuration for fallbackd's integration tests: paths, secrets, the model pool, config_dict, TOML writer."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import re


REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FAKES_DIR = os.path.join(REPO_ROOT, "Tests", "fakes")
CLIENT_DIRS = [os.path.join(REPO_ROOT, "clients", "python"), os.path.join(REPO_ROOT, "clients", "python", "src")]

# --------------------------------------------------------------------------- secrets given to the daemon

OPENAI_KEY = "sk-fake-openai-SECRET123"
ANTHROPIC_KEY = "sk-ant-fake-anthropic-SECRET456"
GEMINI_KEY = "AIzaFakeGeminiKey-SECRET789"
COMPAT_KEY = "sk-fake-compat-SECRET000"  # given through api_key_file
ALL_KEYS = (OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY, COMPAT_KEY)

KEY_ENV = {
    "FAKE_OPENAI_KEY": OPENAI_KEY,
    "FAKE_ANTHROPIC_KEY": ANTHROPIC_KEY,
    "FAKE_GEMINI_KEY": GEMINI_KEY,
}

ANTHROPIC_VERSION = "2023-06-01"

# --------------------------------------------------------------------------- the model pool of the test config
# pool name -> (provider config name, provider kind, fake flavor, model_id, priority, max_tokens, cost in, cost out)


@dataclasses.dataclass(frozen=True)
class PoolModel:
    name: str
    provider: str
    kind: str
    flavor: str
    model_id: str
    priority: int
    max_tokens: int
    cost_in: float
    cost_out: float
    context_window: int = 0
    notes: str = ""
    timeout_ms: int | None = None

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return input_tokens / 1000 * self.cost_in + output_tokens / 1000 * self.cost_out


POOL = {
    m.name: m
    for m in [
        PoolModel("gpt-4o", "openai", "openai", "openai", "gpt-4o", 1, 4096, 0.005, 0.015, 128000,
                  "Primary for complex reasoning"),
        PoolModel("claude-3-5-sonnet", "anthropic", "anthropic", "anthropic", "claude-3-5-sonnet-20241022", 2, 8192,
                  0.003, 0.015, 200000, "Strong second"),
        PoolModel("gpt-4o-mini", "openai", "openai", "openai", "gpt-4o-mini", 3, 16384, 0.00015, 0.0006, 128000),
        PoolModel("claude-3-haiku", "anthropic", "anthropic", "anthropic", "claude-3-haiku-20240307", 4, 4096,
                  0.00025, 0.00125, 200000),
        PoolModel("gemini-pro", "gemini", "gemini", "gemini", "gemini-1.5-pro", 5, 8192, 0.00125, 0.005, 2000000),
        PoolModel("gemini-flash", "gemini", "gemini", "gemini", "gemini-1.5-flash", 6, 8192, 0.000075, 0.0003,
                  1000000),
        PoolModel("local-llama", "compat", "openai-compatible", "compat", "llama-3.1-8b-instruct", 7, 2048, 0.0001,
                  0.0002, 8192, "Local OpenAI-compatible server"),
        # per-attempt timeout override
        PoolModel("gpt-4o-quick", "openai", "openai", "openai", "gpt-4o-quick-timeout", 8, 4096, 0.005, 0.015,
                  128000, "400 ms per attempt", timeout_ms=400),
    ]
}

CHAINS = {
    "default": ["gpt-4o", "claude-3-5-sonnet", "gemini-pro"],
    "complex_reasoning": ["claude-3-5-sonnet", "gpt-4o", "gemini-pro"],
    "cheap": ["gpt-4o-mini", "claude-3-haiku", "gemini-flash", "local-llama"],
}


def config_dict(fake, database: str, compat_key_file: str, socket_path: str | None = None) -> dict:
    """The test configuration as a dict (mutable by tests), providers pointing at the fake server."""
    daemon = {
        "database": database,
        "flush_interval_ms": 200,
        "max_line_bytes": 65536,
        "max_in_flight": 10000,
        "shutdown_grace_ms": 5000,
        "log_level": "debug",
    }
    if socket_path is not None:
        daemon["socket"] = socket_path
    providers = {
        "openai": {
            "kind": "openai",
            "base_url": fake.base_url("openai"),
            "api_key_env": "FAKE_OPENAI_KEY",
            "connect_timeout_ms": 2000,
            "timeout_ms": 15000,
        },
        "anthropic": {
            "kind": "anthropic",
            "base_url": fake.base_url("anthropic"),
            "api_key_env": "FAKE_ANTHROPIC_KEY",
            "anthropic_version": ANTHROPIC_VERSION,
            "connect_timeout_ms": 2000,
            "timeout_ms": 15000,
        },
        "gemini": {
            "kind": "gemini",
            "base_url": fake.base_url("gemini"),
            "api_key_env": "FAKE_GEMINI_KEY",
            "connect_timeout_ms": 2000,
            "timeout_ms": 15000,
        },
        "compat": {
            "kind": "openai-compatible",
            "base_url": fake.base_url("openai-compatible"),
            "api_key_file": compat_key_file,
            "connect_timeout_ms": 2000,
            "timeout_ms": 15000,
        },
    }
    models = {}
    for m in POOL.values():
        d = {
            "provider": m.provider,
            "model_id": m.model_id,
            "priority": m.priority,
            "max_tokens": m.max_tokens,
            "cost_per_1k_input": m.cost_in,
            "cost_per_1k_output": m.cost_out,
            "context_window": m.context_window,
        }
        if m.notes:
            d["notes"] = m.notes
        if m.timeout_ms is not None:
            d["timeout_ms"] = m.timeout_ms
        models[m.name] = d
    # The seed's plain waterfall: every error moves on to the next model at once. Retries and
    # breakers have their own tests (test_resilience*.py), which turn them on explicitly.
    seed_rule = {
        "retry": {"max_retries": 0},
        "breaker": {"consecutive_failures": 0, "failure_rate": 0, "auth_open_ms": 1},
        # Shadows (5% by default) would add calls these tests do not expect; test_shadow turns them on.
        "shadow": {"sample_rate": 0.0},
    }
    return {"daemon": daemon, "providers": providers, "models": models, "chains": copy.deepcopy(CHAINS), **seed_rule}


# --------------------------------------------------------------------------- TOML writer (enough for our configs)

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isfinite(v):
            r = repr(v)
            return r if ("." in r or "e" in r or "E" in r) else r + ".0"
        raise ValueError("non-finite float")
    if isinstance(v, str):
        return json.dumps(v)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(v, list):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_val(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(cfg: dict) -> str:
    out = []

    def table(path, d):
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
        subs = {k: v for k, v in d.items() if isinstance(v, dict)}
        if path and (scalars or not subs):
            out.append("[" + ".".join(_key(p) for p in path) + "]")
            for k, v in scalars.items():
                out.append(f"{_key(k)} = {_val(v)}")
            out.append("")
        elif not path:
            for k, v in scalars.items():
                out.append(f"{_key(k)} = {_val(v)}")
            if scalars:
                out.append("")
        for k, v in subs.items():
            table(path + [k], v)

    table([], cfg)
    return "\n".join(out) + "\n"
