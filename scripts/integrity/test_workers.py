"""The workers at the end of the scenario: one owner per account, and none died but the one killed."""

from .procs import tail


def test_every_account_is_held_by_exactly_one_worker(outputs):
    """GET /v1/accounts/{id} on both workers: exactly one answers 200 (the others 404), in time."""
    if outputs.http.problems:
        outputs.fail("contract: every account held by exactly one worker (HTTP)", f"{len(outputs.http.problems)} problem(s)",
                     outputs.http.problems)


def test_no_worker_dies_except_the_one_killed(outputs):
    """The SIGKILLed worker was restarted: both must be up once the scenario is over."""
    dead = outputs.dead_workers
    if dead:
        outputs.fail("contract: workers stay up", f"worker(s) {[w.instance for w in dead]} died",
                     [tail(w.log_path) for w in dead])
