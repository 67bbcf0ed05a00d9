"""Config reload: the `reload` JSON-RPC method, SIGHUP, and `fallbackctl reload` (docs/protocol.md, "### reload").

A valid file is applied in one step (the next request uses it, a request in flight finishes on the config it
started with); an invalid one changes nothing and answers -32008 with every problem. Breakers of unchanged
models keep their state; a model whose provider key or base URL changed starts closed. Settings only a
restart applies are listed in restart_required and not applied.
"""

import os
import signal
import stat
import time

import pytest

import fbd_harness as H
import ops_lib as O
from facade_lib import metric_families, value

OLD_DEFAULT = H.CHAINS["default"]  # gpt-4o, claude-3-5-sonnet, gemini-pro
NEW_DEFAULT = ["gemini-flash", "gpt-4o-mini", "claude-3-haiku"]

# breakers that trip and stay open for the whole test (10 min), and never trip on slowness
TRIPPING = {"consecutive_failures": 2, "failure_rate": 0, "open_ms": 600_000, "max_open_ms": 600_000,
            "auth_open_ms": 600_000, "timeout_rate": 0, "hang_after_ms": 0}


def set_default(models):
    def mutate(cfg):
        cfg["chains"]["default"] = list(models)
    return mutate


def complete_default(daemon, **params):
    return H.complete_ok(daemon, O.MSGS, **params)


def reload_counter(daemon, outcome):
    return value(metric_families(daemon), "fallbackd_config_reloads", "fallbackd_config_reloads_total",
                 outcome=outcome)


# --------------------------------------------------------------------------- applying a valid file


def test_reload_rpc_applies_new_chain_to_next_request(daemon):
    before = complete_default(daemon)
    assert before["model_used"] == OLD_DEFAULT[0]
    assert O.route_models(before["route"]) == OLD_DEFAULT
    assert O.generation(daemon) == 1

    O.rewrite(daemon, set_default(NEW_DEFAULT))
    result = O.reload_ok(daemon)
    O.check_reload_shape(result)
    assert result["generation"] == 2, result
    assert result["changed"] is True, result
    assert result["chains"] == {"added": [], "removed": [], "changed": ["default"]}, result
    assert result["providers"] == O.empty_changes() and result["models"] == O.empty_changes(), result
    assert result["settings"] == [] and result["breakers_reset"] == [] and result["restart_required"] == [], result
    assert result["warnings"] == [], result
    assert O.generation(daemon) == 2

    assert daemon.call("chains")["chains"]["default"] == NEW_DEFAULT
    planned = daemon.call("route", {"task": "default"})
    assert planned["chain"] == "default" and O.route_models(planned["route"]) == NEW_DEFAULT, planned
    after = complete_default(daemon)
    assert after["chain"] == "default"
    assert after["model_used"] == NEW_DEFAULT[0], after
    assert O.route_models(after["route"]) == NEW_DEFAULT, after["route"]
    # other chains are untouched
    assert O.route_models(daemon.call("route", {"task": "cheap"})["route"]) == H.CHAINS["cheap"]
    assert reload_counter(daemon, "success") == 1
    assert reload_counter(daemon, "error") == 0
    line = O.wait_log(daemon, "config reloaded")[-1]
    assert "notice" in line, f"a reload is logged at notice: {line}"


def test_reload_accepts_empty_params_object(daemon):
    reply = daemon.request("reload", {})
    assert "result" in reply, reply
    assert reply["result"]["generation"] == 2 == O.generation(daemon)


def test_reload_of_unchanged_file_changes_nothing(daemon):
    before = daemon.call("breakers")
    result = O.reload_ok(daemon)
    O.check_reload_shape(result)
    assert result["changed"] is False, result
    for k in ("providers", "models", "chains"):
        assert result[k] == O.empty_changes(), result
    assert result["settings"] == [] and result["breakers_reset"] == [] and result["restart_required"] == [], result
    assert result["generation"] == O.generation(daemon), result
    assert O.route_models(complete_default(daemon)["route"]) == OLD_DEFAULT
    assert [b["model"] for b in daemon.call("breakers")["breakers"]] == [b["model"] for b in before["breakers"]]


def test_reload_result_lists_added_removed_and_changed(daemon):
    def mutate(cfg):
        # providers: one added, compat removed together with its model (a changed one: the next test)
        cfg["providers"]["openai2"] = dict(cfg["providers"]["openai"])
        del cfg["providers"]["compat"]
        del cfg["models"]["local-llama"]
        cfg["chains"]["cheap"].remove("local-llama")
        # models: one added, one changed (price)
        cfg["models"]["gpt-4o-mini-2"] = dict(cfg["models"]["gpt-4o-mini"], provider="openai2", priority=9)
        cfg["models"]["gemini-flash"]["cost_per_1k_output"] = 0.0009
        # chains: one added, one removed, one changed (cheap, above)
        cfg["chains"]["summarize"] = ["gpt-4o-mini-2", "gemini-flash"]
        del cfg["chains"]["complex_reasoning"]
        # other sections
        cfg["retry"] = {"max_retries": 2}
        cfg["budgets"] = {"summarize": 5.0}
        cfg["apps"] = {"nobody": {"uid": 4_000_000_000}}
        cfg["facade"] = {"pool_model_fallbacks": False}

    O.rewrite(daemon, mutate)
    r = O.reload_ok(daemon)
    O.check_reload_shape(r)
    assert r["changed"] is True
    assert r["providers"] == {"added": ["openai2"], "removed": ["compat"], "changed": []}, r
    assert r["models"] == {"added": ["gpt-4o-mini-2"], "removed": ["local-llama"], "changed": ["gemini-flash"]}, r
    assert r["chains"] == {"added": ["summarize"], "removed": ["complex_reasoning"], "changed": ["cheap"]}, r
    assert sorted(r["settings"]) == ["apps", "cost", "facade", "resilience"], r
    assert r["restart_required"] == [], r
    # a timeout or price change is no reason to forget a breaker
    assert r["breakers_reset"] == [], r

    status = daemon.call("status")
    assert "gpt-4o-mini-2" in status["models"] and "local-llama" not in status["models"], status["models"]
    assert sorted(status["chains"]) == ["cheap", "default", "summarize"], status["chains"]
    flash = [m for m in daemon.call("models")["models"] if m["name"] == "gemini-flash"][0]
    assert H.approx(flash["cost_per_1k_output"], 0.0009), flash
    res = H.complete_ok(daemon, O.MSGS, task="summarize")
    assert res["chain"] == "summarize" and res["model_used"] == "gpt-4o-mini-2", res
    # a removed model is unknown now
    reply = H.complete_reply(daemon, O.MSGS, models=["local-llama"])
    err = H.rpc_error(reply, -32602)
    assert "models" in str(err.get("data")), err


def test_changed_provider_setting_lists_the_provider_not_its_models(daemon):
    """`models` lists [models.NAME] tables that changed; a provider's timeout is the provider's change."""
    O.rewrite(daemon, lambda cfg: cfg["providers"]["anthropic"].update(timeout_ms=20_000))
    r = O.reload_ok(daemon)
    assert r["providers"] == {"added": [], "removed": [], "changed": ["anthropic"]}, r
    assert r["models"] == O.empty_changes(), \
        f"no [models.NAME] table changed, yet models lists {r['models']}"
    assert r["breakers_reset"] == [], r
    assert r["changed"] is True


# --------------------------------------------------------------------------- an invalid file


def break_file(cfg):
    cfg["daemon"]["flush_intervl_ms"] = 100
    cfg["chains"]["default"] = ["gpt-4o", "claude-3-5-sonet"]
    cfg["providers"]["gemini"]["kind"] = "gemni"
    cfg["models"]["claude-3-haiku"]["provider"] = "anthropc"


BROKEN_NEEDLES = [
    ("daemon.flush_intervl_ms", "flush_interval_ms"),
    ("chains.default", "claude-3-5-sonnet"),
    ("providers.gemini.kind", "gemni"),
    ("models.claude-3-haiku.provider", "anthropic"),
]


def test_invalid_file_changes_nothing_and_lists_every_problem(daemon):
    O.rewrite(daemon, break_file)
    reply = O.reload_rpc(daemon)
    err = H.rpc_error(reply, -32008)
    data = err.get("data")
    assert isinstance(data, dict), err
    assert data.get("path") == daemon.config_path, data
    problems = data.get("problems")
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems), data
    for key, hint in BROKEN_NEEDLES:
        hits = [p for p in problems if p.startswith(key)]
        assert hits, f"no problem for {key} in {problems}"
        assert hint in hits[0], f"{key}: expected {hint!r} in {hits[0]!r}"
    assert len(problems) >= len(BROKEN_NEEDLES), problems

    # nothing changed
    assert O.generation(daemon) == 1
    assert daemon.call("chains")["chains"]["default"] == OLD_DEFAULT
    res = complete_default(daemon)
    assert res["model_used"] == "gpt-4o" and O.route_models(res["route"]) == OLD_DEFAULT
    assert "claude-3-haiku" in daemon.call("status")["models"]

    line = O.wait_log(daemon, "config reload failed")[-1]
    assert "notice" in line, f"a failed reload is logged at notice: {line}"
    assert "claude-3-5-sonet" in daemon.stderr_text(), "the log names the problems"
    assert reload_counter(daemon, "error") == 1
    assert reload_counter(daemon, "success") == 0

    # fixed: the next reload applies, as generation 2 (a failed reload is not a generation)
    daemon.cfg = H.config_dict(daemon.fake, daemon.db, daemon.key_file)
    O.rewrite(daemon, set_default(NEW_DEFAULT))
    assert O.reload_ok(daemon)["generation"] == 2
    assert complete_default(daemon)["model_used"] == NEW_DEFAULT[0]


def test_reload_problems_are_the_check_config_messages(daemon):
    O.rewrite(daemon, break_file)
    problems = H.rpc_error(O.reload_rpc(daemon), -32008)["data"]["problems"]
    rc, out, err = H.run_check_config(daemon.binary, daemon.config_path)
    assert rc == 1, (rc, out, err)
    prefix = "fallbackd: config error: "
    lines = [ln[len(prefix):] for ln in err.splitlines() if ln.startswith(prefix)]
    assert sorted(lines) == sorted(problems), f"--check-config: {lines}\nreload: {problems}"


def test_toml_syntax_error_is_a_failed_reload(daemon):
    O.write_text(daemon.config_path, "[daemon\nthis is not toml\n")
    err = H.rpc_error(O.reload_rpc(daemon), -32008)
    assert err["data"]["path"] == daemon.config_path and err["data"]["problems"], err
    assert O.generation(daemon) == 1
    assert complete_default(daemon)["model_used"] == "gpt-4o"


def test_missing_file_is_a_failed_reload(daemon):
    os.unlink(daemon.config_path)
    err = H.rpc_error(O.reload_rpc(daemon), -32008)
    assert err["data"]["path"] == daemon.config_path and err["data"]["problems"], err
    assert O.generation(daemon) == 1
    assert daemon.call("ping") == "pong"


# --------------------------------------------------------------------------- SIGHUP


def test_sighup_reloads_and_never_ends_the_daemon(daemon):
    O.rewrite(daemon, set_default(NEW_DEFAULT))
    O.sighup_and_wait(daemon, 2)
    assert daemon.proc.poll() is None
    res = complete_default(daemon)
    assert res["model_used"] == NEW_DEFAULT[0] and O.route_models(res["route"]) == NEW_DEFAULT
    O.wait_log(daemon, "config reloaded")

    # an invalid file: SIGHUP logs the failure, the daemon keeps serving the old config
    O.rewrite(daemon, break_file)
    daemon.send_signal(signal.SIGHUP)
    O.wait_log(daemon, "config reload failed")
    assert daemon.proc.poll() is None, f"SIGHUP with a bad file ended the daemon:\n{daemon.stderr_tail()}"
    assert daemon.call("ping") == "pong"
    assert O.generation(daemon) == 2
    assert complete_default(daemon)["model_used"] == NEW_DEFAULT[0]

    # SIGHUP after SIGHUP: each one applies, none ends the daemon
    daemon.cfg = H.config_dict(daemon.fake, daemon.db, daemon.key_file)
    for i, chain in enumerate([OLD_DEFAULT, NEW_DEFAULT, OLD_DEFAULT]):
        O.rewrite(daemon, set_default(chain))
        O.sighup_and_wait(daemon, 3 + i)
        assert O.route_models(daemon.call("route")["route"]) == chain
    assert daemon.call("ping") == "pong"
    assert daemon.stop() == 0  # SIGTERM after SIGHUPs: exit code 0, socket removed


# --------------------------------------------------------------------------- in-flight requests


def test_request_in_flight_finishes_on_the_config_it_started_with(daemon, fake):
    """A held request keeps its old chain (and falls back along it) while the next one runs the new chain."""
    fake.script("gpt-4o", [{"kind": "hold", "after": "server_error"}], then="ok")
    c = daemon.conn(timeout=60)
    try:
        c.send({"jsonrpc": "2.0", "id": "old", "method": "complete",
                "params": {"messages": O.MSGS, "timeout_ms": 60_000}})
        assert H.wait_for(lambda: fake.requests(model="gpt-4o")), "the first request never reached gpt-4o"

        # new default: gpt-4o first again, then models the old chain does not have
        O.rewrite(daemon, set_default(["gpt-4o", "gemini-flash", "claude-3-haiku"]))
        r = O.reload_ok(daemon)
        assert r["chains"]["changed"] == ["default"], r
        new = complete_default(daemon)  # gpt-4o answers ok now (its script moved on)
        assert O.route_models(new["route"]) == ["gpt-4o", "gemini-flash", "claude-3-haiku"], new["route"]
        assert new["model_used"] == "gpt-4o"

        fake.release("gpt-4o")  # the held call fails: the old request falls back along the OLD chain
        reply = c.recv(timeout=60)
    finally:
        c.close()
    assert reply["id"] == "old" and "result" in reply, reply
    old = reply["result"]
    assert O.route_models(old["route"]) == OLD_DEFAULT, f"the in-flight request changed chain: {old['route']}"
    assert old["model_used"] == "claude-3-5-sonnet", old
    assert [a["model"] for a in old["attempts"]] == ["gpt-4o", "claude-3-5-sonnet"], old["attempts"]
    assert not fake.requests(model="gemini-1.5-flash"), "the in-flight request used a model of the new chain"


def test_in_flight_request_is_priced_with_its_own_config(daemon, fake):
    """Prices are part of the config a request started with."""
    fake.script("gpt-4o", ["hold"], then="ok")
    c = daemon.conn(timeout=60)
    try:
        c.send({"jsonrpc": "2.0", "id": "old", "method": "complete",
                "params": {"messages": O.MSGS, "models": ["gpt-4o"], "timeout_ms": 60_000}})
        assert H.wait_for(lambda: fake.requests(model="gpt-4o"))
        O.rewrite(daemon, lambda cfg: cfg["models"]["gpt-4o"].update(cost_per_1k_input=1.0, cost_per_1k_output=2.0))
        r = O.reload_ok(daemon)
        assert r["models"]["changed"] == ["gpt-4o"], r
        new = H.complete_ok(daemon, O.MSGS, models=["gpt-4o"])
        fake.release("gpt-4o")
        reply = c.recv(timeout=60)
    finally:
        c.close()
    old = reply["result"]
    u = old["usage"]
    old_price = u["input_tokens"] / 1000 * 0.005 + u["output_tokens"] / 1000 * 0.015
    assert H.approx(old["cost_usd"], old_price), \
        f"in-flight request priced {old['cost_usd']}, its config's prices give {old_price}"
    u = new["usage"]
    assert H.approx(new["cost_usd"], u["input_tokens"] / 1000 * 1.0 + u["output_tokens"] / 1000 * 2.0), new


# --------------------------------------------------------------------------- breakers across a reload


def trip(daemon, fake, model_id, model, fallback="gemini-pro", step="server_error"):
    """Fail `model` until its breaker opens; return its breaker entry."""
    fake.script(model_id, [], then=step)
    for _ in range(TRIPPING["consecutive_failures"]):
        res = H.complete_ok(daemon, O.MSGS, models=[model, fallback])
        assert res["model_used"] == fallback, res
        if H.breaker_of(daemon, model)["state"] == "open":
            break
    b = H.breaker_of(daemon, model)
    assert b["state"] == "open", b
    return b


def tripping(cfg):
    H.set_resilience(cfg, breaker=TRIPPING)


def test_open_breaker_of_unchanged_model_stays_open(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=tripping)
    before = trip(d, fake, "gpt-4o", "gpt-4o")
    # Let a second pass, so a breaker the reload re-opened (or rebuilt) would end >= 1 s later than this one.
    # until_ms is derived from a monotonic clock and moves by a millisecond between two reads anyway.
    time.sleep(1.0)
    O.rewrite(d, set_default(NEW_DEFAULT))
    r = O.reload_ok(d)
    assert r["breakers_reset"] == [], r
    after = H.breaker_of(d, "gpt-4o")
    assert after["state"] == "open", f"a reload closed an unchanged model's breaker: {after}"
    assert abs(after["until_ms"] - before["until_ms"]) <= 50, f"the open period restarted: {before} -> {after}"
    assert after["trips"] == before["trips"] and after["level"] == before["level"], (before, after)
    assert after["last_trip_reason"] == before["last_trip_reason"], (before, after)
    # and routing still skips it
    planned = d.call("route", {"task": "complex_reasoning"})["route"]
    assert H.route_entry(planned, "gpt-4o")["reason"] == "open", planned
    res = H.complete_ok(d, O.MSGS, task="complex_reasoning")
    assert "gpt-4o" not in [a["model"] for a in res["attempts"]], res["attempts"]


def test_new_key_file_contents_reset_the_breaker(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=tripping)
    trip(d, fake, "llama-3.1-8b-instruct", "local-llama", step="auth")
    trip(d, fake, "gpt-4o", "gpt-4o")
    assert H.breaker_of(d, "local-llama")["misconfigured"] is True
    fake.script("llama-3.1-8b-instruct", [], then="ok")

    new_key = "sk-fake-compat-ROTATED-111"
    O.key_file(d.dir, os.path.basename(d.key_file), new_key)  # same file, still mode 0600, new contents
    assert stat.S_IMODE(os.stat(d.key_file).st_mode) == 0o600
    r = O.reload_ok(d)
    assert r["breakers_reset"] == ["local-llama"], r
    assert r["providers"]["changed"] == ["compat"], r
    assert H.breaker_of(d, "local-llama")["state"] == "closed"
    assert H.breaker_of(d, "gpt-4o")["state"] == "open", "an unrelated open breaker was reset"

    n = len(fake.requests(model="llama-3.1-8b-instruct"))
    res = H.complete_ok(d, O.MSGS, models=["local-llama"])
    assert res["model_used"] == "local-llama"
    sent = fake.requests(model="llama-3.1-8b-instruct")[n:]
    assert sent and sent[-1]["headers"].get("authorization") == f"Bearer {new_key}", "the new key is not in use"
    assert new_key not in str(r) and new_key not in d.stderr_text(), "a key leaked into the reply or the log"


def test_new_api_key_env_resets_the_breakers_of_that_provider(daemon_factory, fake):
    new_key = "sk-fake-openai-ROTATED-222"
    d = daemon_factory(cfg_mutate=tripping, env_extra={"FAKE_OPENAI_KEY_V2": new_key})
    trip(d, fake, "gpt-4o", "gpt-4o")
    trip(d, fake, "claude-3-5-sonnet-20241022", "claude-3-5-sonnet")
    fake.script("gpt-4o", [], then="ok")

    O.rewrite(d, lambda cfg: cfg["providers"]["openai"].update(api_key_env="FAKE_OPENAI_KEY_V2"))
    r = O.reload_ok(d)
    openai_models = sorted(m.name for m in H.POOL.values() if m.provider == "openai")
    assert sorted(r["breakers_reset"]) == openai_models, r
    assert r["providers"]["changed"] == ["openai"], r
    assert H.breaker_of(d, "gpt-4o")["state"] == "closed"
    assert H.breaker_of(d, "claude-3-5-sonnet")["state"] == "open", "an unrelated open breaker was reset"
    res = H.complete_ok(d, O.MSGS, models=["gpt-4o"])
    assert res["model_used"] == "gpt-4o"
    assert fake.requests(model="gpt-4o")[-1]["headers"].get("authorization") == f"Bearer {new_key}"


def test_new_base_url_resets_the_breakers_of_that_provider(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=tripping)
    trip(d, fake, "gemini-1.5-pro", "gemini-pro", fallback="gpt-4o-mini")
    trip(d, fake, "gpt-4o", "gpt-4o", fallback="gpt-4o-mini")
    fake.script("gemini-1.5-pro", [], then="ok")
    new_url = d.cfg["providers"]["gemini"]["base_url"].replace("127.0.0.1", "localhost")
    O.rewrite(d, lambda cfg: cfg["providers"]["gemini"].update(base_url=new_url))
    r = O.reload_ok(d)
    assert sorted(r["breakers_reset"]) == ["gemini-flash", "gemini-pro"], r
    assert H.breaker_of(d, "gemini-pro")["state"] == "closed"
    assert H.breaker_of(d, "gpt-4o")["state"] == "open"
    res = H.complete_ok(d, O.MSGS, models=["gemini-pro"])
    assert res["model_used"] == "gemini-pro"
    assert fake.requests(model="gemini-1.5-pro")[-1]["headers"].get("host", "").startswith("localhost:"), \
        "the new base_url is not in use"


# --------------------------------------------------------------------------- settings only a restart applies


def _socket_check(d, new):
    assert os.path.exists(d.socket) and not os.path.exists(new), "the socket moved without a restart"
    assert d.call("status")["socket"] == d.socket


def _database_check(d, new):
    H.complete_ok(d, O.MSGS)
    H.flushed_rows(d)
    assert d.call("status")["database"] == d.db
    assert not os.path.exists(new), "the call log moved without a restart"


def _mode_check(d, new):
    assert stat.S_IMODE(os.stat(d.socket).st_mode) == 0o600


def _max_in_flight_check(d, new):
    assert d.call("status")["max_in_flight"] == 10000


def _max_line_check(d, new):
    res = H.complete_ok(d, [{"role": "user", "content": "x" * 4000}], models=["gpt-4o-mini"])
    assert res["model_used"] == "gpt-4o-mini"


def _log_format_check(d, new):
    line = O.wait_log(d, "config reloaded")[-1]
    assert not line.lstrip().startswith("{"), f"log format switched without a restart: {line}"


def _facade_listen_check(d, new):
    assert d.call("status")["http_listen"] is None


def _facade_enabled_check(d, new):
    from facade_lib import raw_request
    sock = d.call("status")["http_socket"]
    assert raw_request(sock, "GET", "/healthz").status == 200


def _facade_socket_check(d, new):
    assert not os.path.exists(new)


def _nothing(d, new):
    pass


# (restart_required key, section, key, new value (a callable of the daemon dir for paths), check)
RESTART_ONLY = [
    ("daemon.socket", "daemon", "socket", lambda dd: os.path.join(dd, "moved.sock"), _socket_check),
    ("daemon.database", "daemon", "database", lambda dd: os.path.join(dd, "moved.sqlite"), _database_check),
    ("daemon.socket_mode", "daemon", "socket_mode", "0660", _mode_check),
    ("daemon.max_line_bytes", "daemon", "max_line_bytes", 1024, _max_line_check),
    ("daemon.max_in_flight", "daemon", "max_in_flight", 5, _max_in_flight_check),
    ("daemon.flush_interval_ms", "daemon", "flush_interval_ms", 5000, _nothing),
    ("daemon.shutdown_grace_ms", "daemon", "shutdown_grace_ms", 1000, _nothing),
    ("daemon.log_level", "daemon", "log_level", "error", _nothing),
    ("daemon.log_format", "daemon", "log_format", "json", _log_format_check),
    ("health", "health", "bucket_seconds", 5, _nothing),
    ("facade.enabled", "facade", "enabled", False, _facade_enabled_check),
    ("facade.socket", "facade", "socket", lambda dd: os.path.join(dd, "moved-http.sock"), _facade_socket_check),
    ("facade.listen", "facade", "listen", "127.0.0.1:0", _facade_listen_check),
]


@pytest.mark.parametrize("listed,section,key,new,check", RESTART_ONLY, ids=[r[0] for r in RESTART_ONLY])
def test_restart_only_setting_is_listed_and_not_applied(daemon_factory, listed, section, key, new, check):
    d = daemon_factory(cli_socket=False)  # socket from [daemon].socket, database from [daemon].database
    value_ = new(d.dir) if callable(new) else new
    O.rewrite(d, lambda cfg: cfg.setdefault(section, {}).__setitem__(key, value_))
    r = O.reload_ok(d)
    O.check_reload_shape(r)
    assert d.call("ping") == "pong"
    check(d, value_)  # not applied
    assert listed in r["restart_required"], f"{section}.{key} changed but restart_required is {r['restart_required']}"
    assert r["restart_required"] == [listed], r
    assert r["changed"] is False, f"only a restart-only setting changed, yet changed is true: {r}"


# --------------------------------------------------------------------------- warnings


def test_reload_warns_about_an_unset_key_variable(daemon):
    O.rewrite(daemon, lambda cfg: cfg["providers"]["gemini"].update(api_key_env="FBD_TEST_UNSET_VARIABLE"))
    r = O.reload_ok(daemon)
    assert any("FBD_TEST_UNSET_VARIABLE" in w for w in r["warnings"]), r
    assert r["providers"]["changed"] == ["gemini"], r


# --------------------------------------------------------------------------- fallbackctl


def test_fallbackctl_reload_prints_a_summary(daemon, fallbackd_bin):
    ctl = O.fallbackctl_path(fallbackd_bin)
    O.rewrite(daemon, set_default(NEW_DEFAULT))
    rc, out, err = O.run_daemon_once(ctl, ["--socket", daemon.socket, "reload"])
    assert rc == 0, (rc, out, err)
    assert "generation 2" in out, out
    assert "default" in out, f"the summary does not name the changed chain: {out!r}"
    assert O.generation(daemon) == 2
    assert complete_default(daemon)["model_used"] == NEW_DEFAULT[0]


def test_fallbackctl_reload_of_invalid_file_exits_1(daemon, fallbackd_bin):
    ctl = O.fallbackctl_path(fallbackd_bin)
    O.rewrite(daemon, break_file)
    rc, out, err = O.run_daemon_once(ctl, ["--socket", daemon.socket, "reload"])
    assert rc == 1, (rc, out, err)
    text = out + err
    assert "-32008" in text or "invalid" in text, text
    for key, _ in BROKEN_NEEDLES:
        assert key in text, f"fallbackctl does not show the problem {key}: {text!r}"
    assert O.generation(daemon) == 1
