"""Contracts on the results topic: every account version is margined and published, a refused
version is not, errors only where the account cannot be margined, and health changes are published."""

from . import proto
from .common import short
from .proto import plain


def _versions_seen(outputs):
    seen = {}
    for r in outputs.results:
        seen.setdefault(r["message"].account_id, set()).add(r["message"].account_version)
    return seen


def test_every_valid_account_version_yields_a_result(outputs):
    """Including the versions produced by the partial fills and those held by the killed worker."""
    seen = _versions_seen(outputs)
    no_result = [f"{a} v{v}" for a, vs in sorted(outputs.run.valid_versions.items()) for v in sorted(vs)
                 if v not in seen.get(a, set())]
    if no_result:
        outputs.fail("contract: every account version yields a result", f"{len(no_result)} version(s) without a result",
                     no_result)


def test_a_refused_account_version_yields_no_result(outputs):
    """A dead-lettered next version (a non-finite funding) leaves the held state unchanged."""
    seen = _versions_seen(outputs)
    refused = [f"{a} v{v} (refused input) has a result" for a, v in outputs.run.refused_versions
               if v in seen.get(a, set())]
    if refused:
        outputs.fail("contract: a refused record leaves the state unchanged", "result for a dead-lettered version", refused)


def test_valid_accounts_are_margined_without_error(outputs):
    errors = [f"{a} v{r['message'].account_version}: {r['message'].error_code}: {r['message'].error}"
              for a, r in sorted(outputs.latest.items())
              if r["message"].health == proto.result_pb2.HEALTH_STATE_ERROR and a not in outputs.run.error_accounts]
    if errors:
        outputs.fail("contract: valid accounts are margined", f"{len(errors)} valid account(s) whose latest result is an error",
                     errors)


def test_an_account_that_cannot_be_margined_gets_an_error_result(outputs):
    """Accounts on a market-less underlying (SOL: no market, no risk parameters) get an error
    result with a documented code and message and amounts 0, not silence and not a number."""
    expected_errors = []
    for a, codes in sorted(outputs.run.error_accounts.items()):
        r = outputs.latest.get(a)
        m = r["message"] if r else None
        if m is None or m.health != proto.result_pb2.HEALTH_STATE_ERROR or m.error_code not in codes or not m.error \
                or m.equity or m.maintenance_requirement or m.initial_requirement:
            expected_errors.append(f"{a}: expected an error result ({' or '.join(codes)}, amounts 0), latest is "
                                   + (short(plain(m), 300) if m is not None else "none"))
    if expected_errors:
        outputs.fail("contract: an account that cannot be margined gets an error result", f"{len(expected_errors)} account(s)",
                     expected_errors)


def test_current_health_over_http_equals_the_latest_published_result(outputs):
    """Health changes are published: the worker's current health (GET /v1/accounts/{id}) is the
    health of the account's latest result on the topic."""
    H = proto.result_pb2
    latest = outputs.latest
    lagging = [f"{a}: latest result {H.HealthState.Name(latest[a]['message'].health)} v{latest[a]['message'].account_version}, "
               f"HTTP {h['health']} v{h.get('version')}"
               for a, h in sorted(outputs.http.accounts.items())
               if a in latest and h.get("health") and h["health"] != H.HealthState.Name(latest[a]["message"].health)]
    if lagging:
        outputs.fail("contract: health changes are published",
                     f"{len(lagging)} account(s) whose current health differs from the latest result", lagging)
