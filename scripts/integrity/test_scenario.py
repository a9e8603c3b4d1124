"""The scenario exercised what it claims: otherwise the contracts above pass vacuously."""

import json

ASSERTION = "setup: scenario"


def test_broker_kept_every_record(outputs):
    """The final read starts at offset 0: a log start past 0 means records the checks never saw."""
    if outputs.low_moved:
        outputs.fail("setup", "the embedded broker dropped records (log start moved past 0)",
                     [f"{t}[{p}] log start {lo}" for t, p, lo in outputs.low_moved])


def test_rebound_produced_a_cancel(outputs):
    if not any(m.cancel for m in outputs.instr_msgs):
        outputs.fail(ASSERTION, "the rebound produced no cancel", [])


def test_every_phase_saw_what_it_waited_for(outputs):
    """A phase's wait that timed out let the scenario go on (soft wait): its later checks may miss the point."""
    if outputs.run.soft_failures:
        outputs.fail(ASSERTION, "a phase did not see what it waited for", outputs.run.soft_failures)


def test_bad_records_were_produced_while_their_partitions_had_no_owner(outputs):
    """The survivor must not have taken the dead worker's partitions before the bad records were
    produced: the point is that whoever owns them next still dead-letters records it never saw live."""
    if not outputs.run.no_owner_ok:
        outputs.fail(ASSERTION, "bad records were not produced while their partitions had no owner",
                     [json.dumps(outputs.run.evidence["no_owner"])])
