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
    assert H.wait_for(lambda: f"listening on {daemon.socket}" in daemon.stderr_text(), timeout=5), \
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


def test_sigterm_lets_in_flight_finish(daemon, fake):
    fake.script("gpt-4o", [], then="slow:1000")
    c = daemon.conn(timeout=15)
    try:
        c.send({"jsonrpc": "2.0", "id": "inflight", "method": "complete",
                "params": {"messages": [{"role": "user", "content": "finish me"}], "models": ["gpt-4o"]}})
        assert H.wait_for(lambda: fake.requests(model="gpt-4o"), timeout=5), "request never reached the provider"
        daemon.send_signal(signal.SIGTERM)
        r = c.recv(timeout=15)
        assert r["id"] == "inflight"
        assert r["result"]["content"] == "fake-openai gpt-4o says: finish me"
    finally:
        c.close()
    assert daemon.wait(20) == 0
    assert not os.path.exists(daemon.socket)
    rows = daemon.db_rows()
    assert [(x["model_name"], x["success"]) for x in rows] == [("gpt-4o", 1)]


def test_draining_refuses_new_work(daemon, fake):
    """While draining, new work on an open connection gets -32000 (or the connection closes);
    new connections are refused."""
    fake.script("gpt-4o", [], then="slow:2000")
    a = daemon.conn(timeout=15)
    b = daemon.conn(timeout=15)
    try:
        a.send({"jsonrpc": "2.0", "id": 1, "method": "complete",
                "params": {"messages": [{"role": "user", "content": "long"}], "models": ["gpt-4o"]}})
        assert H.wait_for(lambda: fake.requests(model="gpt-4o"), timeout=5)
        daemon.send_signal(signal.SIGTERM)
        saw = None
        end = time.monotonic() + 1.5
        n = 0
        while time.monotonic() < end and saw is None:
            n += 1
            try:
                b.send({"jsonrpc": "2.0", "id": f"b{n}", "method": "complete",
                        "params": {"messages": [{"role": "user", "content": "late"}], "models": ["gpt-4o-mini"]}})
                r = b.recv(timeout=5)
            except (H.ConnectionClosed, BrokenPipeError, ConnectionResetError):
                saw = "closed"
                break
            if "error" in r:
                assert r["error"]["code"] == -32000, r
                saw = "shutting_down"
            time.sleep(0.05)
        assert saw is not None, "new work was still accepted 1.5 s after SIGTERM"
        # new connections are not accepted any more
        try:
            x = H.Conn(daemon.socket, timeout=2)
        except OSError:  # ENOENT / ECONNREFUSED: not accepting
            refused = True
        else:
            try:
                reply = x.request("ping", id=1, timeout=2)
                refused = reply.get("error", {}).get("code") == -32000
            except (H.ConnectionClosed, TimeoutError, OSError):
                refused = True
            finally:
                x.close()
        assert refused, "a new connection was served while draining"
        # the in-flight request still completes
        r = a.recv(timeout=15)
        assert r["id"] == 1 and r["result"]["model_used"] == "gpt-4o"
    finally:
        a.close()
        b.close()
    assert daemon.wait(20) == 0
    assert not os.path.exists(daemon.socket)


def test_sigint_exits_cleanly(daemon):
    assert daemon.call("ping") == "pong"
    daemon.stop(sig=signal.SIGINT)  # asserts exit 0 and the socket removed


def test_idle_connection_does_not_block_shutdown(daemon):
    c = daemon.conn()
    try:
        assert c.call("ping") == "pong"
        t0 = time.monotonic()
        daemon.stop()
        assert time.monotonic() - t0 < 3, "an idle client must not hold the daemon for the whole grace period"
        assert c.wait_closed(5)
    finally:
        c.close()
