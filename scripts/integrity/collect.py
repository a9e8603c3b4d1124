"""After the scenario: every output topic read from the beginning (isolation.level=read_committed),
decoded; the workers' HTTP answers; the views the contracts share; the run summary and evidence."""

import json
import os
import time

import pytest

from . import proto
from .analysis import (dead_letters_by_source, dump_topics, latest_results, liquidation_coverage,
                       outstanding_by_account)
from .common import count_by, elapsed, log
from .http_io import fetch_accounts
from .kafka_io import read_all
from .topics import OUTPUT_TOPICS, TOPICS


class Outputs:
    """What the scenario left behind, as the tests read it (one instance per pytest session)."""

    def __init__(self, run, evidence_limit):
        self.run = run
        self.evidence_limit = evidence_limit
        self.failures = []  # (assertion, summary, evidence lines), written to evidence.json
        self.notes = []
        self.summary = {}

    def fail(self, assertion, summary, evidence):
        """Fails the calling test with the assertion, its summary and the first evidence lines (all of
        them go to evidence.json in the work directory, kept when a test fails)."""
        self.failures.append((assertion, summary, evidence))
        lines = [f"FAIL {assertion}: {summary}"] + [f"    {line}" for line in evidence[: self.evidence_limit]]
        if len(evidence) > self.evidence_limit:
            lines.append(f"    ... {len(evidence) - self.evidence_limit} more in {self.run.workdir}/evidence.json")
        pytest.fail("\n".join(lines), pytrace=False)

    def write_evidence(self, failed):
        with open(os.path.join(self.run.workdir, "evidence.json"), "w") as f:
            json.dump({"summary": self.summary, "evidence": self.run.evidence,
                       "failures": [{"assertion": a, "summary": s, "evidence": e} for a, s, e in self.failures]},
                      f, indent=1, default=str)
        if failed:
            dump_topics(self, os.path.join(self.run.workdir, "topics.jsonl"))


def collect(run, evidence_limit):
    o = Outputs(run, evidence_limit)
    log("final read of every output topic from the beginning (read_committed)")
    o.check_time_ms = int(time.time() * 1000)
    o.records, o.low_moved, o.eof_below = read_all(run.brokers, OUTPUT_TOPICS + [TOPICS["accounts"]])
    if o.eof_below:
        o.notes.append(f"partitions read up to their last stable offset only (open transaction): {o.eof_below}")

    # Decoded results and instructions (a record that does not decode keeps message None: the
    # decodability contract reports it), dead letters with their message-id.
    o.results, o.instructions, o.dead_letters = [], [], []
    for topic in (TOPICS["results"], TOPICS["liquidations"]):
        cls = proto.result_pb2.MarginResult if topic == TOPICS["results"] else proto.result_pb2.LiquidationInstruction
        for r in o.records[topic]:
            r["content_type"] = (r["headers"].get("content-type") or [None])[0]
            r["message_id"] = (r["headers"].get("message-id") or [None])[0]
            r["message"] = None if r["value"] is None else proto.decode(cls, r["value"], r["content_type"])
            if r["message"] is not None:
                (o.results if topic == TOPICS["results"] else o.instructions).append(r)
    for r in o.records[TOPICS["deadletter"]]:
        r["message_id"] = (r["headers"].get("message-id") or [None])[0]
        o.dead_letters.append(r)
    o.state_records = o.records[TOPICS["state"]]

    # Shared views.
    o.latest = latest_results(o.results)
    o.ordered = sorted(o.instructions, key=lambda r: (r["partition"], r["offset"]))
    o.instr_msgs = [r["message"] for r in o.ordered]
    o.outstanding = outstanding_by_account(o.instr_msgs)
    o.issued = {}
    for m in o.instr_msgs:
        if not m.cancel:
            o.issued.setdefault(m.id, m)
    o.cancelled = {m.id for m in o.instr_msgs if m.cancel}
    o.superseded = {m.supersedes for m in o.instr_msgs if not m.cancel and m.supersedes}
    o.dead_letters_by_source = dead_letters_by_source(o.dead_letters)
    for b in run.bad:
        found = o.dead_letters_by_source.get((b["topic"], b["partition"], b["offset"]))
        if found:
            d = found[0]
            b["dead_letter"] = {"reason": (d["headers"].get("dlq-reason") or [""])[0],
                                "error": (d["headers"].get("dlq-error") or [""])[0], "copies": len(found)}

    o.http = fetch_accounts(run.workers, sorted(run.accounts))
    o.coverage = liquidation_coverage(o)
    o.dead_workers = [w for w in run.workers if not w.alive()]

    c = o.coverage
    issued = o.issued.values()
    o.summary = {
        "records": {t: len(r) for t, r in o.records.items()},
        "accounts": len(run.accounts), "results": len(o.results),
        "result_ids": len({r["message"].result_id for r in o.results}),
        "instructions": len(o.issued), "instruction_records": len(o.instructions),
        "cancels": sum(1 for m in o.instr_msgs if m.cancel),
        "superseding": sum(1 for m in issued if m.supersedes), "later_rounds": sum(1 for m in issued if m.plan_round > 0),
        "dead_letters": len(o.dead_letters), "bad_records": len(run.bad),
        "bad_dead_lettered": sum(1 for b in run.bad if b.get("dead_letter")),
        "liquidatable_latest": len(c.liquidatable), "instructed": len(c.covered),
        "waiting_with_reason": count_by(w.split(": ")[1] for w in c.waiting),
        "uncovered": len(c.uncovered), "http_answers": sum(1 for h in o.http.accounts.values() if h.get("status") == 200),
    }
    run.evidence["waiting_with_reason"] = c.waiting
    run.evidence["bad_records"] = [{"what": b["meta"]["bad"], "topic": b["topic"], "partition": b["partition"],
                                    "offset": b["offset"], "key": b["key"], "dead_letter": b.get("dead_letter")} for b in run.bad]
    o.elapsed = elapsed()
    return o


def summary_lines(o):
    """The run's summary, as the original script printed it after its checks."""
    lines = [f"summary ({o.elapsed:.0f}s): " + json.dumps(o.summary, sort_keys=True),
             "phases: " + ", ".join(f"{name} @{t:.0f}s" for name, t in o.run.phase_times)]
    lines += [f"waiting (as GET /v1/accounts says): {line}" for line in o.run.evidence.get("waiting_with_reason", [])[:3]]
    lines += [f"note: {note}" for note in o.notes]
    return lines
