"""What scripts/soak watches from outside the worker: the results topic (every version answered,
each account's last result), probes of its HTTP endpoints, and its resident memory."""

import threading
import time

from . import proto
from .http_io import account_path, http_get
from .kafka_io import consumer_config, content_type
from .topics import TOPICS


class ResultFollower(threading.Thread):
    """Follows the results topic: every (account, version) answered and each account's last result."""

    def __init__(self, brokers):
        super().__init__(daemon=True)
        from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
        self.consumer = Consumer(consumer_config(brokers, "soak"))
        metadata = self.consumer.list_topics(timeout=10)
        topic = TOPICS["results"]
        self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in metadata.topics[topic].partitions])
        self.lock = threading.Lock()
        self.answered = set()   # (account, version)
        self.latest = {}        # account -> (version, mm, im, health name)
        self.count = 0
        self.last_record = time.monotonic()
        self.error = None
        self.stopping = threading.Event()

    def run(self):
        names = {v: k for k, v in proto.result_pb2.HealthState.items()}
        try:
            while not self.stopping.is_set():
                msg = self.consumer.poll(0.2)
                if msg is None or msg.error() or msg.value() is None:
                    continue
                r = proto.decode(proto.result_pb2.MarginResult, msg.value(), content_type(msg))
                if r is None:
                    raise RuntimeError(f"an undecodable result at {msg.partition()}@{msg.offset()}")
                with self.lock:
                    self.count += 1
                    self.last_record = time.monotonic()
                    self.answered.add((r.account_id, r.account_version))
                    self.latest[r.account_id] = (r.account_version, r.maintenance_requirement, r.initial_requirement,
                                                 names[r.health])
        except Exception as error:  # noqa: BLE001
            self.error = error
        finally:
            self.consumer.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)


class Prober(threading.Thread):
    """Probes `/ready`, `/metrics` and one account's `GET /v1/accounts/{id}` every 100 ms from outside
    (as kubelet and Prometheus do) and records each answer's latency; a failed probe counts as such."""

    PATHS = ("/ready", "/metrics", None)

    def __init__(self, soak):
        super().__init__(daemon=True)
        self.soak = soak
        self.latencies = {name: [] for name in ("ready", "metrics", "account")}
        self.failures = {name: 0 for name in self.latencies}
        self.stopping = threading.Event()

    def run(self):
        names = dict(zip(self.PATHS, self.latencies))
        while not self.stopping.wait(0.1):
            worker = self.soak.worker
            if not worker.alive() or self.soak.stopping:
                continue
            for path in self.PATHS:
                name = names[path]
                started = time.monotonic()
                try:
                    status, _ = http_get(worker.port, path or account_path(self.soak.ids[0]), timeout=5)
                    ok = status == 200
                except OSError:
                    ok = False
                if ok:
                    self.latencies[name].append((time.monotonic() - started) * 1000)
                else:
                    self.failures[name] += 1

    def summary(self):
        out = {}
        for name, values in self.latencies.items():
            values = sorted(values)
            pick = (lambda q: round(values[min(len(values) - 1, int(q * len(values)))], 2)) if values else (lambda q: None)
            out[name] = {"probes": len(values), "failed": self.failures[name], "p50_ms": pick(0.5), "p99_ms": pick(0.99),
                         "max_ms": round(values[-1], 2) if values else None, "over_1s": sum(v > 1000 for v in values)}
        return out


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


def slope_percent_per_minute(samples):
    """Least-squares slope of (seconds, MiB) as % of the mean per minute."""
    n = len(samples)
    if n < 3:
        return None
    mean_t = sum(t for t, _ in samples) / n
    mean_r = sum(r for _, r in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0 or mean_r == 0:
        return None
    slope = sum((t - mean_t) * (r - mean_r) for t, r in samples) / var
    return slope * 60 / mean_r * 100
