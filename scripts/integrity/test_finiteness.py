"""D. No NaN or infinity anywhere a consumer reads a number: every double of every result and
instruction (found by walking the protobuf descriptors, so a field added later is covered too),
the liquidation-state JSON, and every JSON answer of the workers' HTTP API. The bad inputs include
NaN and infinite values: they must be dead-lettered, never propagated."""

from .analysis import where
from .http_io import json_nonfinite
from .proto import nonfinite_fields

ASSERTION = "D. no non-finite number in any output"


def _check(outputs, found, where_text):
    if found:
        outputs.fail(ASSERTION, f"{len(found)} non-finite value(s) in {where_text}", found)


def _in_messages(records):
    return [f"{where(r)} key {r['key']!r}: {path} = {value}"
            for r in records for path, value in nonfinite_fields(r["message"])]


def test_no_nonfinite_number_in_results(outputs):
    _check(outputs, _in_messages(outputs.results), "results")


def test_no_nonfinite_number_in_instructions(outputs):
    _check(outputs, _in_messages(outputs.instructions), "instructions")


def test_no_nonfinite_number_in_liquidation_state_json(outputs):
    """Also fails on a liquidation-state record that is not JSON (bare NaN/Infinity tokens are not)."""
    found = []
    for r in outputs.state_records:
        if r["value"] is None:
            continue
        try:
            _, bad = json_nonfinite(r["value"].decode())
        except ValueError as error:
            bad = [("<not JSON>", str(error))]
        found += [f"{where(r)} key {r['key']!r}: {p} = {v}" for p, v in bad]
    _check(outputs, found, "the liquidation-state topic")


def test_no_nonfinite_number_in_http_account_answers(outputs):
    found = [f"GET /v1/accounts/{a} on {h['worker']}: {p} = {v}"
             for a, h in outputs.http.accounts.items() for p, v in h.get("nonfinite", [])]
    _check(outputs, found, "GET /v1/accounts/{id} answers")


def test_no_nonfinite_number_in_ready_and_health_answers(outputs):
    found = [f"{label}: {p} = {v}" for label, bad in outputs.http.other for p, v in bad]
    _check(outputs, found, "/ready and /health answers")
