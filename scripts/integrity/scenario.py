"""The scenario driver: its phases, in order, with the seeds and timings of the original script.

Two workers on a dev-broker; a market crash; partial fills of some instructions (new account
versions); a rebound that makes some accounts recover (cancels); a SIGKILL of the worker owning
accounts partition 0; bad records produced while its partitions have no owner; its restart with
the same instance id; a second crash (--crash-during-rejoin: as soon as the restarted worker
serves, during its rebalance). The SIGKILL is sent when the outputs are quiet: the embedded
broker's read_committed does not hide aborted records, so a transaction cut in the middle would
show records a real broker hides (and look like duplicates with other contents)."""

import json
import os
import random
import signal
import subprocess
import time

from . import proto
from .accounts import apply_first_leg, deposit, generate_accounts
from .analysis import outstanding_by_account
from .bad_records import produce_bad_records
from .common import ScenarioError, elapsed, log, wait_for
from .http_io import account_path, http_get, liquidation_status
from .kafka_io import LiveReader, Producer, partition_of
from .market import Market
from .procs import Worker, all_partitions_owned, start_process, tail
from .topics import TOPICS


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
        self.phase_times.append((name, elapsed()))
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
            state = proto.account_pb2.AccountState(account_id=f"acct-nomarket-{n}", version=1, balances={"USDC": 10000.0 + n})
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
        self.bad = produce_bad_records(self, orphaned)
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

        if not self.args.crash_during_rejoin:
            self.graceful_stop_under_load()

        self.phase("crash 2: BTC -35 %, ETH -30 %, vol up")
        before = len(self.reader.instructions)
        self.publish_market(move_btc=0.65, move_eth=0.70, vol=1.0, rho=-0.6)
        self.producer.flush()
        self.soft_wait(lambda: len(self.reader.instructions) > before, 60, "instructions after the second crash")
        self.wait_quiet("outputs to settle after the second crash", quiet=4.0, timeout=60)
        self.settle_pending()
        self.health_snapshot("after crash 2")
        self.reader.stop()

    def graceful_stop_under_load(self, rate=200, seconds=3.0, stop_after=1.0):
        """SIGTERM one worker while `rate` account updates/s arrive: its last batch is committed
        before it leaves the group (no aborted transaction), it exits 0 within the Deployment's
        terminationGracePeriodSeconds, the survivor takes its partitions over, and every version sent
        meanwhile gets a result of its own (test_results). Then it is started again."""
        victim, survivor = self.workers[1], self.workers[0]
        self.phase(f"graceful stop under load: SIGTERM {victim.instance} while {rate} account updates/s arrive")
        ids = sorted(a for a in self.accounts if a not in self.error_accounts)
        log_offset = os.path.getsize(victim.log_path)
        start, sent, term_at, exited_at = time.monotonic(), 0, None, None
        while time.monotonic() - start < seconds:
            state = self.accounts[self.rng.choice(ids)]
            # Past every version used so far, the refused (dead-lettered) ones included.
            refused = [v for a, v in getattr(self, "refused_versions", set()) if a == state.account_id]
            self.send_account(deposit(state, refused))
            sent += 1
            now = time.monotonic()
            if term_at is None and now - start >= stop_after:
                term_at = now
                os.kill(victim.proc.pid, signal.SIGTERM)
            if term_at is not None and exited_at is None and victim.proc.poll() is not None:
                exited_at = time.monotonic()
            time.sleep(max(0.0, start + sent / rate - time.monotonic()))
        self.producer.flush()
        try:
            code = victim.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            code = None
        if exited_at is None and code is not None:
            exited_at = time.monotonic()
        wait_for(lambda: all_partitions_owned([survivor], self.partitions), 60,
                 f"{survivor.instance} to own and restore every partition")
        takeover = time.monotonic() - term_at
        with open(victim.log_path, "rb") as f:
            f.seek(log_offset)
            lines = f.read().decode("utf-8", "replace").splitlines()
        problems = [line for line in lines if any(w in line for w in ("transaction failed", "purge", " error ", " critical "))]
        self.evidence["graceful_stop"] = {
            "updates_sent": sent, "exit_code": code, "exit_seconds": None if exited_at is None else round(exited_at - term_at, 2),
            "takeover_seconds": round(takeover, 2), "log_problems": problems,
        }
        log(f"  {sent} updates sent; {victim.instance} exited {code} after "
            f"{self.evidence['graceful_stop']['exit_seconds']} s; {survivor.instance} held every partition {takeover:.1f} s after SIGTERM")
        self.phase(f"restart {victim.instance} after the graceful stop")
        victim.start()
        wait_for(lambda: all_partitions_owned(self.workers, self.partitions), 90,
                 "both workers ready again with every partition restored")
        self.soft_wait(self.all_versions_resulted, 45, "a result for every account version sent during the stop")
        self.wait_quiet("outputs to settle after the graceful stop")

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

    def settle_pending(self):
        """`pending` (Schemas/README.md) means planned at the next window: poll GET /v1/accounts of
        the liquidatable accounts until none is pending (bounded), then let the outputs settle."""
        with self.reader.lock:
            ids = sorted(a for a, r in self.reader.results.items()
                         if r[-1][1] in (proto.result_pb2.HEALTH_STATE_LIQUIDATABLE, proto.result_pb2.HEALTH_STATE_BANKRUPT))
        holder = {}

        def pending():
            found = []
            sweep_deadline = time.monotonic() + 10
            for a in ids:
                if time.monotonic() > sweep_deadline:
                    return [None]
                for w in ([holder[a]] if a in holder else self.workers):
                    status, body = http_get(w.port, account_path(a))
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
        names = {v: k.replace("HEALTH_STATE_", "").lower() for k, v in proto.result_pb2.HealthState.items()}
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
