#!/usr/bin/env python3
"""Scriptable fake LLM providers for fallbackd's integration tests (stdlib only).

One HTTP/1.1 server (keep-alive, exact Content-Length, 127.0.0.1, ephemeral port)
speaks the real wire formats of:

  OpenAI chat completions     POST /openai/v1/chat/completions
  OpenAI-compatible           POST /compat/v1/chat/completions
  Anthropic messages          POST /anthropic/v1/messages
  Gemini generateContent      POST /gemini/v1beta/models/{model}:generateContent
  Gemini streaming            POST /gemini/v1beta/models/{model}:streamGenerateContent?alt=sse
                              (without alt=sse: the chunks as one JSON array, like the real API;
                              stream faults then act as they do without streaming)

so a provider's ``base_url`` is ``http://127.0.0.1:PORT/openai/v1``,
``.../compat/v1``, ``.../anthropic/v1`` or ``.../gemini/v1beta``.

Behaviour is scripted per model id (the ``model`` field of the body, or the
``{model}`` path segment for Gemini) through a control API on the same server:

  POST /_control/script    {"model": "gpt-4o", "steps": ["rate_limited", {"kind": "ok"}], "then": "ok"}
  POST /_control/reset     forget scripts and recorded requests (and let every held request go)
  POST /_control/release   {"model": "gpt-4o"}: the requests held by `hold` steps of that model answer
                           now, and its later `hold` steps pass at once; {} releases every model
  GET  /_control/requests  [{path, method, headers (lower-case names), body (parsed JSON), ...}]
  GET  /_control/health    {"ok": true}

Steps are consumed one per request, then ``then`` answers forever. A model
without a script uses the ``"*"`` script if there is one, else ``ok``.

Step kinds (a string, or an object {"kind": ..., params}):

  ok              200, deterministic content (see ``reply_text``), usage = word counts
                  params: content (override text), input_tokens, output_tokens, and the usage details below
  rate_limited    429 (+ retry-after / RetryInfo); params: retry_after (seconds, default 1)
  server_error    500
  unavailable     503; param retry_after (seconds, only when given): a retry-after header (Gemini: RetryInfo)
  overloaded      Anthropic 529 overloaded_error; others 503; param retry_after as for unavailable
  auth            401
  forbidden       403
  invalid_key     like auth, except Gemini: its real 400 INVALID_ARGUMENT / API_KEY_INVALID
  suspended       Gemini's real 403 "Consumer 'api_key:KEY' has been suspended" (echoes the key!);
                  others behave like forbidden
  bad_request     400 (plain invalid request)
  not_found       404 model not found
  context_length  400 context_length_exceeded / "prompt is too long" / Gemini token count
  content_filter  OpenAI 400 content_policy_violation; compat 400 code content_filter (Azure);
                  Anthropic 400 "Output blocked by content filtering policy";
                  Gemini 200 promptFeedback.blockReason SAFETY
  safety_stop     200 whose only candidate/choice stopped for safety with no text
                  (Gemini finishReason SAFETY, OpenAI finish_reason content_filter, Anthropic stop_reason refusal)
  malformed       200 application/json whose body is not valid JSON
  empty           200 valid JSON without content (choices [], content [], candidate without parts)
  error_in_200    200 whose body is the provider's error object
  gateway         502 text/html from a proxy
  hang            read the request, never answer; ends when the client goes away (or 60 s, or stop)
  slow:<ms>       answer ok after <ms> (also {"kind": "slow", "ms": 800})
  hold            read the request and wait until the test releases the model (``release(model)``),
                  then answer ``after`` (any kind that does not wait: not hang, hold, slow, stall_body,
                  stream_silent, stream_slow_first, stream_stall; default ok; {"kind": "hold", "after":
                  "server_error"}). A barrier without clocks: while held, the request is provably in
                  flight. Ends like hang when the client goes away first (or 60 s, or stop).
                  The entry's ``ended`` says how: released, client_closed, timeout, stopped
  stall_body      send headers (full Content-Length) and part of the body, then stall like hang

Tools, JSON, finish reasons (every flavor unless noted):

  tool_call       the model calls a tool. params: name (default: the tool the request forces through
                  tool_choice / toolConfig.allowedFunctionNames, else its first tool, else "lookup"),
                  arguments (object, default {}), count (parallel calls, default 1).
                  OpenAI message {content: null, tool_calls: [{id: "call_fake<n>", type: "function",
                  function: {name, arguments: <compact JSON string>}}]}, finish_reason "tool_calls";
                  Anthropic content [{type: "tool_use", id: "toolu_fake<n>", name, input}], stop_reason "tool_use";
                  Gemini parts [{functionCall: {name, args}}], finishReason "STOP"
  json            answers the JSON text of param value (object, default {"ok": true}): OpenAI/compat/Gemini as the
                  content/text; Anthropic, when tool_choice is {"type": "tool", "name": N}, a tool_use block calling
                  N with input = value (stop_reason "tool_use"), else a text block with the JSON text
  refusal         OpenAI message {content: null, refusal: text}, finish_reason "stop"; Anthropic stop_reason
                  "refusal", content []; Gemini a candidate with finishReason "SAFETY", no content.
                  param text (default "I'm sorry, but I can't help with that.")
  length          the output cap cut the answer. param content (default "": nothing visible). OpenAI finish_reason
                  "length" (content ""), Anthropic stop_reason "max_tokens" (content [] when empty), Gemini
                  finishReason "MAX_TOKENS" (content {"role": "model"} without parts when empty). Output tokens =
                  the request's cap (max_completion_tokens / max_tokens / maxOutputTokens, else 16); when content is
                  empty they are reasoning tokens (OpenAI reasoning_tokens, Gemini thoughtsTokenCount)
  insufficient_quota  OpenAI/compat 429 type and code insufficient_quota ("You exceeded your current quota, ...");
                  Anthropic 400 invalid_request_error "Your credit balance is too low ..."; Gemini 400
                  FAILED_PRECONDITION "User location is not supported for the API use."
  unsupported_parameter  OpenAI/compat 400 code unsupported_parameter, param max_tokens ("Use
                  'max_completion_tokens' instead."); others like bad_request
  reasoning_model OpenAI/compat act like an o-series model: 400 unsupported_parameter when the body has max_tokens,
                  400 unsupported_value (param temperature) when temperature is set and not 1, else ok with
                  completion_tokens_details.reasoning_tokens (default 64, counted in completion_tokens);
                  others: ok
  reject_prefill  400 invalid request when the conversation ends with the model's turn (OpenAI/Anthropic last
                  message role "assistant", Gemini last content role "model"), else ok

Usage of every answer (ok, tool_call, json, ...): params input_tokens / output_tokens set the flavor's own fields
as-is (OpenAI prompt_tokens / completion_tokens, Anthropic input_tokens / output_tokens, Gemini promptTokenCount
/ candidatesTokenCount); cached_tokens, cache_write_tokens, reasoning_tokens add details:
  OpenAI    prompt_tokens_details.cached_tokens, completion_tokens_details.reasoning_tokens (reasoning counted in
            completion_tokens); flavor openai always sends both details objects, compat only when non-zero
  Anthropic cache_read_input_tokens = cached, cache_creation_input_tokens = cache_write; input_tokens excludes
            both (prompt words - cached - cache_write, unless input_tokens is given); reasoning is in output_tokens
  Gemini    cachedContentTokenCount = cached (part of promptTokenCount), thoughtsTokenCount = reasoning (in
            totalTokenCount, not in candidatesTokenCount)

Streaming. A request streams when: OpenAI/compat/Anthropic body has "stream": true (the JSON literal true);
Gemini it is the :streamGenerateContent route with query alt=sse. Every answering kind (ok, slow, hold then an
answering kind, tool_call, json, refusal, length, reasoning_model, reject_prefill, safety_stop, empty, Gemini's
200 content_filter) then answers 200 Content-Type text/event-stream (OpenAI/Anthropic "; charset=utf-8"),
Transfer-Encoding chunked (keep-alive after a complete stream), no Content-Length:
  OpenAI    data: {chat.completion.chunk} lines: first delta {role: "assistant", content: "", refusal: null}
            (tool calls: {role, content: null, tool_calls: [first call's id/type/function.name, arguments ""]}),
            content (or refusal) deltas in ~4 pieces, tool_calls fragments {index, function: {arguments: piece}}
            (each further call opens with its {index, id, type, function: {name, arguments: ""}}), a chunk with
            delta {} and finish_reason, then when stream_options.include_usage a chunk with choices [] and usage
            (every chunk then carries "usage": null), then data: [DONE]. Flavor openai adds "obfuscation" to
            each chunk unless stream_options.include_obfuscation is false
  Anthropic event: message_start (message with usage.input_tokens and cache counts, output_tokens 1), per block
            content_block_start / content_block_delta (text_delta, or input_json_delta partial_json pieces for
            tool_use) / content_block_stop, event: ping after the first block start, message_delta
            (delta.stop_reason, usage.output_tokens), message_stop
  Gemini    data: GenerateContentResponse lines with partial text parts (usageMetadata with running
            candidatesTokenCount); the last carries finishReason and the full usageMetadata; tool calls, refusals
            and empty answers come as one chunk; no [DONE]. Lines end in CRLF, like the real API
Error kinds answer their normal status and JSON body (no stream); so do malformed, error_in_200 and gateway;
hang and stall_body behave as without streaming.

Stream options of any streamed step: chunks (content pieces, default 4); sse: "crlf" (CRLF line endings),
"lf" (LF, also for Gemini), "comments" (a ": keep-alive" comment line before every event), "multiline" (every
JSON event split over two data: lines, which join with "\n"), "split" (the body leaves in 1-7 byte writes), or
a list of them; framing: "chunked" (default) or "close" (Connection: close, the body ends when the connection
closes: a cut then looks like a clean end at the HTTP level).

Stream faults (their answer is ok unless param answer is tool_call, json, refusal or length):
  stream_reset        close the connection with a TCP RST before any response byte (also without streaming)
  stream_silent       send nothing, keep the connection open, like hang (ended: silent_client_closed, ...)
  stream_slow_first   (also stream_slow_first:<ms>) param ms: headers and the events before the first content
                      event at once, then wait ms, then the rest. Not streaming: like slow
  stream_cut          param after_chunks (default 2): stream that many content chunks (never the finishing
                      event), then close the connection: no finish, no [DONE] / message_stop, no end chunk.
                      Not streaming: like stall_body
  stream_stall        like stream_cut but then send nothing more and keep the connection open until the client
                      goes (or 60 s, or stop). Not streaming: like stall_body
  stream_malformed    param position: "first" (default; the first content event's data is truncated JSON) or
                      "middle" (a truncated-JSON event between the first two content events); the rest is
                      normal. Not streaming: like malformed
  stream_no_done      OpenAI/compat: the whole stream (finish and usage chunks) without data: [DONE], then the
                      connection closes; others a normal stream. Not streaming: ok
  stream_error_event  after after_chunks (default 0) content chunks, an in-stream error, then the stream ends and
                      the connection closes: OpenAI data: {"error": {"message": "The server had an error while
                      processing your request.", "type": "server_error"}}; Anthropic event: error with
                      {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}; Gemini
                      data: {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}.
                      Not streaming: OpenAI/compat like server_error, others like overloaded
"content chunk" = one text, refusal or tool-argument delta (Gemini: one response chunk).

Recorded entries (GET /_control/requests) also carry stream_requested (the request asked to stream) and stream
(the fake answered, began or faulted an SSE stream). For streams, ended says how the fake ended it: done,
no_done, error_event, cut, reset, stalled_client_closed / stalled_timeout / stalled_stopped,
silent_client_closed / silent_timeout / silent_stopped, client_closed (the client left mid-stream), stopped;
it is set before the last event is written, so a client that read the end finds it. sent_chunks counts the
content chunks sent; stalled_after_chunks is set when a stream_stall starts stalling (a barrier for tests).
For streams after slow or hold, ended is the stream's end (it replaces "answered" / "released").

Run as a script: ``python3 fake_providers.py --port 0`` prints ``PORT <n>`` as the
first stdout line and serves until SIGTERM/SIGINT.

Python API: ``start_fake_providers() -> FakeProviders`` (in-process, background
thread) and ``RemoteFakeProviders(port)`` (same API over the control routes).

The implementation lives in sibling modules (this file re-exports their names):
fakes_common (constants, helpers, error bodies, Reply, normalize_step), fakes_steps (step
parameter checks), fakes_state (FakeState), fakes_requests (auth + validation), fakes_bodies
(conversation counts, protocol errors), fakes_openai, fakes_anthropic, fakes_gemini (per-flavor
error kinds), fakes_errors (insufficient_quota, unsupported_parameter, reasoning_model,
reject_prefill), fakes_answers (answers and what requests carry), fakes_render (answers as JSON
bodies), fakes_sse (answers as SSE events, stream faults, framing), fakes_stream (streams on the
wire), fakes_dispatch (what each kind does), fakes_server (Handler, make_server) and
fakes_control (FakeProviders, RemoteFakeProviders). Test helpers: fakes_testlib, fakes_sselib.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fakes_answers import wants_stream  # noqa: E402,F401
from fakes_common import (  # noqa: E402,F401
    _GATEWAY_HTML,
    _GEMINI_ROUTE,
    _GEMINI_STREAM_ROUTE,
    _ROUTES,
    BASE_PATHS,
    DEFAULT_RETRY_AFTER_S,
    FLAVORS,
    HANG_LIMIT_S,
    KINDS,
    Reply,
    _anthropic_error,
    _fmt_seconds,
    _gemini_error,
    _json_bytes,
    _openai_error,
    _parts_text,
    _retry_after,
    _text_of,
    expected_reply,
    mask_key,
    normalize_step,
    reply_text,
    reply_usage,
    word_count,
)
from fakes_control import FakeProviders, RemoteFakeProviders, start_fake_providers  # noqa: E402,F401
from fakes_server import Handler, _Server, make_server  # noqa: E402,F401
from fakes_state import FakeState, _Script  # noqa: E402,F401


def main(argv=None):
    ap = argparse.ArgumentParser(description="Scriptable fake OpenAI/Anthropic/Gemini HTTP server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    fp = FakeProviders(args.host, args.port, args.verbose)
    sys.stdout.write(f"PORT {fp.port}\n")
    sys.stdout.flush()
    done = threading.Event()

    def _stop(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not done.wait(0.5):
        pass
    fp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
