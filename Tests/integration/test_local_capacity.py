"""Local limits are fallbackd's, not the provider's (issue 12): when every connection fallbackd allows to a provider
(`max_connections`) is busy past the connect timeout, the attempt is `local_capacity`, the chain moves on, and the
provider's breaker and health never hear of it. Real daemon, fake providers."""

import concurrent.futures

import fbd_harness as H

MSGS = [{"role": "user", "content": "One connection only."}]
CHAIN = H.CHAINS["cheap"]  # gpt-4o-mini (openai), claude-3-haiku, ...


def one_connection(cfg):
    cfg["providers"]["openai"]["max_connections"] = 1
    cfg["providers"]["openai"]["connect_timeout_ms"] = 300
    H.set_resilience(cfg, health={"degraded_below": 0.0})


def test_a_full_pool_is_local_capacity_and_spares_the_breaker(daemon_factory, fake):
    d = daemon_factory(cfg_mutate=one_connection)
    primary = H.POOL[CHAIN[0]]
    assert primary.provider == "openai"
    fake.script(primary.model_id, [], then="slow:2000")  # holds the one connection for 2 s
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(H.complete_ok, d, MSGS, task="cheap", timeout=30) for _ in range(4)]
        results = [H.bounded(f.result, timeout=40) for f in futures]
    served = [r["model_used"] for r in results]
    assert served.count(CHAIN[0]) >= 1, served
    local = [a for r in results for a in r["attempts"] if a["error_type"] == "local_capacity"]
    assert local, f"no attempt waited past the connect timeout for the one connection: {results}"
    for attempt in local:
        assert attempt["model"] == CHAIN[0] and attempt["http_status"] is None, attempt
        assert "max_connections" in attempt["message"], attempt
    for r in results:
        if r["model_used"] != CHAIN[0]:
            assert [a["error_type"] for a in r["attempts"]] == ["local_capacity", None], r["attempts"]
    breaker = H.breaker_of(d, CHAIN[0])
    assert breaker["state"] == "closed" and breaker["consecutive_failures"] == 0, \
        f"a local limit was blamed on the provider: {breaker}"
