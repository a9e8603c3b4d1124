#!/usr/bin/env python3
"""Helper of scripts/real-broker-test: a Kafka client (confluent-kafka, librdkafka 2.0.2 inside)
that is not this project's code, used against the noida-db broker.

Subcommands (BROKERS is host:port):
  free-port                            print a free loopback TCP port
  wait-broker BROKERS SECONDS          until the broker answers a metadata request
  create-topics BROKERS PARTITIONS     the worker's topics (accounts and its co-partitioned
                                       outputs: PARTITIONS; reference, dead-letter, risk factors: 1)
  produce BROKERS NOW_MS               instruments, markets and accounts, encoded by protoc; part of
                                       them in committed transactions, one transaction aborted
  check-inputs BROKERS                 read_committed hides the aborted records (read_uncommitted
                                       shows they were written); input partitions end in markers
                                       (not with RBT_TAIL_PLAIN=1: see produce)
  wait-restored HTTP_URL PARTITIONS SECONDS [PID]   poll /ready until every shard is restored
                                       (fails at once when process PID is gone)
  wait-results BROKERS SECONDS         read_committed results for every committed account version
  wait-liquidation BROKERS SECONDS     rbt-liq's instruction and liquidation state, committed
  check-outputs BROKERS                no output mentions the aborted records; which output
                                       partitions end in a transaction marker
  check-http HTTP_URL                  GET /v1/accounts/{id}: committed versions only
  check-metrics HTTP_URL               margin_restore_timeouts_total absent or 0
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = os.path.join(ROOT, "Schemas")
PROTOS = sorted(os.path.join("margin/v1", f) for f in os.listdir(os.path.join(SCHEMAS, "margin/v1")) if f.endswith(".proto"))

INSTRUMENTS = "margin.instruments.v1"
MARKET = "margin.market.v1"
PARAMS = "margin.params.v1"
ACCOUNTS = "margin.accounts.v1"
RESULTS = "margin.results.v1"
LIQUIDATIONS = "margin.liquidations.v1"
LIQ_STATE = "margin.liquidation-state.v1"
DEAD_LETTER = "margin.deadletter.v1"
RISK_FACTORS = "margin.riskfactors.v1"

# What the aborted transaction carries: a version no committed record has, an account that exists
# nowhere else, and a BTC snapshot with an index price no committed snapshot has.
ABORTED_VERSION = 999
GHOST = "rbt-ghost"
ABORTED_INDEX = 12345.0
# Committed account versions: (id, version) -> expected to be the latest the worker holds.
PLAIN_ACCOUNTS = ["rbt-1", "rbt-2", "rbt-3", "rbt-4", "rbt-5", "rbt-6", "rbt-liq"]
TX_ACCOUNTS = ["rbt-1", "rbt-2", "rbt-3", "rbt-4", "rbt-5", "rbt-6"]  # version 2, committed
EXPECTED_VERSIONS = {**{a: 1 for a in PLAIN_ACCOUNTS}, **{a: 2 for a in TX_ACCOUNTS}}


def fail(message):
    print(f"real-broker-test: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def encode(message, text):
    out = subprocess.run(["protoc", f"--encode=margin.v1.{message}", "-I", SCHEMAS, *PROTOS],
                         input=text.encode(), capture_output=True, cwd=SCHEMAS)
    if out.returncode != 0:
        fail(f"protoc --encode {message}: {out.stderr.decode()}")
    return out.stdout


def decode(message, data):
    out = subprocess.run(["protoc", f"--decode=margin.v1.{message}", "-I", SCHEMAS, *PROTOS],
                         input=data, capture_output=True, cwd=SCHEMAS)
    if out.returncode != 0:
        return None
    return out.stdout.decode()


def field(text, name):
    """First top-level `name: value` of protoc's text format."""
    for line in text.splitlines():
        if line.startswith(name + ": "):
            return line[len(name) + 2:].strip().strip('"')
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def wait_broker(brokers, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            AdminClient({"bootstrap.servers": brokers, "log_level": 0}).list_topics(timeout=2)
            return
        except Exception:
            time.sleep(0.3)
    fail(f"broker {brokers} not answering after {seconds} s")


def create_topics(brokers, partitions):
    admin = AdminClient({"bootstrap.servers": brokers})
    compact = {"cleanup.policy": "compact"}
    delete = {"cleanup.policy": "delete"}
    wanted = {
        ACCOUNTS: (partitions, compact), RESULTS: (partitions, compact),
        LIQUIDATIONS: (partitions, delete), LIQ_STATE: (partitions, compact),
        INSTRUMENTS: (1, compact), MARKET: (1, compact), PARAMS: (1, compact),
        RISK_FACTORS: (1, compact), DEAD_LETTER: (1, delete),
    }
    futures = admin.create_topics([NewTopic(t, n, 1, config=c) for t, (n, c) in wanted.items()], request_timeout=15)
    for topic, future in futures.items():
        try:
            future.result()
        except Exception as e:  # noqa: BLE001
            fail(f"create topic {topic}: {e}")
    metadata = admin.list_topics(timeout=10)
    for topic, (n, _) in wanted.items():
        got = len(metadata.topics[topic].partitions) if topic in metadata.topics else 0
        if got != n:
            fail(f"topic {topic} has {got} partitions, wanted {n}")
    print(f"topics: {len(wanted)} created (accounts, results, liquidations, liquidation-state: {partitions} partitions; others 1)")


def produce(brokers, now_ms):
    expiry = now_ms + 30 * 86_400_000
    perp = encode("Instrument", 'name: "BTC-PERPETUAL" underlying: "BTC" kind: INSTRUMENT_KIND_PERPETUAL '
                  'settlement: SETTLEMENT_LINEAR contract_size: 1 lot_size: 0.001 tick_size: 0.5')
    call = encode("Instrument", f'name: "BTC-C-60000" underlying: "BTC" kind: INSTRUMENT_KIND_OPTION '
                  f'settlement: SETTLEMENT_LINEAR contract_size: 1 lot_size: 0.1 tick_size: 0.5 '
                  f'expiry_ms: {expiry} strike: 60000 option_right: OPTION_RIGHT_CALL')

    def btc(ts, index):
        # Books with depth and 24 h volume: the planner instructs only what the book can absorb.
        return encode("MarketSnapshot", f'underlying: "BTC" timestamp_ms: {ts} index_price: {index} perpetual_mark: {index} '
                      f'expiries {{ expiry_ms: {expiry} forward: {index + 200} svi {{ a: 0.02 b: 0.05 rho: -0.2 m: 0 sigma: 0.2 }} }} '
                      f'books {{ instrument: "BTC-PERPETUAL" bid_price: {index - 10} bid_size: 50 ask_price: {index + 10} ask_size: 50 '
                      f'volume_24h: 20000 open_interest: 50000 }} '
                      f'books {{ instrument: "BTC-C-60000" bid_price: 4000 bid_size: 100 ask_price: 4200 ask_size: 100 '
                      f'volume_24h: 5000 open_interest: 20000 }}')
    usdc = encode("MarketSnapshot", f'underlying: "USDC" timestamp_ms: {now_ms} index_price: 1')

    def account(aid, version, balance, short_calls=2):
        return encode("AccountState", f'account_id: "{aid}" version: {version} balances {{ key: "USDC" value: {balance} }} '
                      f'positions {{ instrument: "BTC-C-60000" quantity: -{short_calls} }} '
                      f'positions {{ instrument: "BTC-PERPETUAL" quantity: 0.5 average_entry_price: 59000 }}')

    placed = {}  # (topic, key, value-tag) -> partition, offset

    def report(tag):
        def cb(err, msg):
            if err is not None:
                fail(f"delivery of {tag}: {err}")
            placed[tag] = (msg.topic(), msg.partition(), msg.offset())
        return cb

    common = {"bootstrap.servers": brokers, "partitioner": "murmur2_random", "enable.idempotence": True}
    # 1. Outside any transaction (idempotent producer): the BTC-PERPETUAL instrument and version 1
    #    of every account (short 2 calls, long 0.5 perpetual on 1,000,000 USDC: healthy); rbt-liq
    #    is short 20 calls on 1,000 USDC, far below maintenance, so the worker plans a liquidation
    #    and writes the liquidation-state topic.
    plain = Producer(common)
    plain.produce(INSTRUMENTS, key=b"BTC-PERPETUAL", value=perp, on_delivery=report("perp"))
    for aid in PLAIN_ACCOUNTS:
        value = account(aid, 1, 1000, 20) if aid == "rbt-liq" else account(aid, 1, 1000000)
        plain.produce(ACCOUNTS, key=aid.encode(), value=value, on_delivery=report(f"{aid}@1"))
    if plain.flush(15) != 0:
        fail("plain producer: records not delivered")

    tx = Producer({**common, "transactional.id": "real-broker-test-inputs"})
    tx.init_transactions(15)
    # 2. An aborted transaction across topics: version 999 of rbt-1, an account that exists
    #    nowhere else, and a newer BTC snapshot at a different index price.
    tx.begin_transaction()
    tx.produce(ACCOUNTS, key=b"rbt-1", value=account("rbt-1", ABORTED_VERSION, 1), on_delivery=report("aborted rbt-1"))
    tx.produce(ACCOUNTS, key=GHOST.encode(), value=account(GHOST, 1, 100000), on_delivery=report("aborted ghost"))
    tx.produce(MARKET, key=b"BTC", value=btc(now_ms + 1000, ABORTED_INDEX), on_delivery=report("aborted BTC"))
    tx.flush(15)
    tx.abort_transaction(15)
    # 3. A committed transaction: the option instrument, both markets and version 2 of six
    #    accounts, so that the instruments, market and accounts partitions end in a commit marker.
    tx.begin_transaction()
    tx.produce(INSTRUMENTS, key=b"BTC-C-60000", value=call, on_delivery=report("call"))
    tx.produce(MARKET, key=b"BTC", value=btc(now_ms, 60000.0), on_delivery=report("BTC"))
    tx.produce(MARKET, key=b"USDC", value=usdc, on_delivery=report("USDC"))
    for aid in TX_ACCOUNTS:
        tx.produce(ACCOUNTS, key=aid.encode(), value=account(aid, 2, 900000), on_delivery=report(f"{aid}@2"))
    tx.commit_transaction(15)
    tx.flush(5)
    if os.environ.get("RBT_TAIL_PLAIN") == "1":
        # Diagnostic variant: plain records after the transactions (replays the worker ignores),
        # so that the input partitions do not end in a marker and only the worker's own
        # transactional outputs do.
        plain.produce(INSTRUMENTS, key=b"BTC-PERPETUAL", value=perp, on_delivery=report("perp again"))
        plain.produce(MARKET, key=b"USDC", value=usdc, on_delivery=report("USDC again"))
        for aid in PLAIN_ACCOUNTS:
            value = account(aid, 1, 1000, 20) if aid == "rbt-liq" else account(aid, 1, 1000000)
            plain.produce(ACCOUNTS, key=aid.encode(), value=value, on_delivery=report(f"{aid}@1 again"))
        if plain.flush(15) != 0:
            fail("plain producer: records not delivered")
    committed_parts = {p for tag, (t, p, _) in placed.items() if t == ACCOUNTS and tag.endswith("@2")}
    print(f"produced: {len(placed)} records; accounts partitions with a committed transaction: {sorted(committed_parts)}; "
          f"aborted: rbt-1 v{ABORTED_VERSION} (partition {placed['aborted rbt-1'][1]}), {GHOST} (partition {placed['aborted ghost'][1]}), "
          f"BTC index {ABORTED_INDEX:g}")


def read_all(brokers, topic, isolation, seconds=20):
    """Every record of every partition of a topic, from the beginning to the partition-EOF event."""
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"rbt-reader-{os.getpid()}-{time.time()}",
                         "isolation.level": isolation, "enable.partition.eof": True, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "log_level": 3})
    metadata = consumer.list_topics(topic, timeout=10)
    partitions = sorted(metadata.topics[topic].partitions)
    ends = {}
    for p in partitions:
        ends[p] = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
    pending = {p for p in partitions if ends[p][1] > ends[p][0]}
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    records = []
    deadline = time.time() + seconds
    while pending and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                pending.discard(m.partition())
            continue
        records.append(m)
    consumer.close()
    if pending:
        fail(f"{isolation} reader of {topic}: no end-of-partition within {seconds} s for partitions {sorted(pending)}")
    return records, ends


def tails(records, ends):
    """Partitions whose last readable record is not the last offset (a control record follows)."""
    last = {}
    for m in records:
        last[m.partition()] = max(last.get(m.partition(), -1), m.offset())
    return {p: (last.get(p, -1), hi) for p, (lo, hi) in ends.items() if hi > lo and last.get(p, -1) + 1 < hi}


def check_inputs(brokers):
    problems = []
    for topic in (ACCOUNTS, MARKET):
        committed, ends = read_all(brokers, topic, "read_committed")
        uncommitted, _ = read_all(brokers, topic, "read_uncommitted")

        def aborted(m):
            if topic == ACCOUNTS:
                text = decode("AccountState", m.value()) or ""
                return m.key() == GHOST.encode() or field(text, "version") == str(ABORTED_VERSION)
            text = decode("MarketSnapshot", m.value()) or ""
            return field(text, "index_price") == f"{ABORTED_INDEX:g}"
        seen_c = [m.offset() for m in committed if aborted(m)]
        seen_u = [m.offset() for m in uncommitted if aborted(m)]
        if seen_c:
            problems.append(f"read_committed reader of {topic} sees aborted records at offsets {seen_c}")
        if not seen_u:
            problems.append(f"read_uncommitted reader of {topic} does not see the aborted records: the check proves nothing")
        marked = tails(committed, ends)
        unmarked = sorted(set(p for p, (lo, hi) in ends.items() if hi > lo) - set(marked))
        print(f"{topic}: read_committed {len(committed)} records, read_uncommitted {len(uncommitted)} "
              f"(aborted seen: {len(seen_u)} uncommitted / {len(seen_c)} committed); partitions ending in a control record "
              f"(last record offset, high watermark): {marked or 'none'}")
        if topic == ACCOUNTS and unmarked and os.environ.get("RBT_TAIL_PLAIN") != "1":
            problems.append(f"{topic} partitions {unmarked} do not end in a transaction marker")
    if problems:
        fail("; ".join(problems))


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body or b"null")
        except ValueError:
            return e.code, body.decode(errors="replace")
    except (urllib.error.URLError, OSError, ValueError):
        return None, None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:  # a zombie (exited, not yet reaped by the script) is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_restored(url, partitions, seconds, pid=None):
    start = time.time()
    last = None
    while time.time() - start < seconds:
        if pid is not None and not alive(pid):
            fail(f"the worker (pid {pid}) exited while restoring; last /ready: {json.dumps(last, sort_keys=True)}")
        code, body = get_json(url + "/ready")
        if isinstance(body, dict):
            last = body
            shards = sorted(body.get("shards", []))
            if body.get("reference_restored") and len(shards) == partitions and sorted(body.get("restored_shards", [])) == shards:
                print(f"restored after {time.time() - start:.1f} s: /ready {json.dumps(body, sort_keys=True)}")
                return
        time.sleep(0.5)
    fail(f"restore not complete after {seconds} s; last /ready: {json.dumps(last, sort_keys=True)}")


def results_by_account(brokers):
    records, ends = read_all(brokers, RESULTS, "read_committed")
    latest = {}
    for m in records:
        text = decode("MarginResult", m.value())
        if text is None:
            # The worker may be configured for JSON outputs.
            try:
                doc = json.loads(m.value())
                aid, version, health = doc.get("account_id"), int(doc.get("account_version", 0)), doc.get("health")
            except ValueError:
                continue
        else:
            aid, version, health = field(text, "account_id"), int(field(text, "account_version") or 0), field(text, "health")
        latest.setdefault(aid, []).append((version, health))
    return latest, records, ends


def wait_results(brokers, seconds):
    start = time.time()
    missing = None
    while time.time() - start < seconds:
        latest, records, _ = results_by_account(brokers)
        missing = sorted(a for a, v in EXPECTED_VERSIONS.items() if v not in [x for x, _ in latest.get(a, [])])
        if not missing:
            health = {a: vs[-1][1].replace("HEALTH_STATE_", "").lower() for a, vs in sorted(latest.items())}
            print(f"results: {len(records)} read_committed results, every committed account version margined; health {health}")
            return
        time.sleep(1)
    fail(f"no read_committed result after {seconds} s for {missing}")


def wait_liquidation(brokers, seconds):
    """rbt-liq's instruction and its liquidation-state record, committed (what the restart restores)."""
    start = time.time()
    while time.time() - start < seconds:
        state, _ = read_all(brokers, LIQ_STATE, "read_committed")
        instructions, _ = read_all(brokers, LIQUIDATIONS, "read_committed")
        if any(m.key() == b"rbt-liq" for m in state) and any(m.key() == b"rbt-liq" for m in instructions):
            print(f"liquidation: rbt-liq instructed, its state committed to {LIQ_STATE} after {time.time() - start:.1f} s")
            return
        time.sleep(1)
    fail(f"no committed liquidation instruction and {LIQ_STATE} record for rbt-liq after {seconds} s")


def check_outputs(brokers):
    latest, records, ends = results_by_account(brokers)
    problems = []
    if GHOST in latest:
        problems.append(f"results topic has results for the aborted account {GHOST}: {latest[GHOST]}")
    bad = sorted(a for a, vs in latest.items() if any(v == ABORTED_VERSION for v, _ in vs))
    if bad:
        problems.append(f"results topic has results for aborted version {ABORTED_VERSION} of {bad}")
    summary = [f"{RESULTS}: {len(records)} results; partitions ending in a commit marker: {sorted(tails(records, ends)) or 'none'}"]
    if not tails(records, ends):
        problems.append(f"no {RESULTS} partition ends in a commit marker: the restart would not restore from transactional topics")
    for topic in (LIQUIDATIONS, LIQ_STATE):
        recs, e = read_all(brokers, topic, "read_committed")
        if any(m.key() == GHOST.encode() for m in recs):
            problems.append(f"{topic} has records for the aborted account {GHOST}")
        summary.append(f"{topic}: {len(recs)} records (keys {sorted({m.key().decode() for m in recs})}); "
                       f"partitions ending in a commit marker: {sorted(tails(recs, e)) or 'none'}")
        if topic == LIQ_STATE and not tails(recs, e):
            problems.append(f"no {LIQ_STATE} partition ends in a commit marker (rbt-liq was not planned?): "
                            "the restart's liquidation-state restore would not be tested")
    print("outputs: " + "; ".join(summary))
    if problems:
        fail("; ".join(problems))


def check_http(url, seconds=10):
    deadline = time.time() + seconds
    while True:
        problems = http_problems(url)
        if not problems or time.time() > deadline:
            break
        time.sleep(0.5)
    if problems:
        fail("; ".join(problems))
    print(f"http: {len(EXPECTED_VERSIONS)} accounts at their committed versions, {GHOST} unknown (404), no aborted BTC index")


def http_problems(url):
    problems = []
    for aid, version in EXPECTED_VERSIONS.items():
        code, body = get_json(f"{url}/v1/accounts/{aid}")
        if code != 200 or not isinstance(body, dict):
            problems.append(f"GET /v1/accounts/{aid}: {code} {body}")
            continue
        got = int(body.get("account_version", 0))
        if got != version:
            problems.append(f"GET /v1/accounts/{aid}: account_version {got}, committed {version}")
        for unit in body.get("risk_units", []):
            if unit.get("underlying") == "BTC" and float(unit.get("index_price", 0)) == ABORTED_INDEX:
                problems.append(f"GET /v1/accounts/{aid}: BTC index {ABORTED_INDEX:g} from the aborted snapshot")
    code, body = get_json(f"{url}/v1/accounts/{GHOST}")
    if code != 404:
        problems.append(f"GET /v1/accounts/{GHOST} (aborted): {code} {body}, expected 404")
    return problems


def check_metrics(url):
    """Restore ended at the partitions' ends, not by the restore timeout."""
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
            text = r.read().decode()
    except (urllib.error.URLError, OSError) as e:
        fail(f"GET /metrics: {e}")
    fired = [line for line in text.splitlines()
             if line.startswith("margin_restore_timeouts_total") and float(line.rsplit(" ", 1)[1]) > 0]
    if fired:
        fail("restore timeouts counted: " + "; ".join(fired))
    print("metrics: no restore timeout counted")


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "free-port":
        free_port()
    elif cmd == "wait-broker":
        wait_broker(args[0], float(args[1]))
    elif cmd == "create-topics":
        create_topics(args[0], int(args[1]))
    elif cmd == "produce":
        produce(args[0], int(args[1]))
    elif cmd == "check-inputs":
        check_inputs(args[0])
    elif cmd == "wait-restored":
        wait_restored(args[0], int(args[1]), float(args[2]), int(args[3]) if len(args) > 3 else None)
    elif cmd == "wait-results":
        wait_results(args[0], float(args[1]))
    elif cmd == "wait-liquidation":
        wait_liquidation(args[0], float(args[1]))
    elif cmd == "check-outputs":
        check_outputs(args[0])
    elif cmd == "check-http":
        check_http(args[0])
    elif cmd == "check-metrics":
        check_metrics(args[0])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
