"""The integrity check's pytest session: the scenario runs once (session fixture `outputs`), then
every contract is a test over what it collected.

Options (the ones scripts/integrity-check passes through): --binary (default: $INTEGRITY_BINARY or
.build/debug/margin-engine), --seed, --accounts, --partitions, --crash-during-rejoin, --keep,
--evidence-limit. Exit status: 0 every contract holds; 1 a contract failed; 2 the scenario could
not be run (or the run was interrupted)."""

import argparse
import os
import shutil
import signal
import tempfile

import pytest

from . import common, proto, procs
from .collect import collect, summary_lines
from .common import ROOT, ScenarioError, log
from .scenario import Run

_OUTPUTS = pytest.StashKey()
_WORKDIR = pytest.StashKey()


def pytest_addoption(parser):
    group = parser.getgroup("integrity", "margin-engine end-to-end integrity check")
    group.addoption("--binary", default=os.environ.get("INTEGRITY_BINARY", os.path.join(ROOT, ".build/debug/margin-engine")),
                    help="the margin-engine binary under test (default: $INTEGRITY_BINARY or .build/debug/margin-engine)")
    group.addoption("--seed", type=int, default=20261202, help="scenario seed")
    group.addoption("--accounts", type=int, default=300, help="seeded accounts")
    group.addoption("--partitions", type=int, default=6, help="partitions per topic of the dev-broker")
    group.addoption("--crash-during-rejoin", action="store_true",
                    help="produce the second crash as soon as the restarted worker serves, during its rebalance")
    group.addoption("--keep", action="store_true", help="keep the work directory (logs, evidence) on success too")
    group.addoption("--evidence-limit", type=int, default=12, help="evidence lines printed per failed assertion")


def _on_signal(signum, _frame):
    pytest.exit(f"integrity check interrupted by signal {signum}", returncode=128 + signum)


def pytest_configure(config):
    # The processes are stopped by the session fixture's teardown, which pytest.exit still runs.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)

    def live_log(line):
        # Progress lines go past pytest's output capture: the scenario takes about a minute.
        capman = config.pluginmanager.getplugin("capturemanager")
        if capman is None:
            print(line, flush=True)
            return
        with capman.global_and_fixture_disabled():
            print(line, flush=True)

    common.set_log_sink(live_log)


def _args(config):
    return argparse.Namespace(
        binary=os.path.abspath(config.getoption("binary")), seed=config.getoption("seed"),
        accounts=config.getoption("accounts"), partitions=config.getoption("partitions"),
        crash_during_rejoin=config.getoption("crash_during_rejoin"), keep=config.getoption("keep"),
        evidence_limit=config.getoption("evidence_limit"))


@pytest.fixture(scope="session")
def outputs(request):
    """Runs the scenario once (scenario.Run.drive), then collects every output (collect.collect)."""
    config = request.config
    args = _args(config)
    workdir = tempfile.mkdtemp(prefix="integrity-check-")
    config.stash[_WORKDIR] = workdir
    run = None
    try:
        common.wait_for_binary(args.binary)
        common.reset_clock()
        proto.load(workdir)
        import confluent_kafka
        import google.protobuf
        log(f"integrity check: {args.binary} (protobuf {google.protobuf.__version__}, confluent-kafka "
            f"{confluent_kafka.version()[0]}, librdkafka {confluent_kafka.libversion()[0]}), seed {args.seed}, "
            f"{args.accounts} accounts, {args.partitions} partitions, work dir {workdir}")
        run = Run(args, workdir)
        run.drive()
        result = collect(run, args.evidence_limit)
    except ScenarioError as error:
        _shutdown(run)
        pytest.exit(f"integrity check could not run the scenario: {error}; logs in {workdir}", returncode=2)
    except BaseException:
        _shutdown(run)
        raise
    config.stash[_OUTPUTS] = result
    yield result
    _shutdown(run)
    result.write_evidence(failed=bool(result.failures) or request.session.testsfailed > 0)


def _shutdown(run):
    if run is not None and getattr(run, "reader", None) is not None and run.reader.is_alive():
        run.reader.stop()
    if run is not None:
        run.producer = None  # its connections go before the broker does
    procs.stop_all()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    result = config.stash.get(_OUTPUTS, None)
    if result is None:
        return
    terminalreporter.write_line("")
    for line in summary_lines(result):
        terminalreporter.write_line(line)
    if exitstatus != 0:
        terminalreporter.write_line(f"integrity check FAILED; logs and evidence in {result.run.workdir}")


def pytest_sessionfinish(session, exitstatus):
    workdir = session.config.stash.get(_WORKDIR, None)
    if workdir and exitstatus == 0 and not session.config.getoption("keep"):
        shutil.rmtree(workdir, ignore_errors=True)
