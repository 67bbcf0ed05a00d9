"""`fallbackd --check-config FILE` reports EVERY problem of a file, one per line, each naming its key
(docs/protocol.md, "### [daemon]", "Checking a file"): `fallbackd: config error: KEY: problem`, exit code 1,
with "did you mean 'x'?" for a misspelt key, model, provider or task name.
"""

import os
import re
import shutil

import pytest

import fbd_harness as H
import ops_lib as O

LINE = re.compile(r"^fallbackd: config error: (?P<key>\S+): (?P<problem>.+)$")
HEADER = re.compile(r"^fallbackd: (?P<n>\d+) problems in (?P<path>.+):$")


@pytest.fixture
def tmp():
    d = H.short_tmpdir("fbd-cc-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def check(fallbackd_bin, fake, tmp, mutate):
    kf = O.key_file(tmp, "compat.key", H.COMPAT_KEY)
    cfg = H.config_dict(fake, os.path.join(tmp, "calls.sqlite"), kf)
    mutate(cfg)
    path = os.path.join(tmp, "fallbackd.toml")
    O.write_config(path, cfg)
    rc, out, err = H.run_check_config(fallbackd_bin, path)
    return rc, out, err, path


def problems(rc, out, err, path) -> dict:
    """{key: [problem, ...]} after asserting the output's form: exit 1, nothing on stdout, every stderr line a
    problem line (or one header "fallbackd: N problems in PATH:" with N the number of problem lines)."""
    assert rc == 1, f"exit {rc}; stdout={out!r} stderr={err!r}"
    assert "config OK" not in out + err
    found, header = {}, None
    lines = [ln for ln in err.splitlines() if ln.strip()]
    for ln in lines:
        m = LINE.match(ln)
        if m:
            found.setdefault(m["key"], []).append(m["problem"])
            continue
        h = HEADER.match(ln)
        assert h and header is None, f"stderr line is neither a problem nor the one header: {ln!r}\n{err}"
        header = h
    n = sum(len(v) for v in found.values())
    if header is not None:
        assert int(header["n"]) == n and header["path"] == path, f"header says {header['n']}, {n} lines: {err}"
    assert len(lines) == n + (header is not None), err
    return found


# --------------------------------------------------------------------------- the brief's example


def four_problems(cfg):
    cfg["daemon"]["flush_intervl_ms"] = 100  # unknown key in [daemon]
    cfg["chains"]["cheap"] = ["gpt-4o-mni", "claude-3-haiku"]  # misspelt model name in a chain
    cfg["providers"]["gemini"]["kind"] = "gemnii"  # a provider with a bad kind
    cfg["models"]["claude-3-haiku"]["provider"] = "anthropc"  # a model naming an unknown provider


def test_every_problem_is_reported_one_per_line(fallbackd_bin, fake, tmp):
    found = problems(*check(fallbackd_bin, fake, tmp, four_problems))
    assert set(found) == {"daemon.flush_intervl_ms", "chains.cheap", "providers.gemini.kind",
                          "models.claude-3-haiku.provider"}, found
    assert "did you mean 'flush_interval_ms'?" in found["daemon.flush_intervl_ms"][0], found
    assert "gpt-4o-mni" in found["chains.cheap"][0] and "did you mean 'gpt-4o-mini'?" in found["chains.cheap"][0]
    assert "gemnii" in found["providers.gemini.kind"][0], found
    prov = found["models.claude-3-haiku.provider"][0]
    assert "anthropc" in prov and "did you mean 'anthropic'?" in prov, found


def test_each_misspelt_model_of_a_chain_is_reported(fallbackd_bin, fake, tmp):
    def mutate(cfg):
        cfg["chains"]["cheap"] = ["gpt-4o-mni", "claude-3-haku"]
        cfg["chains"]["complex_reasoning"] = ["claude-3-5-sonnet", "gemini-pr"]
    found = problems(*check(fallbackd_bin, fake, tmp, mutate))
    assert sorted(found) == ["chains.cheap", "chains.complex_reasoning"], found
    assert len(found["chains.cheap"]) == 2, found
    text = " ".join(sum(found.values(), []))
    for hint in ("gpt-4o-mini", "claude-3-haiku", "gemini-pro"):
        assert f"did you mean '{hint}'?" in text, text


# --------------------------------------------------------------------------- did you mean


def _set(path, value):
    def mutate(cfg):
        d = cfg
        for k in path[:-1]:
            d = d.setdefault(k, {})
        d[path[-1]] = value
    return mutate


def _rename(path, new_key):
    def mutate(cfg):
        d = cfg
        for k in path[:-1]:
            d = d[k]
        d[new_key] = d.pop(path[-1])
    return mutate


# (id, mutation, key of the problem line, the suggestion)
SUGGEST = [
    ("daemon-key", _set(["daemon", "flush_intervl_ms"], 100), "daemon.flush_intervl_ms", "flush_interval_ms"),
    ("provider-key", _set(["providers", "openai", "conect_timeout_ms"], 100), "providers.openai.conect_timeout_ms",
     "connect_timeout_ms"),
    ("model-key", _set(["models", "gpt-4o", "priorty"], 3), "models.gpt-4o.priorty", "priority"),
    ("breaker-key", _set(["breaker", "consecutive_failure"], 3), "breaker.consecutive_failure",
     "consecutive_failures"),
    ("retry-key", _set(["retry", "max_retrie"], 1), "retry.max_retrie", "max_retries"),
    ("section", _set(["chian_options", "default", "hedge_after_ms"], 100), "chian_options", "chain_options"),
    ("chain-model", _set(["chains", "default"], ["gpt-4o", "claud-3-5-sonnet"]), "chains.default",
     "claude-3-5-sonnet"),
    ("model-provider", _set(["models", "gpt-4o", "provider"], "opena"), "models.gpt-4o.provider", "openai"),
    ("app-task", _set(["apps", "ops", "tasks"], ["complex_reasonin"]), "apps.ops.tasks[0]", "complex_reasoning"),
    ("max-cost-ratio-task", _set(["max_cost_ratio", "cheep"], 2.0), "max_cost_ratio.cheep", "cheap"),
    ("chain-options-task", _set(["chain_options", "defualt", "hedge_after_ms"], 100), "chain_options.defualt",
     "default"),
    ("shadow-pair-model", _set(["shadow", "pairs", "gpt-4o-mni"], "gpt-4o"), "shadow.pairs.gpt-4o-mni",
     "gpt-4o-mini"),
]


@pytest.mark.parametrize("case_id,mutate,key,hint", SUGGEST, ids=[c[0] for c in SUGGEST])
def test_misspelt_name_gets_a_suggestion(fallbackd_bin, fake, tmp, case_id, mutate, key, hint):
    def full(cfg):
        if case_id == "app-task":
            cfg.setdefault("apps", {}).setdefault("ops", {})["uid"] = 4242
        mutate(cfg)
    found = problems(*check(fallbackd_bin, fake, tmp, full))
    assert key in found, f"no problem line for {key}: {found}"
    assert f"did you mean '{hint}'?" in found[key][0], f"{key}: {found[key][0]!r} has no \"did you mean '{hint}'?\""


# --------------------------------------------------------------------------- every problem, wherever it is


def test_problems_in_many_sections_are_all_reported(fallbackd_bin, fake, tmp):
    def mutate(cfg):
        cfg["daemon"]["flush_intervl_ms"] = 100
        cfg["retry"]["max_retrie"] = 1
        cfg["budgets"] = {"default": -1.0}
        cfg["facade"] = {"max_body_bytes": "big"}
        cfg["max_cost_ratio"] = {"cheep": 2.0}
        cfg["apps"] = {"vague": {"daily_budget_usd": 1.0}}
        cfg["chains"]["cheap"] = ["gpt-4o-mni"]
    found = problems(*check(fallbackd_bin, fake, tmp, mutate))
    want = {"daemon.flush_intervl_ms", "retry.max_retrie", "budgets.default", "facade.max_body_bytes",
            "max_cost_ratio.cheep", "apps.vague", "chains.cheap"}
    assert want <= set(found), f"missing: {sorted(want - set(found))}; reported: {sorted(found)}"
    assert set(found) == want, f"extra problems: {sorted(set(found) - want)}"


def test_several_problems_in_one_table_are_all_reported(fallbackd_bin, fake, tmp):
    def mutate(cfg):
        cfg["daemon"].update(max_line_bytes="big", log_format="xml", bogus_key=1)
    found = problems(*check(fallbackd_bin, fake, tmp, mutate))
    want = {"daemon.max_line_bytes", "daemon.log_format", "daemon.bogus_key"}
    assert set(found) == want, f"[daemon] has 3 problems; reported: {found}"


def test_several_problems_in_one_model_are_all_reported(fallbackd_bin, fake, tmp):
    def mutate(cfg):
        cfg["models"]["gpt-4o"].update(priority="first", colour="red")
    found = problems(*check(fallbackd_bin, fake, tmp, mutate))
    assert set(found) == {"models.gpt-4o.priority", "models.gpt-4o.colour"}, found


def test_misspelt_required_key_is_reported_with_its_suggestion(fallbackd_bin, fake, tmp):
    """api_key_evn instead of api_key_env: the provider lacks its key AND has an unknown key; the line that
    tells the operator what to fix is the misspelling."""
    found = problems(*check(fallbackd_bin, fake, tmp, _rename(["providers", "openai", "api_key_env"], "api_key_evn")))
    assert "providers.openai.api_key_evn" in found, f"the misspelt key is not reported: {found}"
    assert "did you mean 'api_key_env'?" in found["providers.openai.api_key_evn"][0], found


def test_a_bad_value_invents_no_problem_elsewhere(fallbackd_bin, fake, tmp):
    """One bad [breaker] value is one problem: the valid [retry] and [shadow] tables are not 'unknown'."""
    found = problems(*check(fallbackd_bin, fake, tmp, _set(["breaker", "failure_rate"], 2.0)))
    assert set(found) == {"breaker.failure_rate"}, f"one problem expected, got {found}"


def test_toml_syntax_error_is_one_problem(fallbackd_bin, tmp):
    path = os.path.join(tmp, "broken.toml")
    O.write_text(path, '[daemon]\ndatabase = "x.sqlite"\n[chains\n')
    rc, out, err = H.run_check_config(fallbackd_bin, path)
    assert rc == 1, (rc, out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("fallbackd: config error:") and "TOML" in lines[0], err


def test_a_clean_file_still_passes(fallbackd_bin, fake, tmp):
    rc, out, err, _ = check(fallbackd_bin, fake, tmp, lambda cfg: None)
    assert rc == 0 and "config OK" in out + err, (rc, out, err)
    assert "config error" not in out + err
