"""Views of the collected outputs that several contracts (and the run summary) share: the latest
result per account, the outstanding instructions, dead letters by source, and which liquidatable
accounts are covered. Pure functions over decoded records; the assertions are in the test modules."""

import json

from . import proto
from .http_io import WAIT_REASONS, liquidation_status


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


def latest_results(results):
    """account -> its last result (topic order within the account's partition)."""
    latest = {}
    for r in results:
        latest[r["message"].account_id] = r
    return latest


def where(r):
    """A record's place, for evidence: topic[partition]@offset and its timestamp."""
    return f"{r['topic'].split('.')[1]}[{r['partition']}]@{r['offset']} ts {r['timestamp_ms']}"


def dead_letter_source(r):
    """(dlq-source-topic, partition, offset) of a dead letter, or None when the headers do not parse."""
    h = r["headers"]
    try:
        return ((h.get("dlq-source-topic") or [None])[0], int((h.get("dlq-source-partition") or ["-1"])[0]),
                int((h.get("dlq-source-offset") or ["-1"])[0]))
    except ValueError:
        return None


def dead_letters_by_source(dead_letters):
    by_source = {}
    for r in dead_letters:
        by_source.setdefault(dead_letter_source(r), []).append(r)
    return by_source


class Coverage:
    """The liquidatable accounts (latest result LIQUIDATABLE or BANKRUPT; STALE is its own health)
    sorted into: instructed for their version, waiting with a documented reason over HTTP, neither."""

    def __init__(self):
        self.liquidatable, self.covered, self.waiting = [], [], []
        self.uncovered, self.uncovered_kinds = [], []


def liquidation_coverage(outputs):
    run, latest, outstanding, http = outputs.run, outputs.latest, outputs.outstanding, outputs.http.accounts
    H = proto.result_pb2
    c = Coverage()
    c.liquidatable = sorted(a for a, r in latest.items()
                            if r["message"].health in (H.HEALTH_STATE_LIQUIDATABLE, H.HEALTH_STATE_BANKRUPT))
    for a in c.liquidatable:
        res = latest[a]["message"]
        o = outstanding.get(a)
        if o is not None and o.account_version == res.account_version:
            c.covered.append(a)
            continue
        status = liquidation_status(http.get(a, {}).get("json"))
        if status.get("state") == "waiting" and status.get("reason") in WAIT_REASONS and status.get("detail"):
            c.waiting.append(f"{a}: {status['reason']}: {status['detail']}")
            continue
        mine = [m for m in outputs.instr_msgs if m.account_id == a]
        last = mine[-1] if mine else None
        last_text = "no instruction ever" if last is None else (
            f"last {'cancel of' if last.cancel else 'instruction'} {last.id} (v{last.account_version}, round {last.plan_round}"
            + (f", legs {len(last.legs)}" if not last.cancel else "") + ")"
            + ("" if o is None else f"; outstanding {o.id} is for v{o.account_version}"))
        if o is not None and o.deadline_ms and o.deadline_ms < outputs.check_time_ms:
            last_text += f"; its deadline passed {(outputs.check_time_ms - o.deadline_ms) / 1000:.1f}s before the check"
        run.evidence.setdefault("uncovered_timelines", {})[a] = timeline(a, outputs.results, outputs.ordered, run)
        h = http.get(a, {})
        c.uncovered_kinds.append(run.kinds.get(a))
        c.uncovered.append(
            f"{a} [{run.kinds.get(a)}] v{res.account_version} {H.HealthState.Name(res.health)} equity {res.equity:.2f} "
            f"MM {res.maintenance_requirement:.2f} positions {[(p.instrument, p.quantity) for p in run.accounts[a].positions]}: "
            f"{last_text}; GET /v1/accounts: {h.get('health', h.get('status'))} v{h.get('version')}, "
            f"liquidation {json.dumps(liquidation_status(h.get('json'))) if liquidation_status(h.get('json')) else 'absent'}")
    return c


def timeline(account_id, results, instructions, run):
    """What the topics say about one account, in time order (for the evidence file)."""
    names = {v: k for k, v in proto.result_pb2.HealthState.items()}
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


def dump_topics(outputs, path):
    """The decoded outputs, one JSON line each (results summarised), for a post-mortem."""
    names = {v: k for k, v in proto.result_pb2.HealthState.items()}
    with open(path, "w") as f:
        for r in outputs.results:
            m = r["message"]
            f.write(json.dumps({"topic": r["topic"], "partition": r["partition"], "offset": r["offset"], "ts": r["timestamp_ms"],
                                "message_id": r["message_id"], "account": m.account_id, "version": m.account_version,
                                "health": names[m.health], "equity": m.equity, "mm": m.maintenance_requirement,
                                "markets": dict(m.market_timestamps)}, default=str) + "\n")
        for r in outputs.ordered:
            f.write(json.dumps({"topic": r["topic"], "partition": r["partition"], "offset": r["offset"], "ts": r["timestamp_ms"],
                                "message_id": r["message_id"],
                                "message": proto.json_format.MessageToDict(r["message"], preserving_proto_field_name=True)}) + "\n")
        for r in outputs.dead_letters:
            f.write(json.dumps({"topic": r["topic"], "partition": r["partition"], "offset": r["offset"], "ts": r["timestamp_ms"],
                                "key": r["key"], "headers": r["headers"]}) + "\n")
