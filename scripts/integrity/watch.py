"""What scripts/soak watches from outside the worker: the results topic (every version answered,
each account's last result, when each BTC snapshot was first reflected) and its resident memory
(its HTTP endpoints: probe.py)."""

import collections
import os
import threading
import time

from . import proto
from .kafka_io import consumer_config, content_type
from .topics import TOPICS


def say(text):
    print(f"soak: {text}", flush=True)


class ResultFollower(threading.Thread):
    """Follows the results topic: every (account, version) answered and each account's last result."""

    def __init__(self, brokers, reflection=None):
        super().__init__(daemon=True)
        self.reflection = reflection  # load.Reflection: each BTC snapshot time's first result
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
                if self.reflection is not None and "BTC" in r.market_timestamps:
                    self.reflection.result(r.market_timestamps["BTC"], msg.timestamp()[1])
        except Exception as error:  # noqa: BLE001
            self.error = error
        finally:
            self.consumer.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (its threads included); None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


class CpuShares:
    """Cores used by each process per phase ("with" or "without" what-if load), from /proc samples."""

    def __init__(self):
        self.last = None  # (time, {name: (pid, cpu seconds)})
        self.used = collections.defaultdict(collections.Counter)
        self.seconds = collections.Counter()

    def sample(self, now, phase, pids):
        current = {name: (pid, cpu_seconds(pid)) for name, pid in pids.items() if pid}
        if self.last is not None and phase is not None:
            before = self.last[1]
            self.seconds[phase] += now - self.last[0]
            for name, (pid, cpu) in current.items():
                if name in before and before[name][0] == pid and cpu is not None and before[name][1] is not None:
                    self.used[phase][name] += cpu - before[name][1]
        self.last = (now, current)

    def summary(self):
        return {phase: {name: round(cpu / self.seconds[phase], 2) for name, cpu in sorted(used.items())}
                for phase, used in sorted(self.used.items()) if self.seconds[phase] > 0}


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
