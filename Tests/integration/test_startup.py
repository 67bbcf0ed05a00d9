"""Start-up and files (docs/protocol.md, "## Socket", "## Running fallbackd", "### [daemon]"): --version, socket
paths that cannot work, key files others can read, JSON logs, where the call log goes by default, paths
relative to the config file, and socket_mode.

These tests run as root in CI containers, where file permissions do not stop root. A directory root cannot
write to is made real by running the daemon as the unprivileged uid 65534 (nobody), which root may switch
to; the default-database rule for non-root users ($XDG_STATE_HOME) is checked the same way, since for root
the documented default is /var/lib/fallbackd (not touched here).
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import time

import pytest

import fbd_harness as H
import ops_lib as O

NOBODY = 65534


@pytest.fixture
def tmp():
    d = H.short_tmpdir("fbd-start-")
    os.chmod(d, 0o755)  # uid 65534 must be able to traverse it
    yield d
    shutil.rmtree(d, ignore_errors=True)


def base_config(fake, directory, database=True):
    kf = O.key_file(directory, "compat.key", H.COMPAT_KEY)
    cfg = H.config_dict(fake, os.path.join(directory, "calls.sqlite"), kf)
    if not database:
        del cfg["daemon"]["database"]
    return cfg


def write(directory, cfg, name="fallbackd.toml"):
    p = os.path.join(directory, name)
    O.write_config(p, cfg)
    return p


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def give_to_nobody(path):
    """chown to uid 65534 when we are root (the daemon then runs as 65534); a no-op for other users."""
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)


class Proc:
    """A fallbackd started by hand (own cwd, env, uid); stderr goes to a file, never a pipe."""

    def __init__(self, binary, args, directory, env_extra=None, cwd=None, preexec_fn=None, env_drop=()):
        self.err_path = os.path.join(directory, f"stderr-{time.monotonic_ns()}.log")
        env = H.daemon_env(env_extra)
        for k in env_drop:
            env.pop(k, None)
        self._err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([binary, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._err, env=env, cwd=cwd or directory, preexec_fn=preexec_fn)

    def stderr(self) -> str:
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_exit(self, timeout=30.0) -> int:
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"fallbackd still running after {timeout} s; stderr:\n{self.stderr()[-3000:]}")
        finally:
            self._err.close()
        return rc

    def wait_ready(self, socket_path, timeout=30.0):
        def ready():
            if self.proc.poll() is not None:
                return "exited"
            try:
                with H.Conn(socket_path, timeout=2) as c:
                    return c.call("ping", timeout=2) == "pong"
            except (OSError, TimeoutError, H.ConnectionClosed, AssertionError, ValueError):
                return False

        got = H.wait_for(ready, timeout=timeout, interval=0.05)
        assert got is True, f"fallbackd not ready on {socket_path} ({got}); stderr:\n{self.stderr()[-3000:]}"

    def stop(self, timeout=30.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(timeout)
        assert rc == 0, f"exit {rc} after SIGTERM; stderr:\n{self.stderr()[-3000:]}"

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if not self._err.closed:
            self._err.close()


@pytest.fixture
def procs():
    made = []
    yield made
    for p in made:
        p.kill()


def refused_start(binary, args, directory, procs, **kw):
    """Run fallbackd expecting it to exit at start: (exit code, stderr)."""
    p = Proc(binary, args, directory, **kw)
    procs.append(p)
    return p.wait_exit(30), p.stderr()


# --------------------------------------------------------------------------- --version


def test_version_matches_status(fallbackd_bin, daemon):
    rc, out, err = O.run_daemon_once(fallbackd_bin, ["--version"])
    assert rc == 0, (rc, out, err)
    version = daemon.call("status")["version"]
    assert version and out.strip().endswith(version), f"--version printed {out!r}, status.version is {version!r}"
    assert out.strip().split()[-1] == version


# --------------------------------------------------------------------------- socket paths that cannot work


def test_socket_in_missing_directory(fallbackd_bin, fake, tmp, procs):
    p = write(tmp, base_config(fake, tmp))
    sock = os.path.join(tmp, "no-such-dir", "fbd.sock")
    rc, err = refused_start(fallbackd_bin, ["--config", p, "--socket", sock], tmp, procs)
    assert rc == 1, (rc, err[-2000:])
    last = err.strip().splitlines()[-1]
    assert sock in last and "does not exist" in last, f"the last line should name the path: {last!r}"
    assert not os.path.exists(os.path.dirname(sock))


def test_socket_under_a_regular_file(fallbackd_bin, fake, tmp, procs):
    p = write(tmp, base_config(fake, tmp))
    blocker = os.path.join(tmp, "plainfile")
    with open(blocker, "w") as f:
        f.write("not a directory")
    sock = os.path.join(blocker, "fbd.sock")
    rc, err = refused_start(fallbackd_bin, ["--config", p, "--socket", sock], tmp, procs)
    assert rc == 1, (rc, err[-2000:])
    last = err.strip().splitlines()[-1]
    assert sock in last and "is not a directory" in last, last


def test_socket_in_directory_the_daemon_cannot_write(fallbackd_bin, fake, tmp, procs):
    """Root writes anywhere, so the daemon runs as uid 65534 against a root-owned 0555 directory."""
    if os.geteuid() != 0:
        # an ordinary user: a 0555 directory of its own is enough
        preexec, owner_dir = None, tmp
    else:
        preexec, owner_dir = as_nobody, None
    ro = os.path.join(tmp, "readonly")
    os.mkdir(ro)
    os.chmod(ro, 0o555)
    cfg = base_config(fake, tmp)
    data = os.path.join(tmp, "data")
    os.mkdir(data)
    cfg["daemon"]["database"] = os.path.join(data, "calls.sqlite")
    if owner_dir is None:
        os.chown(data, NOBODY, NOBODY)
        os.chown(cfg["providers"]["compat"]["api_key_file"], NOBODY, NOBODY)
    p = write(tmp, cfg)
    sock = os.path.join(ro, "fbd.sock")
    rc, err = refused_start(fallbackd_bin, ["--config", p, "--socket", sock], tmp, procs, preexec_fn=preexec)
    assert rc == 1, (rc, err[-2000:])
    last = err.strip().splitlines()[-1]
    assert ro in last and "not writable" in last, last
    assert not os.path.exists(sock)


def _sock_of_length(directory, n, stem="s"):
    base = directory + "/"
    p = base + stem * (n - len(base) - len(".sock")) + ".sock"
    assert len(p.encode()) == n
    return p


def test_socket_path_too_long_is_refused(fallbackd_bin, fake, tmp, procs):
    cfg = base_config(fake, tmp)
    cfg["facade"] = {"socket": os.path.join(tmp, "h.sock")}
    p = write(tmp, cfg)
    sock = _sock_of_length(tmp, 104)
    rc, err = refused_start(fallbackd_bin, ["--config", p, "--socket", sock], tmp, procs)
    assert rc == 1, (rc, err[-2000:])
    last = err.strip().splitlines()[-1]
    assert sock in last and "104 bytes" in last and "at most 103" in last, last
    assert not os.path.exists(sock)


@pytest.mark.parametrize("length", [90, 103])
def test_socket_path_that_fits_is_served(fallbackd_bin, fake, tmp, procs, length):
    """SwiftNIO binds Unix socket paths of at most 103 bytes (Linux would allow 107) and the daemon's own
    refusal says "at most 103": every path up to that must be served (the HTTP socket on a short path of its own)."""
    cfg = base_config(fake, tmp)
    cfg["facade"] = {"socket": os.path.join(tmp, "h.sock")}
    p = write(tmp, cfg)
    sock = _sock_of_length(tmp, length, stem="k")
    proc = Proc(fallbackd_bin, ["--config", p, "--socket", sock], tmp)
    procs.append(proc)

    def state():
        if proc.proc.poll() is not None:
            return "exited"
        try:
            with H.Conn(sock, timeout=2) as c:
                return "ready" if c.call("ping", timeout=2) == "pong" else None
        except (OSError, TimeoutError, H.ConnectionClosed, AssertionError, ValueError):
            return None

    got = H.wait_for(state, timeout=20, interval=0.05)
    if got == "ready":
        proc.stop()
        return
    if got == "exited":
        raise AssertionError(f"a {length}-byte socket path was refused (exit {proc.proc.returncode}): "
                             f"{proc.stderr().strip().splitlines()[-1]!r}")
    proc.proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.proc.wait(10)
        after = f"SIGTERM then ended it with {rc}"
    except subprocess.TimeoutExpired:
        after = "and it ignored SIGTERM for 10 s (killed)"
    lines = [ln for ln in proc.stderr().splitlines() if "socket" in ln and ("error" in ln or "cannot" in ln)]
    raise AssertionError(f"with a {length}-byte socket path fallbackd neither served nor exited within 20 s, "
                         f"{after}; last socket error: {lines[-1][-300:] if lines else None!r}")


def test_http_socket_path_too_long_is_refused(fallbackd_bin, fake, tmp, procs):
    p = write(tmp, base_config(fake, tmp))
    sock = _sock_of_length(tmp, 100)  # fits; its -http.sock sibling (105 bytes) does not
    rc, err = refused_start(fallbackd_bin, ["--config", p, "--socket", sock], tmp, procs)
    assert rc == 1, (rc, err[-2000:])
    last = err.strip().splitlines()[-1]
    http = sock[:-len(".sock")] + "-http.sock"
    assert http in last and "105 bytes" in last and "at most 103" in last, last
    assert not os.path.exists(sock), "the JSON-RPC socket is removed when the HTTP one cannot be served"


def test_facade_address_in_use_exits_naming_it(fallbackd_bin, fake, tmp, procs):
    """A bind failure inside a running service (here the TCP facade's port is taken) ends the daemon with a
    message naming the address; it never hangs (ServiceGroup's cancelling path was seen to deadlock)."""
    import socket as _socket
    taken = _socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        cfg = base_config(fake, tmp)
        cfg["facade"] = {"socket": os.path.join(tmp, "h.sock"), "listen": f"127.0.0.1:{taken.getsockname()[1]}"}
        p = write(tmp, cfg)
        for _ in range(3):
            rc, err = refused_start(fallbackd_bin, ["--config", p, "--socket", os.path.join(tmp, "s.sock")], tmp, procs)
            assert rc == 1, (rc, err[-2000:])
            last = err.strip().splitlines()[-1]
            assert f"127.0.0.1:{taken.getsockname()[1]}" in last and "in use" in last, last
    finally:
        taken.close()


# --------------------------------------------------------------------------- key files others can read


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_shared_key_file_is_refused(fallbackd_bin, fake, tmp, procs, mode):
    cfg = base_config(fake, tmp)
    kf = cfg["providers"]["compat"]["api_key_file"]
    os.chmod(kf, mode)
    p = write(tmp, cfg)
    rc, out, err = H.run_check_config(fallbackd_bin, p)
    assert rc == 1, (rc, out, err)
    assert "providers.compat.api_key_file" in err and kf in err and f"chmod 600 {kf}" in err, err
    assert "config OK" not in out + err
    sock = os.path.join(tmp, "fbd.sock")
    rc, serr = refused_start(fallbackd_bin, ["--config", p, "--socket", sock], tmp, procs)
    assert rc == 1, (rc, serr[-2000:])
    assert f"chmod 600 {kf}" in serr, serr[-2000:]
    assert not os.path.exists(sock)
    assert H.COMPAT_KEY not in err + serr


def test_allow_shared_key_file_accepts_it(fallbackd_bin, fake, tmp, procs):
    cfg = base_config(fake, tmp)
    kf = cfg["providers"]["compat"]["api_key_file"]
    os.chmod(kf, 0o640)
    cfg["providers"]["compat"]["allow_shared_key_file"] = True
    p = write(tmp, cfg)
    rc, out, err = H.run_check_config(fallbackd_bin, p)
    assert rc == 0 and "config OK" in out + err, (rc, out, err)
    sock = os.path.join(tmp, "fbd.sock")
    proc = Proc(fallbackd_bin, ["--config", p, "--socket", sock], tmp)
    procs.append(proc)
    proc.wait_ready(sock)
    with H.Conn(sock) as c:
        res = c.call("complete", {"messages": O.MSGS, "models": ["local-llama"]}, timeout=30)
    assert res["model_used"] == "local-llama"
    proc.stop()


def test_owner_only_modes_are_accepted(fallbackd_bin, fake, tmp):
    cfg = base_config(fake, tmp)
    os.chmod(cfg["providers"]["compat"]["api_key_file"], 0o400)
    rc, out, err = H.run_check_config(fallbackd_bin, write(tmp, cfg))
    assert rc == 0, (rc, out, err)


def test_shared_facade_token_file_is_refused(fallbackd_bin, fake, tmp):
    cfg = base_config(fake, tmp)
    tf = O.key_file(tmp, "token", "fbd-token-abc", mode=0o644)
    cfg["facade"] = {"listen": "127.0.0.1:0", "token_file": tf}
    rc, out, err = H.run_check_config(fallbackd_bin, write(tmp, cfg))
    assert rc == 1, (rc, out, err)
    assert "facade.token_file" in err and f"chmod 600 {tf}" in err, err
    cfg["facade"]["allow_shared_key_file"] = True
    rc, out, err = H.run_check_config(fallbackd_bin, write(tmp, cfg))
    assert rc == 0, (rc, out, err)


# --------------------------------------------------------------------------- JSON logs


def test_json_log_format(daemon_factory, fake):
    def mutate(cfg):
        cfg["daemon"]["log_format"] = "json"
        H.set_resilience(cfg, breaker={"consecutive_failures": 1, "failure_rate": 0, "open_ms": 600_000})
    d = daemon_factory(cfg_mutate=mutate)
    fake.script("gpt-4o", [], then="server_error")
    res = H.complete_ok(d, O.MSGS)
    assert res["model_used"] == "claude-3-5-sonnet"
    H.wait_breaker_state(d, "gpt-4o", "open")
    O.reload_ok(d)
    d.stop()

    lines = d.stderr_text().splitlines()
    assert len(lines) > 5, lines
    objs = []
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except ValueError:
            raise AssertionError(f"stderr line {i + 1} is not JSON: {line[:300]!r}") from None
        assert isinstance(obj, dict), line[:300]
        for k in ("ts", "level", "label", "message"):
            assert isinstance(obj.get(k), str), f"line {i + 1} lacks {k}: {line[:300]}"
        assert not any(isinstance(v, (dict, list)) for v in obj.values()), f"nested metadata: {line[:300]}"
        objs.append(obj)
    assert any(f"listening on {d.socket}" in o["message"] for o in objs), "no ready line"
    trips = [o for o in objs if o.get("breaker.model") == "gpt-4o" and o.get("breaker.to") == "open"]
    assert trips, "no breaker transition line with breaker.model"
    assert trips[0]["level"] in ("notice", "warning"), trips[0]
    assert trips[0].get("breaker.from") == "closed" and "breaker.reason" in trips[0], trips[0]
    reloads = [o for o in objs if o["message"] == "config reloaded"]
    assert reloads and reloads[0].get("config.generation") == "2" and reloads[0]["level"] == "notice", reloads
    for key in H.ALL_KEYS:
        assert key not in d.stderr_text()


# --------------------------------------------------------------------------- the call log's default place


def _nobody_dirs(tmp, *names):
    out = []
    for n in names:
        p = os.path.join(tmp, n)
        os.mkdir(p)
        give_to_nobody(p)
        out.append(p)
    return out


@pytest.mark.parametrize("xdg", [True, False], ids=["XDG_STATE_HOME", "HOME-only"])
def test_default_database_under_xdg_state_home(fallbackd_bin, fake, tmp, procs, xdg):
    """A non-root daemon (uid 65534) with no [daemon].database: $XDG_STATE_HOME/fallbackd/fallbackd.sqlite
    (else ~/.local/state/...), its directory created 0700, nothing in the working directory."""
    home, cwd, run = _nobody_dirs(tmp, "home", "cwd", "run")
    cfg = base_config(fake, tmp, database=False)
    give_to_nobody(cfg["providers"]["compat"]["api_key_file"])
    p = write(tmp, cfg)
    state = os.path.join(home, "xdg-state") if xdg else os.path.join(home, ".local", "state")
    env = {"HOME": home}
    if xdg:
        env["XDG_STATE_HOME"] = state
    expected = os.path.join(state, "fallbackd", "fallbackd.sqlite")
    sock = os.path.join(run, "fbd.sock")
    preexec = as_nobody if os.geteuid() == 0 else None
    proc = Proc(fallbackd_bin, ["--config", p, "--socket", sock], tmp, env_extra=env, cwd=cwd, preexec_fn=preexec,
                env_drop=("STATE_DIRECTORY", "XDG_STATE_HOME") if not xdg else ("STATE_DIRECTORY",))
    procs.append(proc)
    proc.wait_ready(sock)
    with H.Conn(sock) as c:
        assert c.call("status")["database"] == expected
        c.call("complete", {"messages": O.MSGS}, timeout=30)
        c.call("cost.report", {"days": 1}, timeout=30)  # flushes the call log
    proc.stop()
    assert os.path.isfile(expected), f"no call log at {expected}"
    assert stat.S_IMODE(os.stat(os.path.dirname(expected)).st_mode) == 0o700, \
        oct(os.stat(os.path.dirname(expected)).st_mode)
    import sqlite3
    con = sqlite3.connect(expected)
    try:
        assert con.execute("SELECT COUNT(*) FROM model_calls").fetchone()[0] == 1
    finally:
        con.close()
    assert os.listdir(cwd) == [], f"files in the working directory: {os.listdir(cwd)}"
    assert not [f for f in os.listdir(tmp) if f.endswith(".sqlite")], os.listdir(tmp)


def test_default_database_under_state_directory(fallbackd_bin, fake, tmp, procs):
    """Under systemd (STATE_DIRECTORY set) the call log is $STATE_DIRECTORY/fallbackd.sqlite, for root too."""
    cwd = os.path.join(tmp, "cwd")
    os.mkdir(cwd)
    state = os.path.join(tmp, "state")
    os.mkdir(state, 0o700)
    p = write(tmp, base_config(fake, tmp, database=False))
    sock = os.path.join(tmp, "fbd.sock")
    proc = Proc(fallbackd_bin, ["--config", p, "--socket", sock], tmp, env_extra={"STATE_DIRECTORY": state}, cwd=cwd)
    procs.append(proc)
    proc.wait_ready(sock)
    with H.Conn(sock) as c:
        assert c.call("status")["database"] == os.path.join(state, "fallbackd.sqlite")
        c.call("complete", {"messages": O.MSGS}, timeout=30)
        c.call("cost.report", {"days": 1}, timeout=30)
    proc.stop()
    assert os.path.isfile(os.path.join(state, "fallbackd.sqlite"))
    assert os.listdir(cwd) == []


# --------------------------------------------------------------------------- relative paths


def test_relative_paths_are_relative_to_the_config_file(daemon_factory):
    d = daemon_factory(start=False, cli_socket=False)
    conf_dir = os.path.join(d.dir, "conf")  # the daemon's cwd stays d.dir
    os.mkdir(conf_dir)
    d.cfg["daemon"]["database"] = "rel.sqlite"
    d.cfg["daemon"]["socket"] = "rel.sock"
    d.config_path = os.path.join(conf_dir, "fallbackd.toml")
    O.write_config(d.config_path, d.cfg)
    d.socket = os.path.join(conf_dir, "rel.sock")
    d.db = os.path.join(conf_dir, "rel.sqlite")
    d.start()
    st = d.call("status")
    assert st["database"] == d.db, st["database"]
    assert st["socket"] == d.socket, st["socket"]
    H.complete_ok(d, O.MSGS)
    assert len(H.flushed_rows(d)) == 1
    assert os.path.isfile(d.db)
    assert not os.path.exists(os.path.join(d.dir, "rel.sqlite")), "the database landed in the working directory"
    assert not os.path.exists(os.path.join(d.dir, "rel.sock"))


# --------------------------------------------------------------------------- socket_mode


def test_socket_mode_applies_to_both_sockets(daemon_factory):
    d = daemon_factory(cfg_mutate=lambda cfg: cfg["daemon"].update(socket_mode="0660"))
    http = d.call("status")["http_socket"]
    for path in (d.socket, http):
        st = os.stat(path)
        assert stat.S_ISSOCK(st.st_mode), path
        assert stat.S_IMODE(st.st_mode) == 0o660, f"{path}: {oct(stat.S_IMODE(st.st_mode))}"


def test_default_socket_mode_is_0600_for_both_sockets(daemon):
    for path in (daemon.socket, daemon.call("status")["http_socket"]):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_socket_mode_as_toml_integer(daemon_factory, tmp):
    d = daemon_factory(start=False)
    text = H.to_toml(d.cfg).replace("[daemon]\n", "[daemon]\nsocket_mode = 0o660\n", 1)
    O.write_text(d.config_path, text)
    d.start()
    assert stat.S_IMODE(os.stat(d.socket).st_mode) == 0o660
