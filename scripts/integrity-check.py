#!/usr/bin/env python3
"""End-to-end integrity check of `margin-engine run` with independent tooling only.

Inputs are encoded and outputs decoded with Python classes that `protoc --python_out` generates
from Schemas/margin/v1/*.proto at run time (into a temporary directory), and every Kafka record is
produced and consumed with confluent-kafka (PyPI). Nothing of this project's Swift code is used
except the binary under test (`dev-broker` and two `run` workers).

Scenario (seeded): instruments, market snapshots (BTC, ETH, USDC) and a few hundred accounts
(option spreads, short puts and strangles, perpetuals, linear and inverse, futures, USDC and coin
balances); two workers; a market crash; partial fills of some instructions (new account versions);
a rebound that makes some accounts recover (cancels); a SIGKILL of the worker owning accounts
partition 0; bad records (accounts, instruments, markets, params) produced while its partitions have
no owner; its restart with the same instance id; a second crash. Then every output topic is read from
the beginning (isolation.level=read_committed) and the check asserts:

  A. no id with two different contents: result_id, instruction (id, cancel), and every output's
     `message-id` header (results, instructions, dead letters);
  B. every bad record is dead-lettered (matched by dlq-source-topic/partition/offset, with its
     original key and bytes, and the documented reason where Schemas/README.md documents one);
  C. every account liquidatable in its latest result (LIQUIDATABLE or BANKRUPT; STALE is its own
     health) has an outstanding instruction for that account version (not cancelled, not
     superseded), or its `GET /v1/accounts/{id}` liquidation status (MarginResult.liquidation) is
     `waiting` with a documented reason (budget, no_depth, plan_error) and a detail;
  D. no NaN or infinity in any double of any output message (results, instructions: every field,
     found by walking the protobuf descriptors), in the liquidation-state JSON, or in any JSON answer
     fetched over HTTP (/ready, /health, /v1/accounts/{id} for every account).

plus contract checks the same data allows (documented in README.md / Schemas/README.md): every
output carries `content-type` and `message-id`; a result's `message-id` is its `result_id`; results
and instructions are on the account's partition; every valid account version yields a result with
that version and a refused one does not; at most one outstanding instruction per account; no
outstanding instruction on an account whose latest result is healthy; cancels and `supersedes`
name ids that were issued for the same account; only the records meant to be bad are dead-lettered;
accounts on a market-less underlying get error results (amounts 0) and valid ones never do; the
HTTP liquidation status agrees with the liquidations topic (no `pending` once outputs settled);
the current health over HTTP equals the latest published one; every account is held by exactly
one worker at the end; no worker dies except the one killed.

The second crash comes once the restarted worker owns its partitions again (--crash-during-rejoin:
as soon as it serves, during its rebalance). The SIGKILL is sent when the outputs are quiet: the
embedded broker's read_committed does not hide aborted records, so a transaction cut in the middle
would show records a real broker hides (and look like duplicates with other contents).

Usage: scripts/integrity-check [path/to/margin-engine]   (the wrapper installs the PyPI packages)
       python3 scripts/integrity-check.py --binary BIN [--seed N] [--accounts N] [--partitions N] [--keep]
Exit status: 0 all assertions hold; 1 an assertion failed; 2 the scenario could not be run.
"""

import argparse
import ctypes
import glob
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T0 = time.monotonic()

TOPICS = {
    "instruments": "margin.instruments.v1",
    "market": "margin.market.v1",
    "params": "margin.params.v1",
    "accounts": "margin.accounts.v1",
    "results": "margin.results.v1",
    "liquidations": "margin.liquidations.v1",
    "state": "margin.liquidation-state.v1",
    "deadletter": "margin.deadletter.v1",
}
OUTPUT_TOPICS = [TOPICS["results"], TOPICS["liquidations"], TOPICS["deadletter"], TOPICS["state"]]
DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
GLOBAL_BUDGET_S = 160.0  # waits end by T0 + this + 20 s (T0: the binary is available); then the final read and checks


def log(text):
    print(f"[{time.monotonic() - T0:6.1f}s] {text}", flush=True)


class ScenarioError(Exception):
    """The scenario could not be driven (not an assertion about the worker's outputs)."""


# ----------------------------------------------------------------------------- processes

PROCESSES = []  # every Popen this script started (killed by pid on exit)


try:
    _LIBC = ctypes.CDLL("libc.so.6", use_errno=True)  # loaded before any fork
except OSError:
    _LIBC = None


def _die_with_parent():
    # PR_SET_PDEATHSIG: a child started here gets SIGKILL if this script dies without cleaning up.
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)


def start_process(args, log_path):
    out = open(log_path, "ab")
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent, cwd=ROOT)
    out.close()
    PROCESSES.append(proc)
    return proc


def stop_all():
    """Workers first (they leave the group while the broker is up), the dev-broker last."""
    for proc in PROCESSES[1:]:
        _stop([proc])
    _stop(PROCESSES[:1])


def _stop(processes):
    for proc in processes:
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 8
    for proc in processes:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


# ----------------------------------------------------------------------------- HTTP

def http_get(port, path, timeout=3.0):
    """(status, body text) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def json_nonfinite(text):
    """Paths of non-finite numbers in a JSON text: bare NaN/Infinity tokens (invalid JSON) and the
    protobuf JSON mapping's "NaN"/"Infinity"/"-Infinity" strings."""
    bad = []

    def constant(name):
        bad.append(("<bare token>", name))
        return float("nan")

    value = json.loads(text, parse_constant=constant)

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        elif isinstance(node, float) and not math.isfinite(node):
            bad.append((path, node))
        elif isinstance(node, str) and node in ("NaN", "Infinity", "-Infinity"):
            bad.append((path, node))

    walk(value, "")
    return value, bad


# ----------------------------------------------------------------------------- protobuf

def generate_classes(workdir):
    out = os.path.join(workdir, "gen")
    os.makedirs(out)
    protos = sorted(glob.glob(os.path.join(ROOT, "Schemas", "margin", "v1", "*.proto")))
    if not protos:
        raise ScenarioError("no Schemas/margin/v1/*.proto")
    subprocess.run(["protoc", f"--python_out={out}", "-I", os.path.join(ROOT, "Schemas")] + protos,
                   check=True, timeout=60)
    sys.path.insert(0, out)
    global account_pb2, market_pb2, params_pb2, result_pb2, FD, json_format
    from margin.v1 import account_pb2, market_pb2, params_pb2, result_pb2  # noqa: F401
    from google.protobuf.descriptor import FieldDescriptor as FD  # noqa: N811
    from google.protobuf import json_format


def nonfinite_fields(message, path=""):
    """Every non-finite double/float in `message`, found by walking its descriptor."""
    found = []
    for fd, value in message.ListFields():
        p = f"{path}.{fd.name}" if path else fd.name
        if fd.type == FD.TYPE_MESSAGE:
            if fd.message_type.GetOptions().map_entry:
                vfd = fd.message_type.fields_by_name["value"]
                for k, v in value.items():
                    if vfd.type == FD.TYPE_MESSAGE:
                        found += nonfinite_fields(v, f"{p}[{k}]")
                    elif vfd.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT) and not math.isfinite(v):
                        found.append((f"{p}[{k}]", v))
            elif fd.label == FD.LABEL_REPEATED:
                for i, v in enumerate(value):
                    found += nonfinite_fields(v, f"{p}[{i}]")
            else:
                found += nonfinite_fields(value, p)
        elif fd.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
            values = list(value) if fd.label == FD.LABEL_REPEATED else [value]
            for i, v in enumerate(values):
                if not math.isfinite(v):
                    found.append((f"{p}[{i}]" if fd.label == FD.LABEL_REPEATED else p, v))
    return found


def plain(message):
    """A comparable plain form of a message: proto3 implicit-presence zeros dropped (so 0.0 and
    -0.0 compare equal, as they must for an unset double), map entries as dicts."""
    out = {}
    for fd, value in message.ListFields():
        if fd.type == FD.TYPE_MESSAGE:
            if fd.message_type.GetOptions().map_entry:
                vfd = fd.message_type.fields_by_name["value"]
                out[fd.name] = {k: (plain(v) if vfd.type == FD.TYPE_MESSAGE else v) for k, v in value.items()}
            elif fd.label == FD.LABEL_REPEATED:
                out[fd.name] = [plain(v) for v in value]
            else:
                out[fd.name] = plain(value)
        elif fd.label == FD.LABEL_REPEATED:
            out[fd.name] = list(value)
        else:
            if not fd.has_presence and value in (0, "", False, b""):
                continue
            out[fd.name] = value
    return out


def diff_paths(a, b, path="", limit=8):
    """Where two plain forms differ (for evidence)."""
    found = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if len(found) >= limit:
                break
            if k not in a or k not in b:
                found.append(f"{path}.{k}: {short(a.get(k, '<absent>'))} vs {short(b.get(k, '<absent>'))}")
            elif a[k] != b[k]:
                found += diff_paths(a[k], b[k], f"{path}.{k}", limit - len(found))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if len(found) >= limit:
                break
            if x != y:
                found += diff_paths(x, y, f"{path}[{i}]", limit - len(found))
    else:
        found.append(f"{path or '.'}: {short(a)} vs {short(b)}")
    return found


def short(value, n=90):
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


# ----------------------------------------------------------------------------- Kafka placement

def murmur2(data):
    """Kafka's Java murmur2 (the default partitioner): partition = (h & 0x7fffffff) % n."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(length // 4):
        k = int.from_bytes(data[4 * i: 4 * i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest, idx = length % 4, length & ~3
    if rest == 3:
        h ^= data[idx + 2] << 16
    if rest >= 2:
        h ^= data[idx + 1] << 8
    if rest >= 1:
        h ^= data[idx]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def partition_of(key, partitions):
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


class Producer:
    """confluent-kafka producer (murmur2_random = Java placement) that remembers where each record went."""

    def __init__(self, brokers):
        from confluent_kafka import Producer as KProducer
        self.producer = KProducer({"bootstrap.servers": brokers, "partitioner": "murmur2_random",
                                   "linger.ms": 5, "acks": "all", "message.timeout.ms": 30000})
        self.records = []

    def send(self, topic, key, value, headers=None, partition=None, meta=None):
        record = {"topic": topic, "key": key, "value": value, "headers": headers or [], "partition": None,
                  "offset": None, "error": None, "meta": meta or {}}

        def delivered(err, msg):
            if err is not None:
                record["error"] = str(err)
            else:
                record["partition"], record["offset"] = msg.partition(), msg.offset()

        kwargs = {"topic": topic, "value": value, "on_delivery": delivered}
        if key is not None:
            kwargs["key"] = key.encode() if isinstance(key, str) else key
        if headers:
            kwargs["headers"] = headers
        if partition is not None:
            kwargs["partition"] = partition
        self.producer.produce(**kwargs)
        self.records.append(record)
        self.producer.poll(0)
        return record

    def flush(self, timeout=30):
        remaining = self.producer.flush(timeout)
        undelivered = [r for r in self.records if r["offset"] is None]
        if remaining or undelivered:
            errors = {r["error"] for r in undelivered}
            raise ScenarioError(f"{len(undelivered)} record(s) not delivered: {errors}")


def consumer_config(brokers, name):
    return {"bootstrap.servers": brokers, "group.id": f"integrity-check-{name}-{os.getpid()}",
            "enable.auto.commit": False, "isolation.level": "read_committed",
            "enable.partition.eof": True, "auto.offset.reset": "earliest", "session.timeout.ms": 6000}


def read_all(brokers, topics, timeout=30.0):
    """Every record of `topics` from the beginning up to the end seen now (read_committed)."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition, OFFSET_BEGINNING
    consumer = Consumer(consumer_config(brokers, "final"))
    try:
        metadata = consumer.list_topics(timeout=10)
        targets, assignment, low_moved = {}, [], []
        for topic in topics:
            if topic not in metadata.topics:
                raise ScenarioError(f"topic {topic} does not exist")
            for p in sorted(metadata.topics[topic].partitions):
                lo, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
                targets[(topic, p)] = hi
                if lo > 0:
                    low_moved.append((topic, p, lo))
                assignment.append(TopicPartition(topic, p, OFFSET_BEGINNING))
        consumer.assign(assignment)
        done = {tp for tp, hi in targets.items() if hi == 0}
        eof_below = {}
        records = {topic: [] for topic in topics}
        deadline = time.monotonic() + timeout
        while len(done) < len(targets):
            if time.monotonic() > deadline:
                missing = {tp: targets[tp] for tp in targets if tp not in done}
                if all(tp in eof_below for tp in missing):
                    break  # at the last stable offset: the rest is an open transaction
                raise ScenarioError(f"final read did not reach the end of {missing}")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            tp = (msg.topic(), msg.partition())
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    if msg.offset() >= targets[tp]:
                        done.add(tp)
                    else:
                        eof_below[tp] = msg.offset()
                    continue
                raise ScenarioError(f"consumer error: {msg.error()}")
            records[msg.topic()].append(to_record(msg))
            if msg.offset() >= targets[tp] - 1:
                done.add(tp)
        return records, low_moved, eof_below
    finally:
        consumer.close()


def to_record(msg):
    headers = {}
    for name, value in msg.headers() or []:
        headers.setdefault(name, []).append(value.decode("utf-8", "replace") if value is not None else None)
    return {"topic": msg.topic(), "partition": msg.partition(), "offset": msg.offset(),
            "key": msg.key().decode("utf-8", "replace") if msg.key() is not None else None,
            "key_bytes": msg.key(), "value": msg.value(), "headers": headers,
            "timestamp_ms": msg.timestamp()[1]}


class LiveReader(threading.Thread):
    """Follows the output topics while the scenario runs, so that each phase can poll for what it
    waits for (results, instructions, cancels, quiet outputs) instead of sleeping."""

    def __init__(self, brokers):
        super().__init__(daemon=True)
        from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
        self.consumer = Consumer(consumer_config(brokers, "live"))
        metadata = self.consumer.list_topics(timeout=10)
        self.consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING)
                              for t in OUTPUT_TOPICS for p in metadata.topics[t].partitions])
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.last_record = time.monotonic()
        self.results = {}        # account -> list of (version, health)
        self.instructions = []   # decoded LiquidationInstruction
        self.dead_letters = 0
        self.count = 0
        self.error = None

    def run(self):
        try:
            while not self.stop_event.is_set():
                msg = self.consumer.poll(0.2)
                if msg is None or msg.error():
                    continue
                with self.lock:
                    self.last_record = time.monotonic()
                    self.count += 1
                    if msg.value() is None:
                        continue
                    if msg.topic() == TOPICS["results"]:
                        r = decode(result_pb2.MarginResult, msg.value(), content_type(msg))
                        if r is not None:
                            self.results.setdefault(r.account_id, []).append((r.account_version, r.health))
                    elif msg.topic() == TOPICS["liquidations"]:
                        i = decode(result_pb2.LiquidationInstruction, msg.value(), content_type(msg))
                        if i is not None:
                            self.instructions.append(i)
                    elif msg.topic() == TOPICS["deadletter"]:
                        self.dead_letters += 1
        except Exception as error:  # noqa: BLE001
            self.error = error
        finally:
            self.consumer.close()

    def quiet_for(self):
        with self.lock:
            return time.monotonic() - self.last_record

    def stop(self):
        self.stop_event.set()
        self.join(timeout=10)


def content_type(msg):
    for name, value in msg.headers() or []:
        if name == "content-type" and value is not None:
            return value.decode()
    return "application/x-protobuf"


def decode(cls, value, ctype):
    try:
        if ctype == "application/json":
            return json_format.Parse(value.decode(), cls(), ignore_unknown_fields=True)
        message = cls()
        message.ParseFromString(value)
        return message
    except Exception:  # noqa: BLE001
        return None


# ----------------------------------------------------------------------------- the market

class Market:
    """Seeded instruments and snapshots of BTC and ETH (and USDC, index only)."""

    def __init__(self, now_ms):
        base = now_ms - now_ms % 3_600_000
        self.expiries = [base + 14 * DAY_MS + 8 * 3_600_000, base + 45 * DAY_MS + 8 * 3_600_000]
        self.spec = {
            "BTC": {"spot": 60000.0, "strikes": [40000 + 2500 * i for i in range(17)], "lot": 0.1, "tick": 0.5,
                    "perp_lot": 0.001, "levels": [2.0, 3.0, 5.0, 8.0], "oi": 40000.0, "vol24h": 60000.0},
            "ETH": {"spot": 3000.0, "strikes": [2000 + 200 * i for i in range(11)], "lot": 1.0, "tick": 0.1,
                    "perp_lot": 0.01, "levels": [30.0, 50.0, 80.0, 120.0], "oi": 400000.0, "vol24h": 900000.0},
        }
        self.instruments = []
        for u in ("BTC", "ETH", "USDC"):
            self.instruments.append(market_pb2.Instrument(name=u, underlying=u, kind=market_pb2.INSTRUMENT_KIND_SPOT))
        for u, s in self.spec.items():
            self.instruments.append(market_pb2.Instrument(
                name=f"{u}-PERPETUAL", underlying=u, kind=market_pb2.INSTRUMENT_KIND_PERPETUAL,
                settlement=market_pb2.SETTLEMENT_LINEAR, contract_size=1, lot_size=s["perp_lot"], tick_size=s["tick"]))
            self.instruments.append(market_pb2.Instrument(
                name=f"{u}-FUT-L", underlying=u, kind=market_pb2.INSTRUMENT_KIND_FUTURE,
                settlement=market_pb2.SETTLEMENT_LINEAR, contract_size=1, lot_size=s["perp_lot"], tick_size=s["tick"],
                expiry_ms=self.expiries[1]))
            for e, tag in zip(self.expiries, ("N", "L")):
                for k in s["strikes"]:
                    for right, letter in ((market_pb2.OPTION_RIGHT_CALL, "C"), (market_pb2.OPTION_RIGHT_PUT, "P")):
                        self.instruments.append(market_pb2.Instrument(
                            name=self.option(u, tag, k, letter), underlying=u, kind=market_pb2.INSTRUMENT_KIND_OPTION,
                            settlement=market_pb2.SETTLEMENT_LINEAR, contract_size=1, lot_size=s["lot"],
                            tick_size=s["tick"], expiry_ms=e, strike=k, option_right=right))
        # An inverse perpetual, USD 10 face per contract (PnL in BTC).
        self.instruments.append(market_pb2.Instrument(
            name="BTC-PERP-INV", underlying="BTC", kind=market_pb2.INSTRUMENT_KIND_PERPETUAL,
            settlement=market_pb2.SETTLEMENT_INVERSE, contract_size=10, lot_size=1, tick_size=0.5))
        # A perpetual whose market never comes: accounts holding it cannot be margined (error results).
        self.instruments.append(market_pb2.Instrument(
            name="SOL-PERPETUAL", underlying="SOL", kind=market_pb2.INSTRUMENT_KIND_PERPETUAL,
            settlement=market_pb2.SETTLEMENT_LINEAR, contract_size=1, lot_size=0.1, tick_size=0.01))
        self.names = {i.name for i in self.instruments}

    @staticmethod
    def option(u, tag, strike, letter):
        return f"{u}-{tag}-{int(strike)}-{letter}"

    def snapshot(self, u, ts, move, vol, rho):
        """Full snapshot of `u` at `move` x its opening spot, ATM vol `vol`, skew `rho`."""
        if u == "USDC":
            return market_pb2.MarketSnapshot(underlying="USDC", timestamp_ms=ts, index_price=1.0)
        s = self.spec[u]
        spot = s["spot"] * move
        tick = s["tick"]
        snap = market_pb2.MarketSnapshot(underlying=u, timestamp_ms=ts, index_price=spot)
        snap.perpetual_mark = round(spot * 1.0002 / tick) * tick
        forwards = {}
        for e in self.expiries:
            t = (e - ts) / YEAR_MS
            f = spot * math.exp(0.03 * t)
            forwards[e] = f
            b, sigma = 0.25 * t, 0.1
            a = vol * vol * t - b * sigma
            snap.expiries.add(expiry_ms=e, forward=f, rate=0.0,
                              svi=market_pb2.SviParameters(a=a, b=b, rho=rho, m=0.0, sigma=sigma))
        # Thin books on the near expiry's options (the far expiry has none: the no-book rules).
        e = self.expiries[0]
        x = snap.expiries[0]
        for k in s["strikes"]:
            for letter in ("C", "P"):
                w = svi_variance(x.svi, math.log(k / x.forward))
                value = black76(x.forward, k, w, letter == "C")
                bid = math.floor(value * 0.97 / tick) * tick
                ask = math.ceil(max(value * 1.03, value + tick) / tick) * tick
                if bid < tick:
                    continue
                book = snap.books.add(instrument=self.option(u, "N", k, letter), volume_24h=s["levels"][0] * 20,
                                      open_interest=s["levels"][0] * 200)
                for i, size in enumerate((0.5, 1.0, 2.0)):
                    if bid - i * tick * 4 >= tick:
                        book.bids.add(price=bid - i * tick * 4, size=size * s["levels"][0] / 2)
                    book.asks.add(price=ask + i * tick * 4, size=size * s["levels"][0] / 2)
                book.bid_price, book.bid_size = book.bids[0].price, book.bids[0].size
                book.ask_price, book.ask_size = book.asks[0].price, book.asks[0].size
        for name, mid in ((f"{u}-PERPETUAL", snap.perpetual_mark), (f"{u}-FUT-L", forwards[self.expiries[1]]),
                          ("BTC-PERP-INV", snap.perpetual_mark)):
            if name == "BTC-PERP-INV" and u != "BTC":
                continue
            # Inverse contracts are USD 10 each: ten times more of them per BTC of depth.
            scale = 6000.0 if name == "BTC-PERP-INV" else 1.0
            step = max(tick, round(mid * 0.0005 / tick) * tick)
            best_bid = math.floor((mid - tick) / tick) * tick
            best_ask = math.ceil((mid + tick) / tick) * tick
            book = snap.books.add(instrument=name, volume_24h=s["vol24h"] * scale, open_interest=s["oi"] * scale)
            for i, size in enumerate(s["levels"]):
                book.bids.add(price=best_bid - i * step, size=size * scale)
                book.asks.add(price=best_ask + i * step, size=size * scale)
            book.bid_price, book.bid_size = book.bids[0].price, book.bids[0].size
            book.ask_price, book.ask_size = book.asks[0].price, book.asks[0].size
        return snap


def svi_variance(svi, k):
    return svi.a + svi.b * (svi.rho * (k - svi.m) + math.sqrt((k - svi.m) ** 2 + svi.sigma ** 2))


def black76(forward, strike, total_variance, call):
    """Undiscounted Black-76 value per unit (rate 0), for the option books' mids."""
    v = math.sqrt(max(total_variance, 1e-12))
    d1 = (math.log(forward / strike) + v * v / 2) / v
    n = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731
    if call:
        return forward * n(d1) - strike * n(d1 - v)
    return strike * n(v - d1) - forward * n(-d1)


# ----------------------------------------------------------------------------- accounts

def lot(x, size):
    return round(max(size, round(x / size) * size), 8)


def generate_accounts(rng, market, count):
    """Seeded accounts; each kind below is meant to react to the crash and the rebound differently."""
    kinds = [("perp_long", 20), ("perp_short", 8), ("future_long", 9), ("bull_call", 8), ("short_put", 16),
             ("put_spread", 10), ("strangle", 6), ("eth_mix", 10), ("inverse_perp", 6), ("cash", 7)]
    total = sum(w for _, w in kinds)
    btc, eth = market.spec["BTC"], market.spec["ETH"]
    accounts = []

    def nearest(strikes, x):
        return min(strikes, key=lambda k: abs(k - x))

    for n in range(count):
        account_id = f"acct-{n:04d}" if n != 7 else "acct x/7"  # one id that needs percent-encoding
        pick = rng.uniform(0, total)
        for kind, w in kinds:
            pick -= w
            if pick <= 0:
                break
        notional = min(2_000_000.0, 5000.0 * (1.0 / (1.0 - rng.random())) ** (1 / 1.4))
        state = account_pb2.AccountState(account_id=account_id, version=1, updated_at_ms=int(time.time() * 1000))
        tag = rng.choice(("N", "L"))
        S = btc["spot"]
        if kind in ("perp_long", "perp_short", "future_long"):
            q = lot(notional / S, btc["perp_lot"]) * (-1 if kind == "perp_short" else 1)
            name = "BTC-FUT-L" if kind == "future_long" else "BTC-PERPETUAL"
            ref = S * (1.01 if kind == "future_long" else 1.0)
            state.positions.add(instrument=name, quantity=q, average_entry_price=round(ref * rng.uniform(0.98, 1.02) * 2) / 2,
                                unsettled_funding=round(rng.uniform(-20, 20), 2) if name == "BTC-PERPETUAL" else 0.0)
            # deribit-like's +500 % extended move (dampened by 0.33) margins shorts at ~1.3x notional.
            collateral = rng.uniform(1.4, 2.2) if q < 0 else rng.uniform(0.2, 0.6)
            state.balances["USDC"] = round(collateral * notional, 2)
        elif kind == "bull_call":
            k1 = nearest(btc["strikes"], S * rng.uniform(0.92, 1.02))
            q = lot(notional / S, btc["lot"])
            state.positions.add(instrument=market.option("BTC", tag, k1, "C"), quantity=q)
            state.positions.add(instrument=market.option("BTC", tag, k1 + 5000, "C"), quantity=-q)
            state.balances["USDC"] = round(rng.uniform(0.03, 0.3) * notional, 2)
        elif kind == "short_put":
            k = nearest(btc["strikes"], S * rng.uniform(0.8, 0.97))
            q = lot(notional / S, btc["lot"])
            state.positions.add(instrument=market.option("BTC", tag, k, "P"), quantity=-q)
            state.balances["USDC"] = round(rng.uniform(0.25, 0.6) * k * q, 2)
        elif kind == "put_spread":
            k2 = nearest(btc["strikes"], S * rng.uniform(0.9, 1.0))
            q = lot(notional / S, btc["lot"])
            state.positions.add(instrument=market.option("BTC", tag, k2, "P"), quantity=-q)
            state.positions.add(instrument=market.option("BTC", tag, k2 - 10000, "P"), quantity=q)
            state.balances["USDC"] = round(rng.uniform(0.4, 1.2) * 10000 * q, 2)
        elif kind == "strangle":
            q = lot(notional / S, btc["lot"])
            state.positions.add(instrument=market.option("BTC", tag, nearest(btc["strikes"], S * 1.12), "C"), quantity=-q)
            state.positions.add(instrument=market.option("BTC", tag, nearest(btc["strikes"], S * 0.88), "P"), quantity=-q)
            state.balances["USDC"] = round(rng.uniform(1.5, 2.2) * S * q, 2)
        elif kind == "eth_mix":
            E = eth["spot"]
            q = lot(notional / E, eth["perp_lot"])
            state.positions.add(instrument="ETH-PERPETUAL", quantity=q, average_entry_price=round(E * rng.uniform(0.98, 1.02), 1))
            k = nearest(eth["strikes"], E * rng.uniform(0.85, 0.97))
            state.positions.add(instrument=market.option("ETH", tag, k, "P"), quantity=-lot(0.5 * q, eth["lot"]))
            state.balances["USDC"] = round(rng.uniform(0.2, 0.6) * notional, 2)
        elif kind == "inverse_perp":
            contracts = lot(notional / 10, 1)
            state.positions.add(instrument="BTC-PERP-INV", quantity=contracts, average_entry_price=round(S * rng.uniform(0.98, 1.02) * 2) / 2)
            state.balances["BTC"] = round(rng.uniform(0.25, 0.7) * notional / S, 6)
        else:  # cash
            state.balances["USDC"] = round(rng.uniform(1000, 1e6), 2)
            if rng.random() < 0.5:
                state.balances["BTC"] = round(rng.uniform(0.1, 10), 6)
        if kind not in ("cash", "inverse_perp") and rng.random() < 0.15:
            state.balances["BTC"] = round(rng.uniform(0.01, 0.1) * notional / S, 6)  # coin collateral too
        accounts.append((kind, state))
    return accounts


def apply_first_leg(state, instruction, market):
    """The account's next version after its first leg filled at the limit price (a venue's view,
    roughly: realised PnL and premium to USDC, the expected cost paid)."""
    new = account_pb2.AccountState()
    new.CopyFrom(state)
    new.version = state.version + 1
    new.updated_at_ms = int(time.time() * 1000)
    leg = instruction.legs[0]
    sign = -1 if leg.side == result_pb2.SIDE_SELL else 1
    instruments = {i.name: i for i in market.instruments}
    for p in new.positions:
        if p.instrument != leg.instrument:
            continue
        closed = min(abs(p.quantity), leg.quantity)
        inst = instruments[p.instrument]
        cash = 0.0
        if inst.kind == market_pb2.INSTRUMENT_KIND_OPTION:
            cash = -sign * closed * leg.limit_price * (inst.contract_size or 1)
        elif inst.settlement != market_pb2.SETTLEMENT_INVERSE:
            cash = (leg.limit_price - p.average_entry_price) * closed * (1 if p.quantity > 0 else -1)
        p.quantity += sign * closed
        if inst.settlement == market_pb2.SETTLEMENT_INVERSE and inst.kind != market_pb2.INSTRUMENT_KIND_OPTION:
            pnl_coins = (inst.contract_size or 1) * closed * (1 / p.average_entry_price - 1 / leg.limit_price)
            new.balances["BTC"] = new.balances["BTC"] + pnl_coins
        else:
            new.balances["USDC"] = round(new.balances["USDC"] + cash - leg.expected_cost, 2)
        break
    kept = [p for p in new.positions if abs(p.quantity) > 1e-12]
    del new.positions[:]
    new.positions.extend(kept)
    return new


# ----------------------------------------------------------------------------- the run

class Worker:
    def __init__(self, binary, brokers, instance, workdir, extra):
        self.binary, self.brokers, self.instance, self.workdir, self.extra = binary, brokers, instance, workdir, extra
        self.proc, self.port, self.starts = None, None, 0
        self.killed = False

    def start(self):
        self.port = free_port()
        self.starts += 1
        self.killed = False
        args = [self.binary, "run", "--brokers", self.brokers, "--instance-id", self.instance,
                "--http-port", str(self.port), "--log-level", "notice"]
        for setting in self.extra:
            args += ["--set", setting]
        self.log_path = os.path.join(self.workdir, f"{self.instance}.log")
        with open(self.log_path, "ab") as f:
            f.write(f"\n===== start {self.starts}: {' '.join(args)}\n".encode())
        self.proc = start_process(args, self.log_path)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ready(self):
        """(ready, shards, restored_shards) from /ready; ScenarioError if the process died."""
        if not self.alive():
            raise ScenarioError(f"worker {self.instance} exited with {self.proc.returncode}; log: {self.log_path}\n"
                                + tail(self.log_path))
        status, body = http_get(self.port, "/ready", timeout=3)
        data = json.loads(body)
        return bool(data.get("ready")), set(data.get("shards", [])), set(data.get("restored_shards", []))

    def sigkill(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.killed = True


def tail(path, lines=25):
    try:
        with open(path, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return ""


def all_partitions_owned(workers, partitions):
    states = [w.ready() for w in workers]
    union = set()
    for ready, shards, restored in states:
        # Every member gets a share once the group has settled (a worker that has just joined holds none).
        if not ready or shards != restored or union & shards or (not shards and partitions >= len(workers)):
            return False
        union |= shards
    return union == set(range(partitions))


class Run:
    def __init__(self, args, workdir):
        self.args, self.workdir = args, workdir
        self.rng = random.Random(args.seed)
        self.partitions = args.partitions
        self.phase_times = []
        self.phase_wall = []
        self.dump = {}
        self.evidence = {}
        self.soft_failures = []  # waits that timed out without stopping the scenario

    def soft_wait(self, predicate, timeout, what):
        try:
            wait_for(predicate, timeout, what)
        except ScenarioError as error:
            log(f"  {error}; continuing")
            self.soft_failures.append(str(error))

    def phase(self, name):
        self.phase_times.append((name, time.monotonic() - T0))
        self.phase_wall.append((name, int(time.time() * 1000)))
        log(name)

    def wait_quiet(self, what, quiet=3.0, timeout=45.0, extra=None):
        def settled():
            if self.reader.error:
                raise ScenarioError(f"live reader failed: {self.reader.error}")
            if self.reader.quiet_for() < quiet:
                return False
            if extra is not None and not extra():
                return False
            return all_partitions_owned([w for w in self.workers if w.alive()], self.partitions)
        try:
            wait_for(settled, timeout, what, interval=0.25)
        except ScenarioError as error:
            if "exited" in str(error):
                raise
            log(f"  {error}; continuing")
            self.soft_failures.append(str(error))

    def drive(self):
        args = self.args
        self.phase("start dev-broker")
        bootstrap = os.path.join(self.workdir, "bootstrap")
        self.broker = start_process([args.binary, "dev-broker", "--brokers", "1", "--partitions", str(self.partitions),
                                     "--bootstrap-file", bootstrap], os.path.join(self.workdir, "broker.log"))

        def bootstrap_ready():
            if self.broker.poll() is not None:
                raise ScenarioError(f"dev-broker exited with {self.broker.returncode}:\n"
                                    + tail(os.path.join(self.workdir, "broker.log")))
            return os.path.exists(bootstrap) and open(bootstrap).read().strip()
        self.brokers = wait_for(bootstrap_ready, 30, "the dev-broker's bootstrap file")
        self.producer = Producer(self.brokers)

        now = int(time.time() * 1000)
        self.market = Market(now)
        self.phase(f"produce {len(self.market.instruments)} instruments, markets and {args.accounts} accounts")
        for inst in self.market.instruments:
            self.producer.send(TOPICS["instruments"], inst.name, inst.SerializeToString())
        self.publish_market(move_btc=1.0, move_eth=1.0, vol=0.6, rho=-0.25)
        self.accounts = {}      # id -> latest valid state produced
        self.kinds = {}
        self.valid_versions = {}  # id -> set of versions produced as valid states
        for kind, state in generate_accounts(self.rng, self.market, args.accounts):
            self.send_account(state)
            self.kinds[state.account_id] = kind
        # Accounts that cannot be margined (SOL has neither a market nor risk parameters): an error
        # result each (`missing_market` or `missing_parameters`, amounts 0); a restart re-margins
        # them on the new owner.
        self.error_accounts = {}
        for n in range(4):
            state = account_pb2.AccountState(account_id=f"acct-nomarket-{n}", version=1, balances={"USDC": 10000.0 + n})
            state.positions.add(instrument="SOL-PERPETUAL", quantity=10, average_entry_price=150)
            self.send_account(state)
            self.kinds[state.account_id] = "no_market"
            self.error_accounts[state.account_id] = ("missing_market", "missing_parameters")
        self.producer.flush()
        self.check_placement()

        self.reader = LiveReader(self.brokers)
        self.reader.start()
        settings = ["session_timeout_ms=4000", "stale_after_ms=900000"]
        self.workers = [Worker(args.binary, self.brokers, f"integrity-{n}", self.workdir, settings) for n in (1, 2)]
        self.phase("start two workers")
        for w in self.workers:
            w.start()
        wait_for(lambda: all_partitions_owned(self.workers, self.partitions), 90,
                 "both workers ready with every accounts partition restored")
        self.soft_wait(self.all_versions_resulted, 90, "a result for every account")
        self.wait_quiet("the first results to settle")
        self.health_snapshot("opening")

        self.phase("crash 1: BTC -30 %, ETH -22 %, vol up")
        first_crash_count = len(self.reader.instructions)
        self.publish_market(move_btc=0.70, move_eth=0.78, vol=0.95, rho=-0.55)
        self.producer.flush()
        self.soft_wait(lambda: len(self.reader.instructions) > first_crash_count, 60, "instructions after the crash")
        self.wait_quiet("outputs to settle after the crash")
        self.health_snapshot("after crash 1")

        self.phase("partial fills: new versions of instructed accounts")
        fills = self.produce_fills(limit=10)
        self.producer.flush()
        self.soft_wait(lambda: all(self.has_result(a, v) for a, v in fills), 45, "results for the filled versions")
        self.wait_quiet("outputs to settle after the fills")

        self.phase("rebound: BTC back to -10 %, ETH -8 %")
        cancels_before = sum(1 for i in self.reader.instructions if i.cancel)
        self.publish_market(move_btc=0.90, move_eth=0.92, vol=0.7, rho=-0.35)
        self.producer.flush()
        self.soft_wait(lambda: sum(1 for i in self.reader.instructions if i.cancel) > cancels_before, 60,
                       "a cancel after the rebound")
        self.wait_quiet("outputs to settle after the rebound")
        self.health_snapshot("after rebound")

        # Kill the owner of accounts partition 0 (it also publishes reference dead letters).
        states = {w.instance: w.ready() for w in self.workers}
        victim = next(w for w in self.workers if 0 in states[w.instance][1])
        survivor = next(w for w in self.workers if w is not victim)
        orphaned = sorted(states[victim.instance][1])
        self.phase(f"SIGKILL {victim.instance} (pid {victim.proc.pid}, partitions {orphaned})")
        self.kill_time_ms = int(time.time() * 1000)
        victim.sigkill()
        survivor_before = survivor.ready()[1]
        self.bad = self.produce_bad_records(orphaned)
        self.producer.flush()
        survivor_after = survivor.ready()[1]
        self.evidence["no_owner"] = {"orphaned": orphaned, "survivor_shards_before": sorted(survivor_before),
                                     "survivor_shards_after_bad_records": sorted(survivor_after)}
        self.no_owner_ok = not (set(orphaned) & (survivor_before | survivor_after))
        log(f"  {len(self.bad)} bad records produced; survivor held {sorted(survivor_after)} meanwhile")
        wait_for(lambda: all_partitions_owned([survivor], self.partitions), 60,
                 f"{survivor.instance} to own and restore every partition")

        self.phase(f"restart {victim.instance}")
        victim.start()
        if self.args.crash_during_rejoin:
            # Harsher variant: the second crash lands while the restarted worker joins the group.
            wait_for(lambda: victim.ready()[0], 60, f"{victim.instance} to serve (reference data restored)")
        else:
            wait_for(lambda: all_partitions_owned(self.workers, self.partitions), 90,
                     "both workers ready again with every partition restored")
            self.wait_quiet("outputs to settle after the restart")

        self.phase("crash 2: BTC -35 %, ETH -30 %, vol up")
        before = len(self.reader.instructions)
        self.publish_market(move_btc=0.65, move_eth=0.70, vol=1.0, rho=-0.6)
        self.producer.flush()
        self.soft_wait(lambda: len(self.reader.instructions) > before, 60, "instructions after the second crash")
        self.wait_quiet("outputs to settle after the second crash", quiet=4.0, timeout=60)
        self.settle_pending()
        self.health_snapshot("after crash 2")
        self.reader.stop()

    # --- inputs

    def publish_market(self, move_btc, move_eth, vol, rho):
        ts = int(time.time() * 1000)
        for u, move in (("BTC", move_btc), ("ETH", move_eth), ("USDC", 1.0)):
            snap = self.market.snapshot(u, ts, move, vol, rho)
            self.producer.send(TOPICS["market"], u, snap.SerializeToString())
        self.market_ts = ts

    def send_account(self, state):
        record = self.producer.send(TOPICS["accounts"], state.account_id, state.SerializeToString(),
                                    meta={"account": state.account_id, "version": state.version})
        self.accounts[state.account_id] = state
        self.valid_versions.setdefault(state.account_id, set()).add(state.version)
        return record

    def check_placement(self):
        for r in self.producer.records:
            if r["topic"] == TOPICS["accounts"] and r["key"] is not None:
                expected = partition_of(r["key"], self.partitions)
                if r["partition"] != expected:
                    raise ScenarioError(f"producer placed {r['key']!r} on {r['partition']}, murmur2 says {expected}")

    def produce_fills(self, limit):
        """New versions of instructed accounts after their first leg filled: a few of every kind,
        first those whose first leg closes a whole position and leave one without a book, then
        those whose first leg closes a whole position."""
        outstanding = self.outstanding_live()
        by_kind = {}
        for account_id in sorted(outstanding):
            instruction = outstanding[account_id]
            state = self.accounts.get(account_id)
            if not instruction.legs or state is None or instruction.account_version != state.version:
                continue
            leg = instruction.legs[0]
            whole = any(p.instrument == leg.instrument and abs(p.quantity) <= leg.quantity + 1e-9 for p in state.positions)
            # What is left after the fill includes an option of the far expiry, which has no book.
            bookless = any(p.instrument != leg.instrument and "-L-" in p.instrument for p in state.positions)
            by_kind.setdefault(self.kinds[account_id], []).append((not (whole and bookless), not whole, account_id))
        queues = [sorted(v) for _, v in sorted(by_kind.items())]
        fills = []
        while len(fills) < limit and any(queues):
            for queue in queues:
                if queue and len(fills) < limit:
                    account_id = queue.pop(0)[-1]
                    new = apply_first_leg(self.accounts[account_id], outstanding[account_id], self.market)
                    self.send_account(new)
                    fills.append((account_id, new.version))
        log(f"  {len(fills)} accounts filled (first leg): {[f'{a} [{self.kinds[a]}]' for a, _ in fills]}")
        self.evidence["fills"] = fills
        return fills

    def produce_bad_records(self, orphaned):
        """Bad records: accounts keyed into the orphaned partitions, reference records (read by every
        instance, dead-lettered by the owner of partition 0, which is orphaned too)."""
        bad = []
        rng = self.rng
        ts = int(time.time() * 1000)
        counter = [0]

        def orphan_key(prefix):
            while True:
                counter[0] += 1
                key = f"{prefix}-{counter[0]}"
                if partition_of(key, self.partitions) in orphaned:
                    return key

        def account(key, **kw):
            return account_pb2.AccountState(account_id=key, version=1, **kw)

        def add(topic, key, value, reason=None, field=None, what="", headers=None, partition=None):
            record = self.producer.send(topic, key, value, headers=headers, partition=partition,
                                        meta={"bad": what, "reason": reason, "field": field})
            bad.append(record)

        garbage = bytes([0x07, 0xFF]) + bytes(rng.getrandbits(8) for _ in range(40))  # wire type 7: never valid
        k = orphan_key("bad-unknown")
        add(TOPICS["accounts"], k, account(k, balances={"USDC": 1000},
                                           positions=[account_pb2.Position(instrument="BTC-NOPE-1-C", quantity=1)]).SerializeToString(),
            "unknown_instrument", None, "account with an unknown instrument")
        k = orphan_key("bad-nan")
        add(TOPICS["accounts"], k, account(k, balances={"USDC": 1000},
                                           positions=[account_pb2.Position(instrument="BTC-PERPETUAL", quantity=float("nan"),
                                                                           average_entry_price=60000)]).SerializeToString(),
            "invalid_input", "quantity", "account with a NaN quantity")
        k = orphan_key("bad-inf")
        add(TOPICS["accounts"], k, account(k, balances={"USDC": float("inf")}).SerializeToString(),
            "invalid_input", "balances", "account with an infinite balance")
        k = orphan_key("bad-huge-qty")
        add(TOPICS["accounts"], k, account(k, balances={"USDC": 1000},
                                           positions=[account_pb2.Position(instrument="BTC-PERPETUAL", quantity=5e9,
                                                                           average_entry_price=60000)]).SerializeToString(),
            "invalid_input", "quantity", "account with |quantity| 5e9 > max_quantity")
        k = orphan_key("bad-huge-balance")
        add(TOPICS["accounts"], k, account(k, balances={"USDC": 1e16}).SerializeToString(),
            "invalid_input", "balances", "account with a 1e16 balance > max_balance")
        k = orphan_key("bad-neg-entry")
        add(TOPICS["accounts"], k, account(k, balances={"BTC": 1},
                                           positions=[account_pb2.Position(instrument="BTC-PERP-INV", quantity=100,
                                                                           average_entry_price=-60000)]).SerializeToString(),
            "invalid_input", "average_entry_price", "inverse perpetual with a negative entry price")
        k = orphan_key("bad-garbage")
        add(TOPICS["accounts"], k, garbage, None, None, "undecodable account bytes")
        k = orphan_key("bad-json")
        add(TOPICS["accounts"], k, b'{"account_id": "' + k.encode() + b'", "version": ', None, None,
            "truncated JSON account", headers=[("content-type", b"application/json")])
        k = orphan_key("bad-mismatch")
        add(TOPICS["accounts"], k, account("someone-else", balances={"USDC": 5}).SerializeToString(), None, None,
            "account whose account_id differs from its key")
        add(TOPICS["accounts"], None, account("keyless", balances={"USDC": 5}).SerializeToString(), None, "key",
            "account record without a key", partition=orphaned[0])
        # A real account's next version with a non-finite value: refused, the held state unchanged.
        real = sorted(a for a in self.accounts if partition_of(a, self.partitions) in orphaned
                      and self.accounts[a].positions)[0]
        broken = account_pb2.AccountState()
        broken.CopyFrom(self.accounts[real])
        broken.version += 1
        broken.positions[0].unsettled_funding = float("-inf")
        add(TOPICS["accounts"], real, broken.SerializeToString(), "invalid_input", "unsettled_funding",
            f"next version of {real} with -inf funding")
        self.refused_versions = {(real, broken.version)}
        # Reference records (one partition each; the owner of accounts partition 0 is dead).
        add(TOPICS["instruments"], "BTC-N-NEG-C", market_pb2.Instrument(
            name="BTC-N-NEG-C", underlying="BTC", kind=market_pb2.INSTRUMENT_KIND_OPTION, settlement=market_pb2.SETTLEMENT_LINEAR,
            contract_size=1, lot_size=0.1, tick_size=0.5, expiry_ms=self.market.expiries[0], strike=-50000,
            option_right=market_pb2.OPTION_RIGHT_CALL).SerializeToString(), None, "strike", "option with a negative strike")
        add(TOPICS["instruments"], "BTC-NAN-SIZE", market_pb2.Instrument(
            name="BTC-NAN-SIZE", underlying="BTC", kind=market_pb2.INSTRUMENT_KIND_PERPETUAL,
            settlement=market_pb2.SETTLEMENT_LINEAR, contract_size=float("nan")).SerializeToString(), None, "contract_size",
            "perpetual with a NaN contract size")
        add(TOPICS["instruments"], "BTC-GARBAGE", garbage, None, None, "undecodable instrument bytes")
        nan_index = self.market.snapshot("BTC", ts, 0.5, 1.0, -0.5)
        nan_index.index_price = float("nan")
        add(TOPICS["market"], "BTC", nan_index.SerializeToString(), None, "index_price", "BTC snapshot with a NaN index")
        negative = self.market.snapshot("ETH", ts, 0.5, 1.0, -0.5)
        negative.index_price = -1500.0
        add(TOPICS["market"], "ETH", negative.SerializeToString(), None, "index_price", "ETH snapshot with a negative index")
        huge = self.market.snapshot("BTC", ts + 1, 1.0, 0.6, -0.3)
        huge.index_price = 5e12
        add(TOPICS["market"], "BTC", huge.SerializeToString(), "invalid_input", "index_price",
            "BTC snapshot with a 5e12 index > max_price")
        inf_forward = self.market.snapshot("ETH", ts + 1, 0.5, 1.0, -0.5)
        inf_forward.expiries[0].forward = float("inf")
        add(TOPICS["market"], "ETH", inf_forward.SerializeToString(), None, "forward", "ETH snapshot with an infinite forward")
        future = self.market.snapshot("BTC", ts + DAY_MS, 1.5, 0.6, -0.3)
        add(TOPICS["market"], "BTC", future.SerializeToString(), "invalid_input", "market.timestamp_ms",
            "BTC snapshot dated one day ahead")
        add(TOPICS["market"], "BTC", garbage, None, None, "undecodable market bytes")
        add(TOPICS["params"], "junk-params", garbage, None, None, "undecodable parameter set")
        return bad

    def settle_pending(self):
        """`pending` (Schemas/README.md) means planned at the next window: poll GET /v1/accounts of
        the liquidatable accounts until none is pending (bounded), then let the outputs settle."""
        with self.reader.lock:
            ids = sorted(a for a, r in self.reader.results.items()
                         if r[-1][1] in (result_pb2.HEALTH_STATE_LIQUIDATABLE, result_pb2.HEALTH_STATE_BANKRUPT))
        holder = {}

        def pending():
            found = []
            sweep_deadline = time.monotonic() + 10
            for a in ids:
                if time.monotonic() > sweep_deadline:
                    return [None]
                for w in ([holder[a]] if a in holder else self.workers):
                    status, body = http_get(w.port, "/v1/accounts/" + urllib.parse.quote(a, safe=""))
                    if status == 200:
                        holder[a] = w
                        if liquidation_status(json.loads(body)).get("state") == "pending":
                            found.append(a)
                        break
            return found

        try:
            wait_for(lambda: not pending(), 20, "no liquidatable account pending", interval=0.5)
        except ScenarioError as error:
            log(f"  {error} (reported by the final check)")
        self.wait_quiet("outputs to settle after the pending plans", quiet=2.0, timeout=30)

    # --- live state

    def has_result(self, account_id, version):
        with self.reader.lock:
            return any(v == version for v, _ in self.reader.results.get(account_id, []))

    def all_versions_resulted(self):
        with self.reader.lock:
            return all(any(v == s.version for v, _ in self.reader.results.get(a, [])) for a, s in self.accounts.items())

    def outstanding_live(self):
        with self.reader.lock:
            instructions = list(self.reader.instructions)
        return outstanding_by_account(instructions)

    def health_snapshot(self, label):
        with self.reader.lock:
            latest = {a: r[-1][1] for a, r in self.reader.results.items()}
            count = len(self.reader.instructions)
        names = {v: k.replace("HEALTH_STATE_", "").lower() for k, v in result_pb2.HealthState.items()}
        histogram = {}
        for h in latest.values():
            histogram[names[h]] = histogram.get(names[h], 0) + 1
        log(f"  {label}: latest health {dict(sorted(histogram.items()))}; {count} liquidation records so far")
        self.evidence.setdefault("health", {})[label] = histogram
        by_kind = {}
        for a, h in latest.items():
            by_kind.setdefault(self.kinds.get(a), {}).setdefault(names[h], 0)
            by_kind[self.kinds.get(a)][names[h]] += 1
        self.evidence.setdefault("health_by_kind", {})[label] = by_kind


def outstanding_by_account(instructions):
    """account -> its outstanding instruction: issued, then neither cancelled nor superseded.
    `instructions` in topic order per account (one partition per account)."""
    cancelled, superseded, last = set(), set(), {}
    for i in instructions:
        if i.cancel:
            cancelled.add(i.id)
        else:
            if i.supersedes:
                superseded.add(i.supersedes)
            last.setdefault(i.account_id, []).append(i)
    out = {}
    for account_id, issued in last.items():
        live = [i for i in issued if i.id not in cancelled and i.id not in superseded]
        if live:
            out[account_id] = live[-1]
    return out


# ----------------------------------------------------------------------------- assertions

class Verdict:
    def __init__(self):
        self.failures = []  # (assertion, summary, evidence lines)
        self.notes = []

    def fail(self, assertion, summary, evidence):
        self.failures.append((assertion, summary, evidence))

    def note(self, text):
        self.notes.append(text)


WAIT_REASONS = ("budget", "no_depth", "plan_error")  # Schemas/README.md, MarginResult.liquidation


def liquidation_status(answer):
    """The `liquidation` status (LiquidationStatus) of a GET /v1/accounts/{id} answer, with the
    protobuf JSON mapping's either spelling of field names; {} when absent."""
    status = (answer or {}).get("liquidation") or {}
    return {"state": status.get("state", ""), "reason": status.get("reason", ""), "detail": status.get("detail", ""),
            "instruction_id": status.get("instruction_id", status.get("instructionId", "")),
            "deadline_ms": status.get("deadline_ms", status.get("deadlineMs", ""))} if status else {}


def verify(run, verdict):
    log("final read of every output topic from the beginning (read_committed)")
    run.check_time_ms = int(time.time() * 1000)
    records, low_moved, eof_below = read_all(run.brokers, OUTPUT_TOPICS + [TOPICS["accounts"]])
    if low_moved:
        verdict.fail("setup", "the embedded broker dropped records (log start moved past 0)",
                     [f"{t}[{p}] log start {lo}" for t, p, lo in low_moved])
    if eof_below:
        verdict.note(f"partitions read up to their last stable offset only (open transaction): {eof_below}")
    summary = {"records": {t: len(r) for t, r in records.items()}}
    partitions = run.partitions

    # ---- decode outputs, headers present, placement
    results, instructions, dead_letters, state_records = [], [], [], []
    header_problems, undecodable, placement = [], [], []
    for topic in (TOPICS["results"], TOPICS["liquidations"]):
        cls = result_pb2.MarginResult if topic == TOPICS["results"] else result_pb2.LiquidationInstruction
        for r in records[topic]:
            ctype = (r["headers"].get("content-type") or [None])[0]
            mid = (r["headers"].get("message-id") or [None])[0]
            if ctype not in ("application/x-protobuf", "application/json") or not mid:
                header_problems.append(f"{topic}[{r['partition']}]@{r['offset']} key {r['key']!r}: content-type {ctype!r}, message-id {mid!r}")
            if r["value"] is None:
                undecodable.append(f"{topic}[{r['partition']}]@{r['offset']}: tombstone")
                continue
            message = decode(cls, r["value"], ctype)
            if message is None:
                undecodable.append(f"{topic}[{r['partition']}]@{r['offset']} key {r['key']!r}: does not decode as {cls.__name__}")
                continue
            r["message"], r["message_id"] = message, mid
            if r["key"] is not None and r["partition"] != partition_of(r["key"], partitions):
                placement.append(f"{topic}[{r['partition']}]@{r['offset']} key {r['key']!r}: account partition is {partition_of(r['key'], partitions)}")
            if message.account_id != r["key"]:
                placement.append(f"{topic}[{r['partition']}]@{r['offset']}: key {r['key']!r} but account_id {message.account_id!r}")
            (results if topic == TOPICS["results"] else instructions).append(r)
    for r in records[TOPICS["deadletter"]]:
        r["message_id"] = (r["headers"].get("message-id") or [None])[0]
        if not r["message_id"]:
            header_problems.append(f"deadletter@{r['offset']}: no message-id header")
        dead_letters.append(r)
    if header_problems:
        verdict.fail("contract: output headers", f"{len(header_problems)} output record(s) lack content-type/message-id", header_problems)
    if undecodable:
        verdict.fail("contract: decodable outputs", f"{len(undecodable)} output record(s) do not decode", undecodable)
    if placement:
        verdict.fail("contract: co-partitioning", f"{len(placement)} output record(s) off their account's partition or key", placement)

    # ---- A. no id with two different contents
    def conflicts(items, key_of, content_of, label):
        groups = {}
        for r in items:
            k = key_of(r)
            if k is None:
                continue
            groups.setdefault(k, []).append(r)
        bad, keys = [], set()
        for k, group in groups.items():
            first = group[0]
            for other in group[1:]:
                if content_of(other) != content_of(first):
                    diff = diff_paths(content_of(first), content_of(other))
                    bad.append(f"{label} {k!r}: {where(first)} vs {where(other)} "
                               f"(kill at {run.kill_time_ms}); differs in {diff}")
                    keys.add(k)
                    break
        return groups, bad, keys

    def where(r):
        return f"{r['topic'].split('.')[1]}[{r['partition']}]@{r['offset']} ts {r['timestamp_ms']}"

    def content(r):
        return {"key": r["key"], "content-type": r["headers"].get("content-type"), "message": plain(r["message"])}

    result_groups, bad_a, result_keys = conflicts(results, lambda r: r["message"].result_id, content, "result_id")
    # message-id conflicts not already reported under the same result_id
    _, bad_mid_results, _ = conflicts([r for r in results if r["message_id"] not in result_keys], lambda r: r["message_id"],
                                      content, "message-id (results)")
    instr_groups, bad_i, _ = conflicts(instructions, lambda r: (r["message"].id, r["message"].cancel), content, "instruction (id, cancel)")
    _, bad_mid_instr, _ = conflicts(instructions, lambda r: r["message_id"], content, "message-id (liquidations)")
    dl_content = lambda r: {"key": r["key_bytes"], "value": r["value"], "headers": r["headers"]}  # noqa: E731
    _, bad_dl, _ = conflicts(dead_letters, lambda r: r["message_id"], dl_content, "message-id (dead letters)")
    # The same message-id used by two different topics (ids are meant to be unique per output).
    seen_topic = {}
    cross = []
    for r in results + instructions + dead_letters:
        t = seen_topic.setdefault(r["message_id"], r["topic"])
        if t != r["topic"]:
            cross.append(f"message-id {r['message_id']!r} on {t} and {r['topic']}")
    bad_ids = bad_a + bad_mid_results + bad_i + bad_mid_instr + bad_dl + cross
    if bad_ids:
        verdict.fail("A. no id with two different contents", f"{len(bad_ids)} id(s) with different contents", bad_ids)
    mismatch = [f"{where(r)}: message-id {r['message_id']!r} != result_id {r['message'].result_id!r}"
                for r in results if r["message_id"] != r["message"].result_id]
    if mismatch:
        verdict.fail("contract: result message-id", f"{len(mismatch)} result(s) whose message-id is not their result_id", mismatch)

    # ---- B. every bad record dead-lettered (and nothing else)
    by_source = {}
    for r in dead_letters:
        h = r["headers"]
        try:
            source = ((h.get("dlq-source-topic") or [None])[0], int((h.get("dlq-source-partition") or ["-1"])[0]),
                      int((h.get("dlq-source-offset") or ["-1"])[0]))
        except ValueError:
            source = None
        by_source.setdefault(source, []).append(r)
    missing, wrong = [], []
    for b in run.bad:
        source = (b["topic"], b["partition"], b["offset"])
        found = by_source.get(source)
        label = f"{b['meta']['bad']} ({b['topic']}[{b['partition']}]@{b['offset']}, key {b['key']!r})"
        if not found:
            missing.append(label)
            continue
        d = found[0]
        reason = (d["headers"].get("dlq-reason") or [""])[0]
        error = (d["headers"].get("dlq-error") or [""])[0]
        problems = []
        expected_key = b["key"].encode() if isinstance(b["key"], str) else b["key"]
        if d["key_bytes"] != expected_key:
            problems.append(f"key {d['key_bytes']!r} != source key {expected_key!r}")
        if d["value"] != b["value"]:
            problems.append("value is not the original bytes")
        if not reason or not error:
            problems.append(f"dlq-reason {reason!r} / dlq-error {error!r} empty")
        if b["meta"]["reason"] and reason != b["meta"]["reason"]:
            problems.append(f"dlq-reason {reason!r}, documented {b['meta']['reason']!r}")
        if b["meta"]["field"] and b["meta"]["field"] not in error:
            problems.append(f"dlq-error {error!r} does not name {b['meta']['field']!r}")
        b["dead_letter"] = {"reason": reason, "error": error, "copies": len(found)}
        if problems:
            wrong.append(f"{label}: " + "; ".join(problems))
    if missing:
        verdict.fail("B. every bad record dead-lettered", f"{len(missing)} of {len(run.bad)} bad records never dead-lettered", missing)
    if wrong:
        verdict.fail("B. dead letters as documented", f"{len(wrong)} dead letter(s) not as documented", wrong)
    bad_sources = {(b["topic"], b["partition"], b["offset"]) for b in run.bad}
    unexpected = [f"{k}: reason {(v[0]['headers'].get('dlq-reason') or [''])[0]!r}, error {(v[0]['headers'].get('dlq-error') or [''])[0]!r}"
                  for k, v in by_source.items() if k not in bad_sources]
    if unexpected:
        verdict.fail("contract: only bad records dead-lettered", f"{len(unexpected)} valid input record(s) dead-lettered", unexpected)

    # ---- versions: every valid account version has a result; a refused one has none
    versions_seen = {}
    for r in results:
        versions_seen.setdefault(r["message"].account_id, set()).add(r["message"].account_version)
    no_result = [f"{a} v{v}" for a, vs in sorted(run.valid_versions.items()) for v in sorted(vs)
                 if v not in versions_seen.get(a, set())]
    if no_result:
        verdict.fail("contract: every account version yields a result", f"{len(no_result)} version(s) without a result", no_result)
    refused = [f"{a} v{v} (refused input) has a result" for a, v in run.refused_versions if v in versions_seen.get(a, set())]
    if refused:
        verdict.fail("contract: a refused record leaves the state unchanged", "result for a dead-lettered version", refused)

    errors = [f"{a} v{r['message'].account_version}: {r['message'].error_code}: {r['message'].error}"
              for a, r in sorted(latest_results(results).items())
              if r["message"].health == result_pb2.HEALTH_STATE_ERROR and a not in run.error_accounts]
    if errors:
        verdict.fail("contract: valid accounts are margined", f"{len(errors)} valid account(s) whose latest result is an error", errors)
    expected_errors = []
    for a, codes in sorted(run.error_accounts.items()):
        r = latest_results(results).get(a)
        m = r["message"] if r else None
        if m is None or m.health != result_pb2.HEALTH_STATE_ERROR or m.error_code not in codes or not m.error \
                or m.equity or m.maintenance_requirement or m.initial_requirement:
            expected_errors.append(f"{a}: expected an error result ({' or '.join(codes)}, amounts 0), latest is "
                                   + (short(plain(m), 300) if m is not None else "none"))
    if expected_errors:
        verdict.fail("contract: an account that cannot be margined gets an error result", f"{len(expected_errors)} account(s)",
                     expected_errors)

    # ---- C. every liquidatable account instructed (or waiting for budget, with a reason)
    latest = latest_results(results)
    ordered = sorted(instructions, key=lambda r: (r["partition"], r["offset"]))
    instr_msgs = [r["message"] for r in ordered]
    outstanding = outstanding_by_account(instr_msgs)
    issued = {}
    for m in instr_msgs:
        if not m.cancel:
            issued.setdefault(m.id, m)
    http = fetch_accounts(run, verdict, sorted(run.accounts))
    H = result_pb2
    liquidatable = sorted(a for a, r in latest.items() if r["message"].health in (H.HEALTH_STATE_LIQUIDATABLE, H.HEALTH_STATE_BANKRUPT))
    uncovered, waiting, covered, uncovered_kinds = [], [], [], []
    for a in liquidatable:
        res = latest[a]["message"]
        o = outstanding.get(a)
        if o is not None and o.account_version == res.account_version:
            covered.append(a)
            continue
        status = liquidation_status(http.get(a, {}).get("json"))
        if status.get("state") == "waiting" and status.get("reason") in WAIT_REASONS and status.get("detail"):
            waiting.append(f"{a}: {status['reason']}: {status['detail']}")
            continue
        mine = [m for m in instr_msgs if m.account_id == a]
        last = mine[-1] if mine else None
        last_text = "no instruction ever" if last is None else (
            f"last {'cancel of' if last.cancel else 'instruction'} {last.id} (v{last.account_version}, round {last.plan_round}"
            + (f", legs {len(last.legs)}" if not last.cancel else "") + ")"
            + ("" if o is None else f"; outstanding {o.id} is for v{o.account_version}"))
        if o is not None and o.deadline_ms and o.deadline_ms < run.check_time_ms:
            last_text += f"; its deadline passed {(run.check_time_ms - o.deadline_ms) / 1000:.1f}s before the check"
        run.evidence.setdefault("uncovered_timelines", {})[a] = timeline(a, results, ordered, run)
        h = http.get(a, {})
        uncovered_kinds.append(run.kinds.get(a))
        uncovered.append(
            f"{a} [{run.kinds.get(a)}] v{res.account_version} {H.HealthState.Name(res.health)} equity {res.equity:.2f} "
            f"MM {res.maintenance_requirement:.2f} positions {[(p.instrument, p.quantity) for p in run.accounts[a].positions]}: "
            f"{last_text}; GET /v1/accounts: {h.get('health', h.get('status'))} v{h.get('version')}, "
            f"liquidation {json.dumps(liquidation_status(h.get('json'))) if liquidation_status(h.get('json')) else 'absent'}")
    if uncovered:
        verdict.fail("C. every liquidatable account instructed",
                     f"{len(uncovered)} of {len(liquidatable)} liquidatable accounts have no outstanding instruction for their "
                     f"version and no `waiting` liquidation status with a reason over HTTP (by kind: {count_by(uncovered_kinds)}; worker metrics: "
                     f"{run.queue_metrics or 'none'})",
                     uncovered)
    # At most one outstanding instruction per account; none on a recovered account.
    live_counts = {}
    cancelled = {m.id for m in instr_msgs if m.cancel}
    superseded = {m.supersedes for m in instr_msgs if not m.cancel and m.supersedes}
    for m in issued.values():
        if m.id not in cancelled and m.id not in superseded:
            live_counts.setdefault(m.account_id, []).append(m.id)
    several = [f"{a}: {ids}" for a, ids in sorted(live_counts.items()) if len(ids) > 1]
    if several:
        verdict.fail("contract: one outstanding instruction per account", f"{len(several)} account(s) with several", several)
    recovered = [f"{a}: outstanding {o.id} (v{o.account_version}) but latest result {H.HealthState.Name(latest[a]['message'].health)} "
                 f"v{latest[a]['message'].account_version}"
                 for a, o in sorted(outstanding.items())
                 if a in latest and latest[a]["message"].health in (H.HEALTH_STATE_HEALTHY, H.HEALTH_STATE_BELOW_IM)]
    if recovered:
        verdict.fail("contract: recovery cancels", f"{len(recovered)} recovered account(s) with an outstanding instruction", recovered)
    dangling = []
    for m in instr_msgs:
        ref, what = (m.id, "cancel") if m.cancel else (m.supersedes, "supersedes")
        if ref and (ref not in issued or issued[ref].account_id != m.account_id):
            dangling.append(f"{what} {ref!r} in an instruction of {m.account_id} names no instruction issued for it")
    if dangling:
        verdict.fail("contract: cancels and supersedes name issued ids", f"{len(dangling)} dangling reference(s)", dangling)
    # The HTTP liquidation status against the liquidations topic (documented in Schemas/README.md).
    status_problems = []
    for a, h in sorted(http.items()):
        st = liquidation_status(h.get("json"))
        if not st:
            status_problems.append(f"{a}: GET /v1/accounts has no liquidation status")
            continue
        o = outstanding.get(a)
        if st["state"] not in ("none", "pending", "outstanding", "waiting"):
            status_problems.append(f"{a}: undocumented liquidation state {st}")
        elif st["state"] == "outstanding" and (o is None or o.id != st["instruction_id"]):
            said = [r for r in ordered if r["message"].id == st["instruction_id"]]
            fate = ("never published" if not said else
                    "published at " + ", ".join(f"{where(r)}{' (cancel)' if r['message'].cancel else ''}" for r in said)
                    + (", cancelled" if st["instruction_id"] in cancelled else "")
                    + (", superseded" if st["instruction_id"] in superseded else ""))
            status_problems.append(f"{a}: HTTP says outstanding {st['instruction_id']} ({fate}) but the topic's outstanding "
                                   f"instruction is {f'{o.id} (v{o.account_version}, round {o.plan_round})' if o else 'none'}")
        elif st["state"] != "outstanding" and o is not None:
            status_problems.append(f"{a}: the topic has outstanding {o.id} (v{o.account_version}) but HTTP says {st}")
        elif st["state"] == "waiting" and st["reason"] not in WAIT_REASONS:
            status_problems.append(f"{a}: waiting with an undocumented reason {st}")
        elif st["state"] == "pending":
            status_problems.append(f"{a}: still pending after the outputs settled: {st}")
    if status_problems:
        verdict.fail("contract: liquidation status (HTTP) agrees with the liquidations topic",
                     f"{len(status_problems)} account(s)", status_problems)
    # The worker's current health (HTTP) against the latest published one.
    lagging = [f"{a}: latest result {H.HealthState.Name(latest[a]['message'].health)} v{latest[a]['message'].account_version}, "
               f"HTTP {h['health']} v{h.get('version')}"
               for a, h in sorted(http.items())
               if a in latest and h.get("health") and h["health"] != H.HealthState.Name(latest[a]["message"].health)]
    if lagging:
        verdict.fail("contract: health changes are published", f"{len(lagging)} account(s) whose current health differs from the latest result", lagging)

    # ---- D. no non-finite number in any output
    nonfinite = []
    for r in results + instructions:
        for path, value in nonfinite_fields(r["message"]):
            nonfinite.append(f"{where(r)} key {r['key']!r}: {path} = {value}")
    for r in records[TOPICS["state"]]:
        state_records.append(r)
        if r["value"] is None:
            continue
        try:
            _, bad = json_nonfinite(r["value"].decode())
        except ValueError as error:
            bad = [("<not JSON>", str(error))]
        nonfinite += [f"{where(r)} key {r['key']!r}: {p} = {v}" for p, v in bad]
    for a, h in http.items():
        nonfinite += [f"GET /v1/accounts/{a} on {h['worker']}: {p} = {v}" for p, v in h.get("nonfinite", [])]
    for label, bad in run.http_other:
        nonfinite += [f"{label}: {p} = {v}" for p, v in bad]
    if nonfinite:
        verdict.fail("D. no non-finite number in any output", f"{len(nonfinite)} non-finite value(s)", nonfinite)

    # ---- scenario sanity (the scenario exercised what it claims)
    cancels = [m for m in instr_msgs if m.cancel]
    rounds = [m for m in issued.values() if m.plan_round > 0]
    supers = [m for m in issued.values() if m.supersedes]
    if not cancels:
        verdict.fail("setup: scenario", "the rebound produced no cancel", [])
    if run.soft_failures:
        verdict.fail("setup: scenario", "a phase did not see what it waited for", run.soft_failures)
    if not run.no_owner_ok:
        verdict.fail("setup: scenario", "bad records were not produced while their partitions had no owner",
                     [json.dumps(run.evidence["no_owner"])])
    run.dump = {"results": results, "instructions": ordered, "dead_letters": dead_letters}
    summary.update({
        "accounts": len(run.accounts), "results": len(results), "result_ids": len(result_groups),
        "instructions": len(issued), "instruction_records": len(instructions), "cancels": len(cancels),
        "superseding": len(supers), "later_rounds": len(rounds), "dead_letters": len(dead_letters),
        "bad_records": len(run.bad), "bad_dead_lettered": sum(1 for b in run.bad if b.get("dead_letter")),
        "liquidatable_latest": len(liquidatable), "instructed": len(covered), "waiting_with_reason": count_by(w.split(": ")[1] for w in waiting),
        "uncovered": len(uncovered), "http_answers": sum(1 for h in http.values() if h.get("status") == 200),
    })
    run.evidence["waiting_with_reason"] = waiting
    run.evidence["bad_records"] = [{"what": b["meta"]["bad"], "topic": b["topic"], "partition": b["partition"],
                                    "offset": b["offset"], "key": b["key"], "dead_letter": b.get("dead_letter")} for b in run.bad]
    return summary


def timeline(account_id, results, instructions, run):
    """What the topics say about one account, in time order (for the evidence file)."""
    names = {v: k for k, v in result_pb2.HealthState.items()}
    events = [(r["timestamp_ms"], f"result v{r['message'].account_version} {names[r['message'].health]} equity "
               f"{r['message'].equity:.2f} MM {r['message'].maintenance_requirement:.2f} ({r['message_id']})")
              for r in results if r["message"].account_id == account_id]
    for r in instructions:
        m = r["message"]
        if m.account_id == account_id:
            events.append((r["timestamp_ms"], f"{'cancel' if m.cancel else 'instruction'} {m.id} v{m.account_version} round "
                           f"{m.plan_round} legs {[(l.instrument, l.quantity) for l in m.legs]} supersedes {m.supersedes!r} "
                           f"deadline {m.deadline_ms}"))
    for name, t in run.phase_wall:
        events.append((t, f"--- {name}"))
    return [f"{t}: {text}" for t, text in sorted(events)]


def dump_topics(run, path):
    """The decoded outputs, one JSON line each (results summarised), for a post-mortem."""
    names = {v: k for k, v in result_pb2.HealthState.items()}
    with open(path, "w") as f:
        for r in run.dump.get("results", []):
            m = r["message"]
            f.write(json.dumps({"topic": r["topic"], "partition": r["partition"], "offset": r["offset"], "ts": r["timestamp_ms"],
                                "message_id": r["message_id"], "account": m.account_id, "version": m.account_version,
                                "health": names[m.health], "equity": m.equity, "mm": m.maintenance_requirement,
                                "markets": dict(m.market_timestamps)}, default=str) + "\n")
        for r in run.dump.get("instructions", []):
            f.write(json.dumps({"topic": r["topic"], "partition": r["partition"], "offset": r["offset"], "ts": r["timestamp_ms"],
                                "message_id": r["message_id"],
                                "message": json_format.MessageToDict(r["message"], preserving_proto_field_name=True)}) + "\n")
        for r in run.dump.get("dead_letters", []):
            f.write(json.dumps({"topic": r["topic"], "partition": r["partition"], "offset": r["offset"], "ts": r["timestamp_ms"],
                                "key": r["key"], "headers": r["headers"]}) + "\n")


def latest_results(results):
    """account -> its last result (topic order within the account's partition)."""
    latest = {}
    for r in results:
        latest[r["message"].account_id] = r
    return latest


def count_by(items):
    out = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return dict(sorted(out.items()))


def fetch_accounts(run, verdict, account_ids):
    """GET /v1/accounts/{id} for every account on both workers: exactly one must hold it."""
    answers = {}
    problems = []
    run.http_other = []
    run.queue_metrics = []
    for w in run.workers:
        status, body = http_get(w.port, "/metrics")
        run.queue_metrics += [f"{w.instance}: {line.split('{')[0]}{{{line.split(',reason=')[1].split('}')[0] if ',reason=' in line else ''}}} {line.split()[-1]}"
                              for line in body.splitlines()
                              if re.match(r"margin_liquidation_(queued|waiting)", line) and not line.endswith(" 0.0")]
        for path in ("/ready", "/health"):
            status, body = http_get(w.port, path)
            try:
                _, bad = json_nonfinite(body)
            except ValueError as error:
                bad = [("<not JSON>", str(error))]
            run.http_other.append((f"GET {path} on {w.instance}", bad))
    deadline = time.monotonic() + 30
    for a in account_ids:
        if time.monotonic() > deadline:
            problems.append(f"HTTP answers too slow: stopped after 30 s, before {a}")
            break
        holders = []
        for w in run.workers:
            status, body = http_get(w.port, "/v1/accounts/" + urllib.parse.quote(a, safe=""))
            if status == 200:
                holders.append(w.instance)
                entry = {"worker": w.instance, "status": status}
                try:
                    data, bad = json_nonfinite(body)
                    entry["json"], entry["nonfinite"] = data, bad
                    entry["health"] = data.get("health", "HEALTH_STATE_UNSPECIFIED")
                    entry["version"] = data.get("account_version", data.get("accountVersion"))
                except ValueError as error:
                    entry["nonfinite"] = [("<not JSON>", str(error))]
                answers[a] = entry
            elif status != 404:
                problems.append(f"{a} on {w.instance}: HTTP {status} {body[:200]}")
        if len(holders) != 1:
            problems.append(f"{a}: held by {holders or 'no worker'}")
    if problems:
        verdict.fail("contract: every account held by exactly one worker (HTTP)", f"{len(problems)} problem(s)", problems)
    return answers


# ----------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/margin-engine"))
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--crash-during-rejoin", action="store_true",
                        help="produce the second crash as soon as the restarted worker serves, during its rebalance")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, evidence) on success too")
    parser.add_argument("--evidence-limit", type=int, default=12, help="evidence lines printed per failed assertion")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    workdir = tempfile.mkdtemp(prefix="integrity-check-")
    verdict = Verdict()
    run = None
    code = 0
    try:
        wait_for_binary(args.binary)
        global T0
        T0 = time.monotonic()
        generate_classes(workdir)
        import confluent_kafka
        import google.protobuf
        log(f"integrity check: {args.binary} (protobuf {google.protobuf.__version__}, confluent-kafka "
            f"{confluent_kafka.version()[0]}, librdkafka {confluent_kafka.libversion()[0]}), seed {args.seed}, "
            f"{args.accounts} accounts, {args.partitions} partitions, work dir {workdir}")
        run = Run(args, workdir)
        run.drive()
        summary = verify(run, verdict)
        dead = [w.instance for w in run.workers if not w.alive()]
        if dead:
            verdict.fail("contract: workers stay up", f"worker(s) {dead} died", [tail(w.log_path) for w in run.workers if not w.alive()])
        elapsed = time.monotonic() - T0
        print()
        print(f"summary ({elapsed:.0f}s): " + json.dumps(summary, sort_keys=True))
        print("phases: " + ", ".join(f"{name} @{t:.0f}s" for name, t in run.phase_times))
        for line in run.evidence.get("waiting_with_reason", [])[:3]:
            print(f"waiting (as GET /v1/accounts says): {line}")
        for note in verdict.notes:
            print(f"note: {note}")
        with open(os.path.join(workdir, "evidence.json"), "w") as f:
            json.dump({"summary": summary, "evidence": run.evidence,
                       "failures": [{"assertion": a, "summary": s, "evidence": e} for a, s, e in verdict.failures]},
                      f, indent=1, default=str)
        if verdict.failures:
            dump_topics(run, os.path.join(workdir, "topics.jsonl"))
            print()
            for assertion, text, evidence in verdict.failures:
                print(f"FAIL {assertion}: {text}")
                for line in evidence[: args.evidence_limit]:
                    print(f"    {line}")
                if len(evidence) > args.evidence_limit:
                    print(f"    ... {len(evidence) - args.evidence_limit} more in {workdir}/evidence.json")
            print(f"\nintegrity check FAILED ({len(verdict.failures)} assertion(s)); logs and evidence in {workdir}")
            code = 1
        else:
            print("integrity check passed")
    except ScenarioError as error:
        print(f"\nintegrity check could not run the scenario: {error}", file=sys.stderr)
        print(f"logs in {workdir}", file=sys.stderr)
        code = 2
    finally:
        if run is not None and getattr(run, "reader", None) is not None and run.reader.is_alive():
            run.reader.stop()
        if run is not None:
            run.producer = None  # its connections go before the broker does
        stop_all()
        if code == 0 and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
