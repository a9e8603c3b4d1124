"""Kafka spoken by confluent-kafka (PyPI): Java placement, a recording producer, the final
read_committed read of whole topics, and the live reader the phases poll."""

import os
import threading
import time

from . import proto
from .common import ScenarioError
from .topics import OUTPUT_TOPICS, TOPICS


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


def content_type(msg):
    for name, value in msg.headers() or []:
        if name == "content-type" and value is not None:
            return value.decode()
    return "application/x-protobuf"


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
                        r = proto.decode(proto.result_pb2.MarginResult, msg.value(), content_type(msg))
                        if r is not None:
                            self.results.setdefault(r.account_id, []).append((r.account_version, r.health))
                    elif msg.topic() == TOPICS["liquidations"]:
                        i = proto.decode(proto.result_pb2.LiquidationInstruction, msg.value(), content_type(msg))
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
