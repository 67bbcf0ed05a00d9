"""Tests for clients/shell/fallback.sh against the fake daemon: fallback_stream and fallback_request.

The shell client needs bash and socat (`make test` installs socat); without them these tests
fail with the reason: a shell client that was never run must not pass.
"""

import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fake_daemon import COMPLETE_RESULT, FAILED_DATA, WAIT, delta, raising, reset  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shell", "fallback.sh")

@pytest.fixture(autouse=True)
def _tools_present():
    missing = [tool for tool in ("bash", "socat") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the shell client tests need {', '.join(missing)} (install socat: apt-get install socat)", pytrace=False)


def sh(server, command, *args, stdin=None, locale="C"):
    """Run ``. fallback.sh; command "$@"``; returns (status, stdout, stderr)."""
    env = dict(os.environ, FALLBACKD_SOCKET=server.path, FALLBACKD_TIMEOUT=str(int(WAIT)), LC_ALL=locale)
    proc = subprocess.run(["bash", "-c", f'. "$1"; shift; {command} "$@"', "bash", SCRIPT, *args], input=stdin,
                          capture_output=True, env=env, timeout=WAIT * 2)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def test_stream_prints_the_text_and_a_newline(server):
    server.notify_before = [delta(content="Hel"), delta(content="lo"), delta(content="."),
                            delta(finish_reason="stop", usage={"input_tokens": 1, "output_tokens": 3})]
    status, out, err = sh(server, "fallback_stream", "Say hello", "chat")
    assert (status, out, err) == (0, "Hello.\n", "")
    assert server.requests()[0]["params"] == {"messages": [{"role": "user", "content": "Say hello"}],
                                              "task": "chat", "stream": True}


def test_stream_decodes_json_escapes_in_any_locale(server):
    pieces = ['say "hi"\n', "tab\there \\ ", "caf\u00e9 \u20ac \U0001F600", " 100%d /"]
    for locale in ("C", "C.UTF-8"):
        server.notify_before = [delta(content=p) for p in pieces]  # the fake escapes non-ASCII as \uXXXX
        status, out, _ = sh(server, "fallback_stream", "x", locale=locale)
        assert (status, out) == (0, "".join(pieces) + "\n")


def test_stream_prints_as_it_arrives(server):
    gate = threading.Event()
    server.notify_before = [delta(content="first "), gate, delta(content="second")]
    env = dict(os.environ, FALLBACKD_SOCKET=server.path, FALLBACKD_TIMEOUT=str(int(WAIT)))
    proc = subprocess.Popen(["bash", "-c", '. "$1"; fallback_stream "x"', "bash", SCRIPT], stdout=subprocess.PIPE,
                            env=env)
    try:
        got = b""
        while len(got) < len(b"first "):
            chunk = os.read(proc.stdout.fileno(), 64)
            assert chunk, "the stream ended before its first delta was printed"
            got += chunk
        assert got == b"first "  # printed while the daemon still holds the rest back
        gate.set()
        rest, _ = proc.communicate(timeout=WAIT)
        assert got + rest == b"first second\n" and proc.returncode == 0
    finally:
        gate.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_stream_ignores_other_ids_and_reports_a_reset(server):
    server.notify_before = [delta(content="Bon"), delta(content="NOT OURS", req_id=999), reset(reason="timeout"),
                            {"jsonrpc": "2.0", "id": 999, "error": {"code": -32001, "message": "not ours"}},
                            delta(content="Hello", model="claude-3-5-sonnet")]
    status, out, err = sh(server, "fallback_stream", "x")
    assert status == 0 and out == "BonHello\n"  # the reset notice goes to stderr
    assert "stream reset: gpt-4o failed (timeout)" in err and "discard" in err


def test_stream_error_reply(server):
    server.notify_before = [delta(content="Once upon")]
    server.methods["complete"] = raising(-32006, "stream interrupted: gpt-4o timed out after 9 characters", {
        "model": "gpt-4o", "reason": "timeout", "message": "idle timeout",
        "delivered": {"content_chars": 9, "tool_calls": 0, "tool_call_open": False}})
    status, out, err = sh(server, "fallback_stream", "x")
    assert (status, out) == (1, "Once upon\n")
    assert err == "fallback: error -32006: stream interrupted: gpt-4o timed out after 9 characters\n"


def test_stream_connection_closed_before_the_reply(server):
    server.notify_before = [delta(content="Hel")]
    server.hang_up_after_notify = True
    status, out, err = sh(server, "fallback_stream", "x")
    assert (status, out) == (3, "Hel\n") and "ended before the reply" in err
    assert len(server.requests()) == 1


def test_stream_usage_and_missing_socket(server, sockdir):
    assert sh(server, "fallback_stream")[0] == 2
    assert sh(server, "fallback_stream", "a", "b", "c")[0] == 2
    server.path = os.path.join(sockdir, "none.sock")
    status, _, err = sh(server, "fallback_stream", "x")
    assert status == 3 and "no fallbackd socket" in err


REQUEST = {"messages": [{"role": "developer", "content": "Be brief."},
                        {"role": "user", "content": [{"type": "text", "text": "caf\u00e9?"}]}],
           "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
           "tool_choice": "auto", "max_completion_tokens": 50, "task": "chat", "models": ["gpt-4o"],
           "logprobs": True}


def test_request_from_a_file_and_from_stdin(server, sockdir):
    path = os.path.join(sockdir, "req.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(REQUEST, f, indent=2, ensure_ascii=False)  # pretty-printed, raw UTF-8
    status, out, err = sh(server, "fallback_request", path)
    assert status == 0 and err == ""
    assert json.loads(out) == {"jsonrpc": "2.0", "id": 1, "result": COMPLETE_RESULT}
    status, out, _ = sh(server, "fallback_request", "-", stdin=json.dumps(REQUEST).encode())
    assert status == 0 and json.loads(out)["result"] == COMPLETE_RESULT
    assert [r["params"] for r in server.requests()] == [REQUEST, REQUEST]
    assert [r["method"] for r in server.requests()] == ["complete", "complete"]


def test_request_streaming_prints_notifications_then_the_reply(server):
    server.notify_before = [delta(content="Hi")]
    status, out, _ = sh(server, "fallback_request", "-", stdin=b'{"stream": true, "messages": [{"role": "user", '
                                                               b'"content": "hi"}]}')
    lines = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and [m.get("method") for m in lines] == ["complete.delta", None]
    assert lines[0]["params"]["delta"] == {"content": "Hi"} and lines[1]["result"] == COMPLETE_RESULT


def test_request_errors(server, sockdir):
    server.methods["complete"] = raising(-32001, "all models failed", FAILED_DATA)
    status, out, _ = sh(server, "fallback_request", "-", stdin=b'{"messages":[{"role":"user","content":"x"}]}')
    assert status == 1 and json.loads(out)["error"]["code"] == -32001
    assert sh(server, "fallback_request", "-", stdin=b"[1, 2]")[0] == 2  # not an object: nothing sent
    assert sh(server, "fallback_request", os.path.join(sockdir, "missing.json"))[0] == 2
    assert sh(server, "fallback_request")[0] == 2
    assert len(server.requests()) == 1


def test_script_usage_text_names_the_new_commands(server):
    status, _, err = sh(server, "_fallback_main", "--help")
    assert status == 0 and "stream" in err and "request FILE" in err
