"""Shared plumbing: the repository root, the run clock and its log, the scenario error, bounded waits."""

import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GLOBAL_BUDGET_S = 200.0  # waits end by T0 + this + 20 s (T0: the binary is available); then the final read and checks

T0 = time.monotonic()


def reset_clock():
    """T0 := now (once the binary is available): the log's times and the global wait budget count from here."""
    global T0
    T0 = time.monotonic()


def elapsed():
    return time.monotonic() - T0


def _print_sink(line):
    print(line, flush=True)


_sink = _print_sink


def set_log_sink(sink):
    """Where log lines go (conftest sends them past pytest's output capture, so progress shows live)."""
    global _sink
    _sink = sink or _print_sink


def log(text):
    _sink(f"[{time.monotonic() - T0:6.1f}s] {text}")


class ScenarioError(Exception):
    """The scenario could not be driven (not an assertion about the worker's outputs)."""


def wait_for(predicate, timeout, what, interval=0.2):
    """Polls `predicate` until it returns a truthy value or the deadline (bounded by the global one)."""
    deadline = min(time.monotonic() + timeout, T0 + GLOBAL_BUDGET_S + 20)
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except ScenarioError:
            raise
        except Exception as error:  # noqa: BLE001 - retried until the deadline
            last_error = error
        if time.monotonic() >= deadline:
            raise ScenarioError(f"timed out after {timeout:.0f}s waiting for {what}"
                                + (f" (last error: {last_error})" if last_error else ""))
        time.sleep(interval)


def wait_for_binary(path, timeout=600):
    """The lead may be relinking the binary: wait until it exists and has not changed for 3 s."""
    deadline = time.monotonic() + timeout
    stable_since, last = None, None
    announced = False
    while time.monotonic() < deadline:
        try:
            st = os.stat(path)
            sig = (st.st_size, st.st_mtime_ns)
            if os.access(path, os.X_OK) and sig == last:
                if time.monotonic() - stable_since >= 3:
                    return
            else:
                last, stable_since = sig, time.monotonic()
        except FileNotFoundError:
            last = None
        if not announced:
            log(f"waiting for {path} to exist and be stable")
            announced = True
        time.sleep(1)
    raise ScenarioError(f"{path} missing or still changing after {timeout}s")


def short(value, n=90):
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def count_by(items):
    out = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return dict(sorted(out.items()))
