"""Start-up, the socket file, a second daemon, stale sockets, and graceful shutdown."""

import os
import shutil
import signal
import socket
import stat
import subprocess
import time

import fbd_harness as H


def test_ready_line_and_socket_mode(daemon):
    assert H.wait_for(lambda: f"listening on {daemon.socket}" in daemon.stderr_text()), \
        daemon.stderr_tail()
    st = os.stat(daemon.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_socket_from_config(daemon_factory):
    d = daemon_factory(cli_socket=False)  # [daemon].socket in the config, no --socket
    assert os.path.exists(d.socket)
    assert d.call("status")["socket"] == d.socket


def test_database_flag_overrides_config(daemon_factory):
    d = daemon_factory(start=False)
    other = os.path.join(d.dir, "flag.sqlite")
    d.extra_args += ["--database", other]
    d.start()
    assert d.call("status")["database"] == other
    d.call("complete", {"messages": [{"role": "user", "content": "x"}], "models": ["gpt-4o-mini"]})
    d.stop()
    assert os.path.exists(other)
    assert not os.path.exists(d.db)


def test_second_daemon_on_live_socket_exits(daemon, fallbackd_bin, fake):
    other_dir = H.short_tmpdir()
    try:
        key_file = os.path.join(other_dir, "compat.key")
        with open(key_file, "w") as f:
            f.write(H.COMPAT_KEY)
        os.chmod(key_file, 0o600)  # a key file others can read is refused
        cfg = H.config_dict(fake, os.path.join(other_dir, "other.sqlite"), key_file)
        cfg_path = os.path.join(other_dir, "c.toml")
        with open(cfg_path, "w") as f:
            f.write(H.to_toml(cfg))
        p = subprocess.run([fallbackd_bin, "--config", cfg_path, "--socket", daemon.socket],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, env=H.daemon_env(), timeout=20)
    finally:
        shutil.rmtree(other_dir, ignore_errors=True)
    assert p.returncode != 0
    assert p.returncode > 0, f"killed by signal {-p.returncode}"
    assert f"another fallbackd is listening on {daemon.socket}" in p.stderr, p.stderr
    # the first daemon is untouched
    assert os.path.exists(daemon.socket)
    assert daemon.call("ping") == "pong"


def test_stale_socket_file_is_replaced(daemon_factory):
    d = daemon_factory(start=False)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(d.socket)
    s.close()  # the file stays, nobody listens
    assert stat.S_ISSOCK(os.stat(d.socket).st_mode)
    d.start()
    assert d.call("ping") == "pong"


LONG_GRACE_MS = 60_000  # far beyond every bound below: the drain can only end because of what the test does


def long_grace(cfg):
    cfg["daemon"]["shutdown_grace_ms"] = LONG_GRACE_MS


def refuses_new_work(d) -> bool:
    """True once the daemon drains: a new connection is refused, closed, or its ping gets -32000."""
    try:
        x = H.Conn(d.socket, timeout=10)
    except OSError:  # ENOENT / ECONNREFUSED: not accepting
        return True
    try:
        reply = x.request("ping", id=1, timeout=10)
        return reply.get("error", {}).get("code") == -32000
    except (H.ConnectionClosed, OSError):
        return True
    finally:
        x.close()


def test_sigterm_lets_in_flight_finish(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=long_grace)
    fake.script("gpt-4o", [], then="hold")  # in flight until the test releases it
    c = d.conn(timeout=30)
    try:
        c.send({"jsonrpc": "2.0", "id": "inflight", "method": "complete",
                "params": {"messages": [{"role": "user", "content": "finish me"}], "models": ["gpt-4o"]}})
        assert H.wait_for(lambda: fake.requests(model="gpt-4o")), "request never reached the provider"
        d.send_signal(signal.SIGTERM)
        assert H.wait_for(lambda: refuses_new_work(d)), "SIGTERM did not start the drain"
        assert d.proc.poll() is None, "the daemon exited with a request in flight"
        fake.release("gpt-4o")
        r = c.recv(timeout=30)
        assert r["id"] == "inflight"
        assert r["result"]["content"] == "fake-openai gpt-4o says: finish me"
    finally:
        c.close()
    assert d.wait(30) == 0
    assert not os.path.exists(d.socket)
    rows = d.db_rows()
    assert [(x["model_name"], x["success"]) for x in rows] == [("gpt-4o", 1)]


def test_draining_refuses_new_work(daemon_factory, fake):
    """While draining, new work on an open connection gets -32000 (or the connection closes);
    new connections are refused."""
    d = daemon_factory(cfg_mutate=long_grace)
    fake.script("gpt-4o", [], then="hold")  # keeps the daemon draining until released
    a = d.conn(timeout=30)
    b = d.conn(timeout=30)
    try:
        a.send({"jsonrpc": "2.0", "id": 1, "method": "complete",
                "params": {"messages": [{"role": "user", "content": "long"}], "models": ["gpt-4o"]}})
        assert H.wait_for(lambda: fake.requests(model="gpt-4o"))
        d.send_signal(signal.SIGTERM)
        saw = None
        # bounded poll: requests sent before the signal takes effect are served; the drain cannot end on
        # its own (the held request is in flight until released), so a daemon that never refuses fails here
        end = time.monotonic() + 20
        n = 0
        while time.monotonic() < end and saw is None:
            n += 1
            try:
                b.send({"jsonrpc": "2.0", "id": f"b{n}", "method": "complete",
                        "params": {"messages": [{"role": "user", "content": "late"}], "models": ["gpt-4o-mini"]}})
                r = b.recv(timeout=10)
            except (H.ConnectionClosed, BrokenPipeError, ConnectionResetError):
                saw = "closed"
                break
            if "error" in r:
                assert r["error"]["code"] == -32000, r
                saw = "shutting_down"
            else:
                time.sleep(0.02)
        assert saw is not None, "new work was still accepted 20 s after SIGTERM"
        # new connections are not accepted any more
        assert refuses_new_work(d), "a new connection was served while draining"
        assert d.proc.poll() is None, "the daemon exited with a request in flight"
        # the in-flight request still completes
        fake.release("gpt-4o")
        r = a.recv(timeout=30)
        assert r["id"] == 1 and r["result"]["model_used"] == "gpt-4o"
    finally:
        a.close()
        b.close()
    assert d.wait(30) == 0
    assert not os.path.exists(d.socket)


def test_sigint_exits_cleanly(daemon):
    assert daemon.call("ping") == "pong"
    daemon.stop(sig=signal.SIGINT)  # asserts exit 0 and the socket removed


def test_idle_connection_does_not_block_shutdown(daemon_factory):
    d = daemon_factory(cfg_mutate=long_grace)
    c = d.conn()
    try:
        assert c.call("ping") == "pong"
        t0 = time.monotonic()
        d.stop(timeout=LONG_GRACE_MS / 1000 + 10)
        # far below the 60 s grace period an idle client could hold it for
        assert time.monotonic() - t0 < LONG_GRACE_MS / 1000 / 3, \
            "an idle client must not hold the daemon for the whole grace period"
        assert c.wait_closed(20)
    finally:
        c.close()
