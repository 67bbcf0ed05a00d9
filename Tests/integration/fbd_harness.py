"""Harness for fallbackd's integration tests: config writer, daemon process, raw JSON-RPC connection.

The code lives in sibling modules; this module re-exports every name so that
``import fbd_harness as H`` and ``from fbd_harness import ...`` keep working:

  fbd_config      paths, secrets, PoolModel/POOL/CHAINS, config_dict, to_toml
  fbd_helpers     short_tmpdir, wait_for, bounded, to_plain, result_dict, approx
  fbd_conn        Conn, ConnectionClosed, unread_bytes (raw JSON-RPC over the Unix socket)
  fbd_process     Daemon, DaemonError, daemon_env, run_check_config
  fbd_resilience  set_resilience, resilience, breaker_of, health_of, wait_breaker_state, ...
  fbd_cost        set_cost, compose, db_query, shadow_results, wait_count, flushed_rows, stop_settled, ...
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fbd_config import (  # noqa: E402,F401
    REPO_ROOT,
    FAKES_DIR,
    CLIENT_DIRS,
    OPENAI_KEY,
    ANTHROPIC_KEY,
    GEMINI_KEY,
    COMPAT_KEY,
    ALL_KEYS,
    KEY_ENV,
    ANTHROPIC_VERSION,
    PoolModel,
    POOL,
    CHAINS,
    config_dict,
    _BARE,
    _key,
    _val,
    to_toml,
)
from fbd_helpers import (  # noqa: E402,F401
    short_tmpdir,
    wait_for,
    bounded,
    to_plain,
    RESULT_FIELDS,
    result_dict,
    approx,
    usage,
)
from fbd_conn import (  # noqa: E402,F401
    ConnectionClosed,
    Conn,
    unread_bytes,
)
from fbd_process import (  # noqa: E402,F401
    DaemonError,
    Daemon,
    daemon_env,
    run_check_config,
)
from fbd_resilience import (  # noqa: E402,F401
    set_resilience,
    resilience,
    now_ms,
    complete_reply,
    complete_ok,
    breaker_of,
    health_of,
    route_entry,
    wait_breaker_state,
)
from fbd_cost import (  # noqa: E402,F401
    set_cost,
    compose,
    db_query,
    shadow_results,
    shadow_calls,
    wait_count,
    flushed_rows,
    stop_settled,
    rpc_error,
)
