"""The golden transcripts (Tests/golden/transcripts.jsonl) against the real daemon and the docs.

The Swift tests round-trip every result through the wire contract's types and the Python client's
tests decode them; here the daemon itself must still answer every golden request in the same
shape (same members, same JSON types), and docs/protocol.md must name every member it sends.
"""

from __future__ import annotations

import json
import os

import pytest

import fbd_harness as H

GOLDEN_DIR = os.path.join(H.REPO_ROOT, "Tests", "golden")
PROTOCOL = os.path.join(H.REPO_ROOT, "docs", "protocol.md")


def transcripts():
    with open(os.path.join(GOLDEN_DIR, "transcripts.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def shape(value):
    """The JSON type structure of a value: members and element types, not values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


# Objects whose member names are data (task names), not contract.
DATA_KEYED = {"chains"}


def member_names(value, out=None):
    """Every object member name in a JSON value, at any depth (not the keys of data-keyed maps)."""
    out = set() if out is None else out
    if isinstance(value, dict):
        for key, item in value.items():
            out.add(key)
            if key in DATA_KEYED and isinstance(item, dict):
                for inner in item.values():
                    member_names(inner, out)
                continue
            member_names(item, out)
    elif isinstance(value, list):
        for item in value:
            member_names(item, out)
    return out


@pytest.fixture
def golden_daemon(fallbackd_bin, fake):
    d = H.Daemon(fallbackd_bin, fake)
    d.config_path = os.path.join(GOLDEN_DIR, "golden.toml")
    # golden.toml names no database: without this the daemon would use the user's default one.
    d.extra_args = list(d.extra_args) + ["--database", d.db]
    d.start()
    yield d
    d.stop()


def test_the_daemon_answers_every_golden_request_in_the_same_shape(golden_daemon):
    with H.Conn(golden_daemon.socket) as conn:
        for entry in transcripts():
            request = entry["request"]
            reply = conn.request(request["method"], request.get("params"), id=request["id"])
            assert shape(reply) == shape(entry["reply"]), entry["name"]


def test_every_member_the_daemon_sends_is_documented():
    with open(PROTOCOL) as f:
        doc = f.read()
    missing = set()
    for entry in transcripts():
        reply = entry["reply"]
        body = reply.get("result", reply.get("error"))
        for name in member_names(body):
            if f"`{name}`" not in doc and f'"{name}"' not in doc:
                missing.add(f"{entry['name']}: {name}")
    assert not missing, "members sent but not in docs/protocol.md:\n" + "\n".join(sorted(missing))
