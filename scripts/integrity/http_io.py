"""HTTP: the workers' /ready, /health, /metrics and GET /v1/accounts/{id}, and JSON non-finite scans."""

import json
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request

WAIT_REASONS = ("budget", "no_depth", "plan_error")  # Schemas/README.md, MarginResult.liquidation


def http_get(port, path, timeout=3.0):
    """(status, body text) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def account_path(account_id):
    return "/v1/accounts/" + urllib.parse.quote(account_id, safe="")


def json_nonfinite(text):
    """Paths of non-finite numbers in a JSON text: bare NaN/Infinity tokens (invalid JSON) and the
    protobuf JSON mapping's "NaN"/"Infinity"/"-Infinity" strings."""
    bad = []

    def constant(name):
        bad.append(("<bare token>", name))
        return float("nan")

    value = json.loads(text, parse_constant=constant)

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        elif isinstance(node, float) and not math.isfinite(node):
            bad.append((path, node))
        elif isinstance(node, str) and node in ("NaN", "Infinity", "-Infinity"):
            bad.append((path, node))

    walk(value, "")
    return value, bad


def liquidation_status(answer):
    """The `liquidation` status (LiquidationStatus) of a GET /v1/accounts/{id} answer, with the
    protobuf JSON mapping's either spelling of field names; {} when absent."""
    status = (answer or {}).get("liquidation") or {}
    return {"state": status.get("state", ""), "reason": status.get("reason", ""), "detail": status.get("detail", ""),
            "instruction_id": status.get("instruction_id", status.get("instructionId", "")),
            "deadline_ms": status.get("deadline_ms", status.get("deadlineMs", ""))} if status else {}


class HttpAnswers:
    """What the workers answer over HTTP once the outputs have settled."""

    def __init__(self):
        self.accounts = {}       # account -> {worker, status, json, nonfinite, health, version}
        self.problems = []       # accounts held by no worker or by two, unexpected HTTP statuses
        self.other = []          # (label, non-finite paths) of /ready and /health on every worker
        self.queue_metrics = []  # non-zero margin_liquidation_(queued|waiting) lines (evidence only)


def fetch_accounts(workers, account_ids):
    """GET /v1/accounts/{id} for every account on both workers (exactly one must hold it), and
    /ready, /health and /metrics on each."""
    answers = HttpAnswers()
    for w in workers:
        status, body = http_get(w.port, "/metrics")
        answers.queue_metrics += [f"{w.instance}: {line.split('{')[0]}{{{line.split(',reason=')[1].split('}')[0] if ',reason=' in line else ''}}} {line.split()[-1]}"
                                  for line in body.splitlines()
                                  if re.match(r"margin_liquidation_(queued|waiting)", line) and not line.endswith(" 0.0")]
        for path in ("/ready", "/health"):
            status, body = http_get(w.port, path)
            try:
                _, bad = json_nonfinite(body)
            except ValueError as error:
                bad = [("<not JSON>", str(error))]
            answers.other.append((f"GET {path} on {w.instance}", bad))
    deadline = time.monotonic() + 30
    for a in account_ids:
        if time.monotonic() > deadline:
            answers.problems.append(f"HTTP answers too slow: stopped after 30 s, before {a}")
            break
        holders = []
        for w in workers:
            status, body = http_get(w.port, account_path(a))
            if status == 200:
                holders.append(w.instance)
                entry = {"worker": w.instance, "status": status}
                try:
                    data, bad = json_nonfinite(body)
                    entry["json"], entry["nonfinite"] = data, bad
                    entry["health"] = data.get("health", "HEALTH_STATE_UNSPECIFIED")
                    entry["version"] = data.get("account_version", data.get("accountVersion"))
                except ValueError as error:
                    entry["nonfinite"] = [("<not JSON>", str(error))]
                answers.accounts[a] = entry
            elif status != 404:
                answers.problems.append(f"{a} on {w.instance}: HTTP {status} {body[:200]}")
        if len(holders) != 1:
            answers.problems.append(f"{a}: held by {holders or 'no worker'}")
    return answers
