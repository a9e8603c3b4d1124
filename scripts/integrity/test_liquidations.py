"""C. Liquidations: every liquidatable account is instructed (or waits with a documented reason),
and the instruction stream is consistent with itself and with what the workers say over HTTP."""

from . import proto
from .analysis import where
from .common import count_by
from .http_io import WAIT_REASONS, liquidation_status


def test_every_liquidatable_account_is_instructed_or_waiting_with_a_reason(outputs):
    """Every account liquidatable in its latest result (LIQUIDATABLE or BANKRUPT; STALE is its own
    health) has an outstanding instruction for that account version (not cancelled, not
    superseded), or its `GET /v1/accounts/{id}` liquidation status (MarginResult.liquidation) is
    `waiting` with a documented reason (budget, no_depth, plan_error) and a detail."""
    c = outputs.coverage
    if c.uncovered:
        outputs.fail("C. every liquidatable account instructed",
                     f"{len(c.uncovered)} of {len(c.liquidatable)} liquidatable accounts have no outstanding instruction "
                     f"for their version and no `waiting` liquidation status with a reason over HTTP (by kind: "
                     f"{count_by(c.uncovered_kinds)}; worker metrics: {outputs.http.queue_metrics or 'none'})",
                     c.uncovered)


def _live_ids(outputs):
    """account -> ids of its issued instructions neither cancelled nor superseded."""
    live = {}
    for m in outputs.issued.values():
        if m.id not in outputs.cancelled and m.id not in outputs.superseded:
            live.setdefault(m.account_id, []).append(m.id)
    return live


def test_at_most_one_outstanding_instruction_per_account(outputs):
    several = [f"{a}: {ids}" for a, ids in sorted(_live_ids(outputs).items()) if len(ids) > 1]
    if several:
        outputs.fail("contract: one outstanding instruction per account", f"{len(several)} account(s) with several", several)


def test_a_recovered_account_has_no_outstanding_instruction(outputs):
    """Recovery cancels: once the latest result is healthy (or only below IM) again, the account's
    instruction must have been cancelled."""
    H = proto.result_pb2
    latest = outputs.latest
    recovered = [f"{a}: outstanding {o.id} (v{o.account_version}) but latest result "
                 f"{H.HealthState.Name(latest[a]['message'].health)} v{latest[a]['message'].account_version}"
                 for a, o in sorted(outputs.outstanding.items())
                 if a in latest and latest[a]["message"].health in (H.HEALTH_STATE_HEALTHY, H.HEALTH_STATE_BELOW_IM)]
    if recovered:
        outputs.fail("contract: recovery cancels", f"{len(recovered)} recovered account(s) with an outstanding instruction",
                     recovered)


def test_cancels_and_supersedes_name_instructions_issued_for_the_same_account(outputs):
    dangling = []
    for m in outputs.instr_msgs:
        ref, what = (m.id, "cancel") if m.cancel else (m.supersedes, "supersedes")
        if ref and (ref not in outputs.issued or outputs.issued[ref].account_id != m.account_id):
            dangling.append(f"{what} {ref!r} in an instruction of {m.account_id} names no instruction issued for it")
    if dangling:
        outputs.fail("contract: cancels and supersedes name issued ids", f"{len(dangling)} dangling reference(s)", dangling)


def test_http_liquidation_status_agrees_with_the_liquidations_topic(outputs):
    """The HTTP liquidation status against the liquidations topic (documented in Schemas/README.md):
    a documented state; `outstanding` exactly when the topic has that instruction outstanding;
    `waiting` with a documented reason; no `pending` once the outputs have settled."""
    problems = []
    outstanding = outputs.outstanding
    for a, h in sorted(outputs.http.accounts.items()):
        st = liquidation_status(h.get("json"))
        if not st:
            problems.append(f"{a}: GET /v1/accounts has no liquidation status")
            continue
        o = outstanding.get(a)
        if st["state"] not in ("none", "pending", "outstanding", "waiting"):
            problems.append(f"{a}: undocumented liquidation state {st}")
        elif st["state"] == "outstanding" and (o is None or o.id != st["instruction_id"]):
            said = [r for r in outputs.ordered if r["message"].id == st["instruction_id"]]
            fate = ("never published" if not said else
                    "published at " + ", ".join(f"{where(r)}{' (cancel)' if r['message'].cancel else ''}" for r in said)
                    + (", cancelled" if st["instruction_id"] in outputs.cancelled else "")
                    + (", superseded" if st["instruction_id"] in outputs.superseded else ""))
            problems.append(f"{a}: HTTP says outstanding {st['instruction_id']} ({fate}) but the topic's outstanding "
                            f"instruction is {f'{o.id} (v{o.account_version}, round {o.plan_round})' if o else 'none'}")
        elif st["state"] != "outstanding" and o is not None:
            problems.append(f"{a}: the topic has outstanding {o.id} (v{o.account_version}) but HTTP says {st}")
        elif st["state"] == "waiting" and st["reason"] not in WAIT_REASONS:
            problems.append(f"{a}: waiting with an undocumented reason {st}")
        elif st["state"] == "pending":
            problems.append(f"{a}: still pending after the outputs settled: {st}")
    if problems:
        outputs.fail("contract: liquidation status (HTTP) agrees with the liquidations topic", f"{len(problems)} account(s)",
                     problems)
