"""API keys never leave the daemon except in the provider's own auth header.

The run includes auth failures of every provider kind, at log level debug. One of them is
Gemini's real "Consumer 'api_key:KEY' has been suspended" 403, whose message contains the
full key: the daemon must not copy provider messages into logs or replies unredacted
(ProviderFailure.message "never contains credentials").
"""

import glob
import os

import fbd_harness as H

MSGS = [
    {"role": "system", "content": "Secret-handling test."},
    {"role": "user", "content": "Hello, please answer."},
]


def test_keys_appear_nowhere(daemon_factory, fake):
    d = daemon_factory(extra_args=["--log-level", "debug"])
    replies: list[bytes] = []
    with d.conn() as c:
        # successes on every provider kind
        for name in ("gpt-4o", "claude-3-haiku", "gemini-pro", "local-llama"):
            r = c.request("complete", {"messages": MSGS, "models": [name]})
            assert "result" in r, r
        # auth failures on every provider kind, in one chain
        fake.script("gpt-4o", [], then="auth")
        fake.script("claude-3-5-sonnet-20241022", [], then="auth")
        fake.script("gemini-1.5-pro", [], then="suspended")
        fake.script("gemini-1.5-flash", [], then="invalid_key")
        fake.script("llama-3.1-8b-instruct", [], then="auth")
        r = c.request("complete", {
            "messages": MSGS,
            "models": ["gpt-4o", "claude-3-5-sonnet", "gemini-pro", "gemini-flash", "local-llama"],
            "metadata": {"note": "auth failures"},
        }, timeout=20)
        assert r["error"]["code"] == -32001, r
        assert [a["error_type"] for a in r["error"]["data"]["attempts"]][:3] == ["auth", "auth", "auth"]
        fake.script("gpt-4o-mini", [], then="forbidden")
        r = c.request("complete", {"messages": MSGS, "models": ["gpt-4o-mini", "claude-3-haiku"]})
        assert "result" in r, r
        for method in ("status", "models", "chains", "ping"):
            c.request(method)
        replies.extend(c.lines)

    # the keys really were in use (otherwise this test would prove nothing)
    sent = str([(r["headers"], r["path"]) for r in fake.requests()])
    for key in H.ALL_KEYS:
        assert key in sent, f"{key[:8]}... was never sent to its provider"

    d.stop()

    blobs = {"reply lines": b"\n".join(replies), "stderr": d.stderr_bytes()}
    with open(d.stdout_path, "rb") as f:
        blobs["stdout"] = f.read()
    db_files = [p for p in glob.glob(d.db + "*") if os.path.isfile(p)]
    assert d.db in db_files, "call log database missing"
    for p in db_files:  # the db itself, and -wal / -shm / -journal if still there
        with open(p, "rb") as f:
            blobs[os.path.basename(p)] = f.read()
    # anything else the daemon left in its working directory
    for p in glob.glob(os.path.join(d.dir, "*")):
        if os.path.isfile(p) and p not in (d.config_path, d.key_file, d.stdout_path, d.stderr_path) \
                and p not in db_files:
            with open(p, "rb") as f:
                blobs[os.path.basename(p)] = f.read()
    assert blobs["stderr"], "expected some log output at debug level"
    for key in H.ALL_KEYS:
        for where, blob in blobs.items():
            assert key.encode() not in blob, f"API key {key[:10]}... found in {where}"


def test_missing_key_env(daemon_factory, fake):
    """A provider whose key env var is empty: either the daemon refuses to start naming that provider,
    or calls to it fail and the chain falls back. Never a crash, never a key in the output."""
    d = daemon_factory(env_extra={"FAKE_GEMINI_KEY": ""}, start=False)
    try:
        d.start()
    except H.DaemonError:
        assert d.returncode not in (None, 0)
        assert d.returncode > 0, f"killed by a signal: {d.returncode}"
        err = d.stderr_text()
        assert "gemini" in err.lower() or "FAKE_GEMINI_KEY" in err, err
    else:
        with d.conn() as c:
            r = c.request("complete", {"messages": MSGS, "models": ["gemini-pro", "gpt-4o"]})
            assert "result" in r, r
            assert r["result"]["model_used"] == "gpt-4o"
            assert r["result"]["attempts"][0]["outcome"] == "error"
            assert c.call("ping") == "pong"
        d.stop()
    for key in (H.OPENAI_KEY, H.ANTHROPIC_KEY):
        assert key.encode() not in d.stderr_bytes()
