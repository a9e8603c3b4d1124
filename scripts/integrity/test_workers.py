"""The workers at the end of the scenario: one owner per account, and none died but the one killed."""

import pytest

from .procs import tail

# The Deployment's terminationGracePeriodSeconds (Deploy/kubernetes/deployment.yaml).
GRACE_PERIOD_S = 90


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


def test_a_graceful_stop_under_load_commits_its_last_batch_and_exits_in_time(outputs):
    """SIGTERM while 200 account updates/s arrive: exit 0 within terminationGracePeriodSeconds, no
    aborted or failed transaction and no error in its log (the last batch is committed before the
    group is left); the versions sent meanwhile each get a result (the result contract)."""
    stop = outputs.run.evidence.get("graceful_stop")
    if stop is None:
        pytest.skip("the --crash-during-rejoin variant has no graceful-stop phase")
    problems = []
    if stop["exit_code"] != 0:
        problems.append(f"exit code {stop['exit_code']}")
    if stop["exit_seconds"] is None or stop["exit_seconds"] > GRACE_PERIOD_S:
        problems.append(f"exit after {stop['exit_seconds']} s (grace period {GRACE_PERIOD_S} s)")
    problems += [f"log: {line}" for line in stop["log_problems"]]
    if problems:
        outputs.fail("contract: a graceful stop commits its last batch and exits in time", f"{len(problems)} problem(s)", problems)
