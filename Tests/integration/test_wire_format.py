"""What the daemon puts on the wire to each provider: paths, auth headers, body shapes."""

import fbd_harness as H

CONVO = [
    {"role": "system", "content": "You are a careful geography tutor."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "Paris."},
    {"role": "user", "content": "And the capital of Italy?"},
]


def _one_request(fake, flavor):
    reqs = fake.requests(flavor=flavor)
    assert len(reqs) == 1, reqs
    return reqs[0]


def _no_key_anywhere_but(req, header, key):
    """The key is in exactly the expected header and not in the path or any other header."""
    assert key not in req["path"]
    for name, value in req["headers"].items():
        if name != header:
            assert key not in value, f"key leaked into header {name}"
    assert key not in str(req["body"])


def test_openai_wire(daemon, conn, fake):
    conn.call("complete", {"messages": CONVO, "models": ["gpt-4o"]})
    req = _one_request(fake, "openai")
    assert req["method"] == "POST"
    assert req["route"] == "/openai/v1/chat/completions"
    assert req["query"] == {}
    assert req["headers"]["authorization"] == f"Bearer {H.OPENAI_KEY}"
    assert req["headers"]["content-type"].startswith("application/json")
    _no_key_anywhere_but(req, "authorization", H.OPENAI_KEY)
    b = req["body"]
    assert b["model"] == "gpt-4o"
    assert [(m["role"], m["content"]) for m in b["messages"]] == [(m["role"], m["content"]) for m in CONVO]
    assert b.get("stream") in (None, False)


def test_compat_wire_key_from_file(daemon, conn, fake):
    conn.call("complete", {"messages": CONVO, "models": ["local-llama"]})
    req = _one_request(fake, "compat")
    assert req["route"] == "/compat/v1/chat/completions"
    assert req["headers"]["authorization"] == f"Bearer {H.COMPAT_KEY}"
    _no_key_anywhere_but(req, "authorization", H.COMPAT_KEY)
    assert req["body"]["model"] == "llama-3.1-8b-instruct"
    assert [m["role"] for m in req["body"]["messages"]] == ["system", "user", "assistant", "user"]


def test_anthropic_wire(daemon, conn, fake):
    conn.call("complete", {"messages": CONVO, "models": ["claude-3-5-sonnet"], "max_tokens": 321})
    req = _one_request(fake, "anthropic")
    assert req["route"] == "/anthropic/v1/messages"
    h = req["headers"]
    assert h["x-api-key"] == H.ANTHROPIC_KEY
    assert h["anthropic-version"] == H.ANTHROPIC_VERSION
    assert h["content-type"].startswith("application/json")
    assert "authorization" not in h or H.ANTHROPIC_KEY not in h["authorization"]
    _no_key_anywhere_but(req, "x-api-key", H.ANTHROPIC_KEY)
    b = req["body"]
    assert b["model"] == "claude-3-5-sonnet-20241022"
    assert b["max_tokens"] == 321
    system = b["system"]
    if isinstance(system, list):
        system = "\n".join(blk["text"] for blk in system)
    assert system == "You are a careful geography tutor."
    roles = [m["role"] for m in b["messages"]]
    assert "system" not in roles
    assert roles == ["user", "assistant", "user"]

    def text(c):
        return c if isinstance(c, str) else "".join(blk["text"] for blk in c)

    assert [text(m["content"]) for m in b["messages"]] == [m["content"] for m in CONVO[1:]]


def test_anthropic_without_system_message_sends_no_empty_system(daemon, conn, fake):
    conn.call("complete", {"messages": [{"role": "user", "content": "no system here"}], "models": ["claude-3-haiku"]})
    b = _one_request(fake, "anthropic")["body"]
    assert not b.get("system"), b.get("system")
    assert [m["role"] for m in b["messages"]] == ["user"]


def test_gemini_wire(daemon, conn, fake):
    conn.call("complete", {"messages": CONVO, "models": ["gemini-pro"]})
    req = _one_request(fake, "gemini")
    assert req["route"] == "/gemini/v1beta/models/gemini-1.5-pro:generateContent"
    assert req["query"] == {}, "the key (or anything else) must not be in the query"
    assert "key=" not in req["path"]
    assert req["headers"]["x-goog-api-key"] == H.GEMINI_KEY
    assert req["headers"]["content-type"].startswith("application/json")
    _no_key_anywhere_but(req, "x-goog-api-key", H.GEMINI_KEY)
    b = req["body"]
    si = b.get("systemInstruction", b.get("system_instruction"))
    assert si is not None, "system prompt must go to systemInstruction"
    assert "".join(p["text"] for p in si["parts"]) == "You are a careful geography tutor."
    contents = b["contents"]
    assert [c.get("role") for c in contents] == ["user", "model", "user"]
    assert ["".join(p["text"] for p in c["parts"]) for c in contents] == [m["content"] for m in CONVO[1:]]


def test_every_provider_kind_gets_only_its_own_key(daemon, conn, fake):
    for name in ("gpt-4o", "claude-3-haiku", "gemini-flash", "local-llama"):
        conn.call("complete", {"messages": CONVO, "models": [name]})
    own = {"openai": H.OPENAI_KEY, "anthropic": H.ANTHROPIC_KEY, "gemini": H.GEMINI_KEY, "compat": H.COMPAT_KEY}
    reqs = fake.requests()
    assert sorted(r["flavor"] for r in reqs) == sorted(own)
    for r in reqs:
        blob = r["path"] + str(r["headers"]) + str(r["body"])
        for flavor, key in own.items():
            if flavor == r["flavor"]:
                assert key in blob
            else:
                assert key not in blob, f"{flavor} key sent to {r['flavor']}"
