"""scripts/soak: one worker on a dev-broker holds many accounts for minutes under market ticks and
account updates, with a SIGTERM and a restart part-way, watched from outside (confluent-kafka,
protoc-generated classes, HTTP, /proc). Checks, each printed with its figure (exit 1 when one fails):

  - the stop: SIGTERM under load ends in exit 0 within the Deployment's grace period (90 s);
  - catch-up: after the restart, no version older than 1 s is left unanswered within 30 s of the
    new process's start, versions produced since the restart included (the outside view of consumer
    lag back to 0);
  - every produced account version is answered by a result carrying it;
  - once the load stops and the outputs settle, GET /v1/accounts/{id} equals every account's last
    published result: version and health exactly, MM and IM within `publish_threshold` (a market
    move below it is not republished, by design);
  - no `error` or `critical` line in the worker's log;
  - memory: the RSS slope after warm-up, per process life, at most 1 % of its mean per minute
    (judged only over windows of at least 2.5 minutes; shorter ones are reported, too noisy to judge);
  - `/ready`, `/metrics` and `GET /v1/accounts/{id}`, probed every 100 ms: p99 at most 50 ms;
  - with `--what-if RATE` (load.py): valid 10-position what-ifs answered 200 at p99 at most 20 ms,
    junk bodies refused with 400, and the tick reflection's p99 with what-if load within 20 % of
    its p99 without (judged with at least 200 ticks of each).

Traffic stays on 127.0.0.1; every loop is bounded in time.

Usage: python3 -m integrity.soak BINARY [--accounts 20000] [--minutes 10] [--restart-at 5]
       [--tick-ms 500] [--swing 0.5] [--updates 200] [--warmup 2] [--partitions 48] [--seed 1]
       [--no-restart] [--what-if RATE] [--params-id calibrated] [--report FILE] [--keep]
"""

import argparse
import collections
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time

from . import proto
from .accounts import deposit, generate_accounts
from .http_io import account_path, http_get
from .kafka_io import Producer, consumer_config
from .load import WINDOW_S, ProbeRun, Reflection, judge_load, tick_phase
from .market import Market
from .procs import Worker, all_partitions_owned, start_process, stop_all, tail
from .topics import TOPICS
from .watch import CpuShares, ResultFollower, rss_mib, say, slope_percent_per_minute

GRACE_PERIOD_S = 90       # terminationGracePeriodSeconds in Deploy/kubernetes/deployment.yaml
CATCH_UP_LIMIT_S = 30
RSS_SLOPE_LIMIT = 1.0     # % of the mean RSS per minute
JUDGED_WINDOW_S = 150
PUBLISH_THRESHOLD = 0.01  # the worker's default publish_threshold


class Soak:
    def __init__(self, args, workdir):
        self.args, self.workdir = args, workdir
        self.rng = random.Random(args.seed)
        self.failures, self.figures = [], {}
        self.reflection = Reflection()
        self.restarts = []  # (SIGTERM, caught up) in time.monotonic(): left out of the load figures

    def check(self, ok, what):
        say(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)

    def start(self):
        args = self.args
        bootstrap = os.path.join(self.workdir, "bootstrap")
        self.broker = start_process([args.binary, "dev-broker", "--brokers", "1", "--partitions", str(args.partitions),
                                     "--bootstrap-file", bootstrap], os.path.join(self.workdir, "broker.log"))
        deadline = time.monotonic() + 30
        while not (os.path.exists(bootstrap) and open(bootstrap).read().strip()):
            if self.broker.poll() is not None or time.monotonic() > deadline:
                sys.exit("soak: the dev-broker did not start:\n" + tail(os.path.join(self.workdir, "broker.log")))
            time.sleep(0.1)
        self.brokers = open(bootstrap).read().strip()
        self.producer = Producer(self.brokers)
        self.market = Market(int(time.time() * 1000))
        self.move = {"BTC": 1.0, "ETH": 1.0}
        for inst in self.market.instruments:
            self.producer.send(TOPICS["instruments"], inst.name, inst.SerializeToString())
        self.tick()
        self.accounts, self.produced = {}, collections.deque()  # produced: (monotonic time, account, version)
        self.sent_versions = 0
        for _, state in generate_accounts(self.rng, self.market, args.accounts):
            self.send(state)
        self.producer.flush(timeout=120)
        self.ids = sorted(self.accounts)
        say(f"{args.accounts} accounts produced on {args.partitions} partitions")
        self.follower = ResultFollower(self.brokers, self.reflection)
        self.follower.start()
        settings = ["session_timeout_ms=6000", "stale_after_ms=900000"]
        if args.params_id:
            # The Deployment's set: a calibrator publishes it from the market topic (bundled history).
            start_process([args.binary, "calibrator", "--brokers", self.brokers, "--params-id", args.params_id,
                           "--instance-id", "soak-calibrator", "--log-level", "notice"], os.path.join(self.workdir, "calibrator.log"))
            settings.append(f"params_id={args.params_id}")
        self.worker = Worker(args.binary, self.brokers, "soak", self.workdir, settings)
        self.worker.start()
        self.wait(lambda: all_partitions_owned([self.worker], args.partitions), 300, "the worker to restore every partition")
        say(f"worker ready (pid {self.worker.proc.pid})")

    def wait(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return True
            except Exception:  # noqa: BLE001 (not up yet)
                pass
            time.sleep(0.25)
        sys.exit(f"soak: timed out after {timeout} s waiting for {what}\n" + tail(self.worker.log_path))

    def send(self, state):
        self.producer.send(TOPICS["accounts"], state.account_id, state.SerializeToString())
        self.accounts[state.account_id] = state
        self.produced.append((time.monotonic(), state.account_id, state.version))

    def tick(self, phase=None):
        """Every underlying's snapshot: BTC and ETH swing ±`--swing` % (0.5) around their opening
        over two minutes with a little noise (most margins move less than the publish threshold: the
        load is the re-margining, not a flood of republished results). `phase`: how the tick's
        reflection is judged (load.Reflection)."""
        ts = int(time.time() * 1000)
        angle = 2 * math.pi * time.monotonic() / 120
        swing = self.args.swing / 100
        self.move["BTC"] = 1 + swing * math.sin(angle) + self.rng.gauss(0, 0.0005)
        self.move["ETH"] = 1 + swing * math.cos(angle) + self.rng.gauss(0, 0.0005)
        self.reflection.tick(ts, phase)
        for u, move in (("BTC", self.move["BTC"]), ("ETH", self.move["ETH"]), ("USDC", 1.0)):
            self.producer.send(TOPICS["market"], u, self.market.snapshot(u, ts, move, 0.6, -0.25).SerializeToString())

    def update(self):
        self.send(deposit(self.accounts[self.rng.choice(self.ids)]))
        self.sent_versions += 1

    def unanswered_before(self, cutoff):
        """Drops answered versions from the front; the oldest unanswered one's time, if before `cutoff`."""
        with self.follower.lock:
            while self.produced and (self.produced[0][1], self.produced[0][2]) in self.follower.answered:
                self.produced.popleft()
        return self.produced[0][0] if self.produced and self.produced[0][0] < cutoff else None

    def run_load(self):
        args = self.args
        start = time.monotonic()
        end, restart_at = start + args.minutes * 60, start + args.restart_at * 60
        lives = [{"start": start, "samples": []}]
        next_tick = next_sample = next_check = start
        sent, stop_at, caught_up = 0, None, None
        if args.no_restart:
            restart_at = math.inf
        # What-if windows (probe.py) and tick phases count from the start of the load.
        self.probes = ProbeRun(self.workdir, self.ids[0], args.what_if, origin=start)
        self.probes.start(self.worker.port)
        cpu = CpuShares()
        while (now := time.monotonic()) < end:
            restarting = stop_at is not None and caught_up is None  # left out of the load figures
            if now >= next_tick:
                self.tick(None if restarting else tick_phase(now, start, args.what_if))
                next_tick += args.tick_ms / 1000
            while sent < int((now - start) * args.updates):
                self.update()
                sent += 1
            if now >= next_sample:
                next_sample += 5
                # Samples 5 s apart from the start of the load: a what-if window holds six of them.
                cpu.sample(now, None if restarting else tick_phase(now - 2.5, start, args.what_if),
                           {"worker": self.worker.proc.pid, "broker": self.broker.pid, "probes": self.probes.pid, "soak": os.getpid()})
                if self.worker.alive() and stop_at in (None, math.inf):
                    rss = rss_mib(self.worker.proc.pid)
                    if rss is not None:
                        lives[-1]["samples"].append((now, rss))
            if stop_at is None and now >= restart_at:
                stop_at = stop_at_time = now
                say(f"SIGTERM at {now - start:.0f} s (RSS {rss_mib(self.worker.proc.pid)} MiB)")
                self.probes.stop()
                os.kill(self.worker.proc.pid, signal.SIGTERM)
            if stop_at is not None and "exit" not in self.figures and self.worker.proc.poll() is not None:
                self.figures["exit"] = {"code": self.worker.proc.returncode, "seconds": round(now - stop_at, 2)}
                say(f"exited {self.worker.proc.returncode} after {now - stop_at:.2f} s; restarting")
                self.worker.start()
                lives.append({"start": time.monotonic(), "samples": []})
                self.probes.start(self.worker.port)
                stop_at = math.inf
            if stop_at == math.inf and caught_up is None and now >= next_check:
                next_check = now + 0.25
                # Caught up: no version older than 1 s unanswered, counted only once the versions
                # produced after the restart (which the new process alone can answer) are included.
                cutoff = now - 1
                if cutoff > lives[-1]["start"] + 1 and self.unanswered_before(cutoff) is None and self.worker.alive():
                    caught_up = now - lives[-1]["start"]
                    self.restarts.append((stop_at_time, now))
                    self.figures["catch_up_seconds"] = round(caught_up, 1)
                    say(f"caught up {caught_up:.1f} s after the restart")
            if stop_at is not None and stop_at != math.inf and now - stop_at > GRACE_PERIOD_S:
                self.check(False, f"the worker did not exit within {GRACE_PERIOD_S} s of SIGTERM")
                self.worker.proc.kill()
                self.worker.proc.wait()
            time.sleep(0.005)
        if stop_at is not None and caught_up is None:
            self.restarts.append((stop_at_time, math.inf))
        self.producer.flush(timeout=60)
        self.probes.stop()
        self.figures["cpu_cores"] = cpu.summary()
        say(f"cores used per phase (what-if load): {self.figures['cpu_cores']}")
        self.figures["updates_sent"] = sent
        self.lives = lives

    def settle(self):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.unanswered_before(math.inf) is None:
                break
            time.sleep(0.5)
        missing = list(self.produced)
        if missing:
            # The embedded broker keeps about 5 MiB per partition: results it dropped before the
            # follower read them would look missing. Say so (use more --partitions or a real broker).
            from confluent_kafka import Consumer, TopicPartition
            consumer = Consumer(consumer_config(self.brokers, "soak-watermarks"))
            dropped = {p: consumer.get_watermark_offsets(TopicPartition(TOPICS["results"], p), timeout=10)[0]
                       for p in range(self.args.partitions)}
            consumer.close()
            if any(dropped.values()):
                say(f"note the broker dropped the start of results partitions (low watermarks {dropped}): "
                    "missing versions may have been dropped before they were read")
        self.check(not missing, f"every produced version answered by a result carrying it ({len(missing)} missing"
                   + (f", e.g. {missing[0][1]} v{missing[0][2]}" if missing else "") + ")")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and time.monotonic() - self.follower.last_record < 3:
            time.sleep(0.5)

    def compare_http(self):
        with self.follower.lock:
            latest = dict(self.follower.latest)
        differ = []
        for account_id in self.ids:
            status, body = http_get(self.worker.port, account_path(account_id), timeout=10)
            published = latest.get(account_id)
            if status != 200 or published is None:
                differ.append(f"{account_id}: HTTP {status}, published {published}")
                continue
            answer = json.loads(body)
            version, mm, im, health = published
            if int(answer.get("account_version", 0)) != version or answer.get("health") != health \
                    or abs(answer.get("maintenance_requirement", 0.0) - mm) > PUBLISH_THRESHOLD * abs(mm) + 1e-6 \
                    or abs(answer.get("initial_requirement", 0.0) - im) > PUBLISH_THRESHOLD * abs(im) + 1e-6:
                differ.append(f"{account_id}: published v{version} {health} MM {mm:.2f} IM {im:.2f}; HTTP v{answer.get('account_version')} "
                              f"{answer.get('health')} MM {answer.get('maintenance_requirement')} IM {answer.get('initial_requirement')}")
        self.figures["http_compared"] = len(self.ids)
        self.check(not differ, f"GET /v1/accounts/{{id}} equals the last published result for all {len(self.ids)} accounts"
                   + (f" ({len(differ)} differ, e.g. {differ[0]})" if differ else ""))

    def judge(self):
        args = self.args
        if not args.no_restart:
            exit_ = self.figures.get("exit")
            self.check(exit_ is not None and exit_["code"] == 0 and exit_["seconds"] <= GRACE_PERIOD_S,
                       f"SIGTERM under load: exit {exit_ and exit_['code']} after {exit_ and exit_['seconds']} s (grace {GRACE_PERIOD_S} s)")
            catch_up = self.figures.get("catch_up_seconds")
            self.check(catch_up is not None and catch_up <= CATCH_UP_LIMIT_S,
                       f"caught up {catch_up} s after the restart (limit {CATCH_UP_LIMIT_S} s)")
        slopes = []
        for n, life in enumerate(self.lives, 1):
            samples = [(t, r) for t, r in life["samples"] if t - life["start"] >= args.warmup * 60]
            window = samples[-1][0] - samples[0][0] if len(samples) > 1 else 0
            slope = slope_percent_per_minute(samples)
            rss = [r for _, r in life["samples"]]
            slopes.append({"life": n, "window_s": round(window), "slope_percent_per_min": None if slope is None else round(slope, 3),
                           "rss_mib_first": round(rss[0]) if rss else None, "rss_mib_last": round(rss[-1]) if rss else None})
            text = (f"RSS slope after {args.warmup} min warm-up, process {n}: "
                    + ("n/a" if slope is None else f"{slope:+.2f} %/min") + f" over {window:.0f} s"
                    + (f" (RSS {rss[0]:.0f} → {rss[-1]:.0f} MiB)" if rss else ""))
            if window >= JUDGED_WINDOW_S and slope is not None:
                self.check(slope <= RSS_SLOPE_LIMIT, text + f" (limit {RSS_SLOPE_LIMIT} %/min)")
            else:
                say("note " + text + f" — window under {JUDGED_WINDOW_S} s, reported, not judged")
        self.figures["rss"] = slopes
        with open(self.worker.log_path, "rb") as f:
            bad = [line for line in f.read().decode("utf-8", "replace").splitlines() if " error " in line or " critical " in line]
        judge_load(self)
        self.check(not bad, f"no error or critical line in the worker's log ({len(bad)} found" + (f": {bad[0]}" if bad else "") + ")")


def main():
    parser = argparse.ArgumentParser(prog="scripts/soak")
    parser.add_argument("binary")
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--restart-at", type=float, default=5, help="minutes into the load")
    parser.add_argument("--tick-ms", type=int, default=500)
    parser.add_argument("--swing", type=float, default=0.5, help="BTC and ETH swing ± this many percent over two minutes")
    parser.add_argument("--updates", type=float, default=200, help="account updates per second")
    parser.add_argument("--warmup", type=float, default=2, help="minutes after each start left out of the RSS slope")
    parser.add_argument("--partitions", type=int, default=48,
                        help="of the accounts topic and its outputs (the embedded broker keeps about 5 MiB per partition)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-restart", action="store_true", help="no SIGTERM and restart (a load measurement)")
    parser.add_argument("--what-if", type=float, default=0, metavar="RATE",
                        help="POST /v1/what-if RATE times a second, every second 30-s window (load.py)")
    parser.add_argument("--params-id", help="run a calibrator for this parameter set and margin with it (the Deployment: calibrated)")
    parser.add_argument("--report", help="write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)
    workdir = tempfile.mkdtemp(prefix="soak-")
    proto.load(workdir)
    soak = Soak(args, workdir)
    started = time.monotonic()
    try:
        say(f"{args.binary}: {args.accounts} accounts, {args.minutes} min, ticks every {args.tick_ms} ms (±{args.swing} %), "
            f"{args.updates:.0f} updates/s, " + ("no restart" if args.no_restart else f"SIGTERM + restart at {args.restart_at} min")
            + (f", {args.what_if:g} what-if/s in alternate {WINDOW_S}-s windows" if args.what_if else "")
            + (f", parameters {args.params_id}" if args.params_id else "") + f"; work dir {workdir}")
        soak.start()
        soak.run_load()
        soak.settle()
        soak.compare_http()
        soak.judge()
    finally:
        if hasattr(soak, "probes"):
            soak.probes.stop()
        if hasattr(soak, "follower"):
            soak.follower.stop()
        if hasattr(soak, "producer"):
            soak.producer.producer.flush(10)
            del soak.producer  # closes the client before the broker goes away
        stop_all()
    soak.figures["seconds"] = round(time.monotonic() - started)
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"settings": vars(args), "figures": soak.figures, "failures": soak.failures}, f, indent=1)
    say("figures " + json.dumps(soak.figures))
    if soak.failures:
        say(f"{len(soak.failures)} check(s) failed; logs in {workdir}")
        sys.exit(1)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    say("ok")


if __name__ == "__main__":
    main()
