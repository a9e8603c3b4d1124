"""The soak's load figures: the worker's HTTP answers while passes run (probe.py, a process of its
own), what-if requests at a fixed rate through its socket (`scripts/soak --what-if RATE`), and the
tick reflection they must not delay.

The requests come in alternating windows of `WINDOW_S` (the first without), so that ticks with and
without what-if load are compared within one run, on the same process, accounts and history. Half
of them are a valid 10-position account, half a junk body just under `max_request_bytes` (about
80,000 balances in currencies nobody knows) that the worker must refuse before any decoding.

Tick reflection: the time from producing a BTC market snapshot to the worker producing a result
computed on it (or on a later one), taken from the results' Kafka timestamps (the worker's producer
stamps them when it produces; the read_committed reader then sees them when the transaction
commits). Every tick moves BTC, and a tick that changes no BTC account's margin by more than the
publish threshold is reflected by the next result that is published: the share of ticks with a
result of their own is reported with the figures.
"""

import bisect
import collections
import json
import os
import signal
import subprocess
import sys
import threading

from .market import Market
from .procs import die_with_parent
from .watch import say

WINDOW_S = 30
MAX_REQUEST_BYTES = 1 << 20   # the worker's default max_request_bytes
PROBE_P99_LIMIT_MS = 50      # issue targets: /ready, /metrics, GET /v1/accounts/{id} during passes
WHAT_IF_P99_LIMIT_MS = 20     # issue targets: a 10-position what-if through the socket
REFLECTION_CHANGE_LIMIT = 0.20  # tick reflection p99 with what-if load vs without
JUDGED_TICKS = 200            # fewer ticks in a phase: reported, not judged


def percentiles(values):
    values = sorted(values)
    if not values:
        return {"n": 0}
    pick = lambda q: round(values[min(len(values) - 1, int(q * len(values)))], 2)  # noqa: E731
    return {"n": len(values), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": round(values[-1], 2)}


def valid_body():
    """A 10-position account: BTC options of both expiries around the money, the BTC and ETH
    perpetuals, USDC collateral."""
    positions = [{"instrument": "BTC-PERPETUAL", "quantity": 0.5, "average_entry_price": 60000},
                 {"instrument": "ETH-PERPETUAL", "quantity": -4, "average_entry_price": 3000}]
    for tag, strike, letter, quantity in (("N", 55000, "P", -1), ("N", 60000, "C", 1), ("N", 65000, "C", -1),
                                          ("L", 50000, "P", -2), ("L", 60000, "P", 1), ("L", 70000, "C", -1),
                                          ("N", 45000, "P", 2), ("L", 80000, "C", 1)):
        positions.append({"instrument": Market.option("BTC", tag, strike, letter), "quantity": quantity})
    return json.dumps({"account_id": "what-if-10", "version": "1", "balances": {"USDC": 100000},
                       "positions": positions}).encode()


def junk_body():
    """Balances in unknown currencies up to just under `max_request_bytes`."""
    parts, size, n = [], 40, 0
    while True:
        entry = f'"J{n:06d}":1'
        if size + len(entry) + 1 >= MAX_REQUEST_BYTES - 64:
            break
        parts.append(entry)
        size += len(entry) + 1
        n += 1
    return ('{"account_id":"junk","balances":{' + ",".join(parts) + "}}").encode()


def what_if_active(now, origin, rate):
    """Whether what-if load is on at `now` (time.monotonic()): every second window from `origin`."""
    return rate > 0 and int((now - origin) / WINDOW_S) % 2 == 1


def tick_phase(now, origin, rate):
    """How a tick at `now` is judged: "with" or "without" what-if load; None in the first 2 s of a
    window (its reflection may fall in the other)."""
    if rate > 0 and (now - origin) % WINDOW_S < 2:
        return None
    return "with" if what_if_active(now, origin, rate) else "without"


class ProbeRun:
    """The probe process (probe.py) of each worker life: started when the worker starts, stopped
    before it is stopped; `summary()` merges every life's records."""

    def __init__(self, workdir, account, what_if, origin):
        self.workdir, self.account, self.what_if, self.origin = workdir, account, what_if, origin
        self.proc, self.outputs = None, []

    def start(self, port):
        out = os.path.join(self.workdir, f"probes-{len(self.outputs) + 1}.json")
        self.outputs.append(out)
        self.proc = subprocess.Popen([sys.executable, "-m", "integrity.probe", "--port", str(port), "--account", self.account,
                                      "--out", out, "--what-if", str(self.what_if), "--origin", str(self.origin)],
                                     cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), preexec_fn=die_with_parent)

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.proc = None

    def summary(self, restarts=()):
        """Per kind: latency percentiles of the answers that served it (200; 400 for a junk
        what-if) and every status counted, outside `restarts` ((from, to) in time.monotonic(): a
        stopped or restoring worker, whose 503s and 429s are reported apart)."""
        answers = collections.defaultdict(list)
        for out in self.outputs:
            with open(out) as f:
                for name, records in json.load(f).items():
                    answers[name] += records
        summary = {}
        for name, records in sorted(answers.items()):
            steady, restarting = [], []
            for record in records:
                (restarting if any(a <= record[0] <= b for a, b in restarts) else steady).append(record)
            served = [ms for _, status, ms in steady if status == "200" or (name == "junk" and status == "400")]
            summary[name] = {**percentiles(served), "over_1s": sum(ms > 1000 for ms in served),
                             "statuses": dict(collections.Counter(status for _, status, _ in steady))}
            if restarting:
                summary[name]["statuses_restarting"] = dict(collections.Counter(status for _, status, _ in restarting))
        return summary


class Reflection:
    """Ticks produced (their BTC snapshot time, whether what-if load was on) and, from the results,
    the earliest Kafka timestamp of a result carrying each BTC snapshot time."""

    def __init__(self):
        self.ticks = []          # (BTC snapshot timestamp_ms, "with" | "without" | None: not judged)
        self.first_result = {}   # BTC snapshot timestamp_ms -> earliest result timestamp (ms)
        self.lock = threading.Lock()

    def tick(self, ts, phase):
        self.ticks.append((ts, phase))

    def result(self, btc_ts, produced_ms):
        with self.lock:
            if produced_ms > 0 and (btc_ts not in self.first_result or produced_ms < self.first_result[btc_ts]):
                self.first_result[btc_ts] = produced_ms

    def summary(self):
        with self.lock:
            keys = sorted(self.first_result)
            suffix, best = [0] * len(keys), float("inf")
            for i in range(len(keys) - 1, -1, -1):
                best = min(best, self.first_result[keys[i]])
                suffix[i] = best
            own = set(self.first_result)
        delays = collections.defaultdict(list)
        counts = collections.Counter()
        for ts, phase in self.ticks:
            if phase is None:
                continue
            i = bisect.bisect_left(keys, ts)
            if i == len(keys):
                counts[phase + "_unreflected"] += 1
                continue
            delays[phase].append(suffix[i] - ts)
            counts[phase + "_own_result"] += ts in own
        return {phase: {**percentiles(values), "own_result": counts[phase + "_own_result"],
                        "unreflected": counts[phase + "_unreflected"]} for phase, values in sorted(delays.items())}


def judge_load(soak):
    """The probes' latencies, the what-if answers and the tick reflection (compared with and
    without what-if load)."""
    answers = soak.probes.summary(soak.restarts)
    soak.figures["probes"] = answers
    for name, label in (("ready", "/ready"), ("metrics", "/metrics"), ("account", "GET /v1/accounts/{id}")):
        figures = answers.get(name, {})
        say(f"{label} probed every 100 ms from a process of its own: {figures}")
        soak.check(figures.get("p99_ms") is not None and figures["p99_ms"] <= PROBE_P99_LIMIT_MS,
                   f"{label} p99 {figures.get('p99_ms')} ms during passes (limit {PROBE_P99_LIMIT_MS} ms)")
    reflection = soak.reflection.summary()
    soak.figures["tick_reflection"] = reflection
    for phase, figures in reflection.items():
        say(f"tick reflection {phase} what-if load (BTC snapshot produced → first result on it produced): {figures}")
    if not soak.args.what_if:
        return
    valid, junk = answers.get("valid", {}), answers.get("junk", {})
    say(f"what-if answers: valid {valid}; junk {junk}")
    soak.check(valid.get("p99_ms") is not None and valid["p99_ms"] <= WHAT_IF_P99_LIMIT_MS,
               f"valid what-if (10 positions) p99 {valid.get('p99_ms')} ms (limit {WHAT_IF_P99_LIMIT_MS} ms), answers {valid.get('statuses')}")
    soak.check(set(junk.get("statuses", {})) <= {"400", "429"} and junk["statuses"].get("400", 0) > 0,
               f"junk what-if bodies ({len(junk_body()):,} bytes) refused: {junk.get('statuses')} (p99 {junk.get('p99_ms')} ms)")
    with_, without = reflection.get("with", {}), reflection.get("without", {})
    if min(with_.get("n", 0), without.get("n", 0)) < JUDGED_TICKS:
        say(f"note tick reflection with/without what-if load: under {JUDGED_TICKS} ticks in a phase, reported, not judged")
        return
    change = with_["p99_ms"] / without["p99_ms"] - 1
    soak.figures["tick_reflection_p99_change"] = round(change, 3)
    soak.check(change <= REFLECTION_CHANGE_LIMIT,
               f"tick reflection p99 {with_['p99_ms']} ms with what-if load vs {without['p99_ms']} ms without: "
               f"{change:+.0%} (limit {REFLECTION_CHANGE_LIMIT:+.0%})")
