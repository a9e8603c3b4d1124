#!/usr/bin/env python3
"""Every metric the dashboard, the alert rules and the autoscaler query is one the worker or the
calibrator exports, with the labels it has.

The exported metrics are read from the Swift sources (every `Gauge`/`Counter`/`Timer(label:
"…", dimensions: [("label", …), …])` call; a Timer is a Prometheus histogram with `_bucket{le}`,
`_sum`, `_count`) and, with --scrape FILE, cross-checked against what a running process served
on /metrics: a family served live must be in the inventory with the same label names, so a
metric recorded in a form this reader misses fails the check instead of passing it.

PromQL expressions are tokenised; every metric name must be exported, every label in a matcher
must be one of that metric's labels (or a label Prometheus adds at scrape: job, instance), and
every label in by/without/on/ignoring clauses or a legend `{{label}}` must belong to a metric of
the expression. A built-in self-test first runs known-bad expressions and fails if any passes.

Usage: check_metrics.py REPO_ROOT [--scrape FILE]...
"""
import json
import re
import sys
from pathlib import Path

import yaml

TARGET_LABELS = {"job", "instance"}
# Prometheus's own series that rules may use.
SYNTHETIC = {"up": {"job", "instance"}, "scrape_duration_seconds": {"job", "instance"}}

FUNCTIONS = {
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_avg",
    "histogram_count", "histogram_fraction", "histogram_quantile", "histogram_stddev", "histogram_stdvar",
    "histogram_sum", "holt_winters", "hour", "idelta", "increase", "irate", "label_join", "label_replace", "ln",
    "log2", "log10", "minute", "month", "predict_linear", "rate", "resets", "round", "scalar", "sgn", "sort",
    "sort_desc", "sqrt", "time", "timestamp", "vector", "year", "avg_over_time", "min_over_time", "max_over_time",
    "sum_over_time", "count_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time",
    "last_over_time", "present_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh",
    "sin", "sinh", "tan", "tanh", "deg", "rad", "pi",
}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
                "topk", "quantile", "limitk", "limit_ratio"}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
OTHER_KEYWORDS = {"bool", "offset", "and", "or", "unless", "atan2", "inf", "nan", "start", "end"}

TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<duration>\d+(?:ms|s|m|h|d|w|y)(?:\d+(?:ms|s|m|h|d|w|y))*\b)
  | (?P<number>0x[0-9a-fA-F]+|\d*\.?\d+(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>=(){},@])
  | (?P<space>\s+)
""", re.VERBOSE)


class Inventory:
    """Metric name -> set of label names, with a note of where it came from."""

    def __init__(self):
        self.labels = {}
        self.origin = {}

    def add(self, name, labels, origin):
        labels = set(labels)
        if name in self.labels and self.labels[name] != labels:
            raise ValueError(f"{name}: label sets differ between {self.origin[name]} ({sorted(self.labels[name])}) "
                             f"and {origin} ({sorted(labels)})")
        self.labels[name] = labels
        self.origin[name] = origin


CALL = re.compile(r'\b(?:Metrics\.)?(Gauge|Counter|FloatingPointCounter|Meter|Timer|Recorder)\(\s*label:\s*'
                  r'("(?:[^"\\]|\\.)*"|[^,)]+)(\s*,\s*dimensions:\s*\[)?')


def source_inventory(root):
    inventory = Inventory()
    for path in sorted((root / "Sources").rglob("*.swift")):
        text = path.read_text()
        for match in CALL.finditer(text):
            kind, literal = match.group(1), match.group(2).strip()
            where = f"{path.relative_to(root)}:{text.count(chr(10), 0, match.start()) + 1}"
            if not literal.startswith('"'):
                raise ValueError(f"{where}: metric label is not a string literal ({literal}); this check cannot read it")
            name = literal[1:-1]
            labels = []
            if match.group(3):
                depth, i = 1, match.end()
                while depth:  # the dimensions array up to its closing bracket
                    depth += {"[": 1, "]": -1}.get(text[i], 0)
                    i += 1
                dimensions = text[match.end():i - 1]
                for tuple_text in re.findall(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", dimensions):
                    key = re.match(r'\s*"([a-zA-Z_][a-zA-Z0-9_]*)"\s*,', tuple_text)
                    if not key:
                        raise ValueError(f"{where}: a dimension of {name} has no literal label name: ({tuple_text})")
                    labels.append(key.group(1))
            if kind in ("Timer", "Recorder"):
                inventory.add(name + "_bucket", labels + ["le"], where)
                inventory.add(name + "_sum", labels, where)
                inventory.add(name + "_count", labels, where)
            else:
                inventory.add(name, labels, where)
    return inventory


SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+')


def scrape_inventory(text, origin):
    inventory = Inventory()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SERIES.match(line)
        if not match:
            raise ValueError(f"{origin}: unparsable line: {line}")
        labels = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"', match.group(3) or "")
        inventory.add(match.group(1), labels, origin)
    return inventory


def tokens(expr):
    position, out = 0, []
    while position < len(expr):
        match = TOKEN.match(expr, position)
        if not match:
            raise ValueError(f"cannot tokenise at {expr[position:position + 20]!r}")
        position = match.end()
        if match.lastgroup != "space":
            out.append((match.lastgroup, match.group()))
    return out


def grafana_substitute(expr):
    expr = re.sub(r"\$__(rate_interval|interval|range)|\$\{__(rate_interval|interval|range)\}", "5m", expr)
    return re.sub(r"\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?", ".*", expr)


def check_expression(expr, inventory, legend=None):
    """Problems of one PromQL expression (empty when it is fine)."""
    problems, metrics, grouping = [], [], []
    try:
        toks = tokens(grafana_substitute(expr))
    except ValueError as error:
        return [str(error)]
    known = dict(inventory.labels)
    known.update(SYNTHETIC)

    def matchers(i):
        """Label names of the {…} starting at toks[i] == '{'; returns (names, index after '}')."""
        names, i = [], i + 1
        while i < len(toks) and toks[i][1] != "}":
            kind, value = toks[i]
            if kind == "ident" and i + 1 < len(toks) and toks[i + 1][1] in ("=", "!=", "=~", "!~"):
                names.append((value, toks[i + 2][1] if i + 2 < len(toks) else ""))
                i += 3
            elif value == ",":
                i += 1
            else:
                problems.append(f"unexpected {value!r} in a label matcher")
                i += 1
        return names, i + 1

    i = 0
    while i < len(toks):
        kind, value = toks[i]
        following = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind == "ident" and value in LABEL_LIST_KEYWORDS:
            i += 1
            if following == "(":
                i += 1
                while i < len(toks) and toks[i][1] != ")":
                    if toks[i][0] == "ident":
                        grouping.append(toks[i][1])
                    i += 1
                i += 1
            continue
        if kind == "ident" and ((following == "(" and value in FUNCTIONS | AGGREGATIONS)
                                or (following in ("by", "without") and value in AGGREGATIONS)):
            i += 1
            continue
        if kind == "ident" and value in OTHER_KEYWORDS:
            i += 1
            continue
        if kind == "ident" or value == "{":
            name = value if kind == "ident" else None
            selector = []
            if kind == "ident":
                i += 1
                if i < len(toks) and toks[i][1] == "{":
                    selector, i = matchers(i)
            else:
                selector, i = matchers(i)
                names = [v.strip("\"'`") for k, v in selector if k == "__name__"]
                if not names:
                    problems.append("a selector without a metric name")
                    continue
                name = names[0]
            if name not in known:
                problems.append(f"unknown metric {name}")
                continue
            metrics.append(name)
            for label, _ in selector:
                if label != "__name__" and label not in known[name] | TARGET_LABELS:
                    problems.append(f"{name} has no label {label} (it has {sorted(known[name])})")
            continue
        i += 1
    available = set(TARGET_LABELS)
    for name in metrics:
        available |= known.get(name, set())
    for label in grouping + re.findall(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}", legend or ""):
        if label not in available:
            problems.append(f"label {label} belongs to none of {sorted(set(metrics))}")
    if not metrics and not problems:
        problems.append("no metric in the expression")
    return problems


def dashboard_queries(path):
    dashboard = json.loads(path.read_text())
    queries = []

    def walk(panels):
        for panel in panels:
            for target in panel.get("targets", []):
                queries.append((f"{path.name}: panel {panel.get('title')!r} {target.get('refId')}",
                                target["expr"], target.get("legendFormat")))
            walk(panel.get("panels", []))
    walk(dashboard.get("panels", []))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        match = re.fullmatch(r"\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*", query or "")
        if match:  # label_values(selector, label): the label must be on the selector's metric
            queries.append((f"{path.name}: variable {variable['name']}", match.group(1), "{{" + match.group(2) + "}}"))
        elif query:
            queries.append((f"{path.name}: variable {variable['name']}", query, None))
    return queries


def rule_queries(path):
    queries = []
    for document in yaml.safe_load_all(path.read_text()):
        groups = (document.get("spec") or document).get("groups", []) if document else []
        for group in groups:
            for rule in group.get("rules", []):
                queries.append((f"{path.name}: {rule.get('alert') or rule.get('record')}", rule["expr"], None))
    return queries


def scaler_queries(path):
    queries = []
    for document in yaml.safe_load_all(path.read_text()):
        for trigger in (document or {}).get("spec", {}).get("triggers", []):
            if trigger.get("type") == "prometheus":
                queries.append((f"{path.name}: prometheus trigger", trigger["metadata"]["query"], None))
    return queries


SELF_TEST_BAD = [
    "rate(margin_results_published_totl[5m])",
    'margin_accounts_by_health{helth="healthy"}',
    "sum by (reason) (margin_accounts_by_health)",
    '{job="margin-engine"}',
    "histogram_quantile(0.5, rate(margin_remargin_latency_seconds[5m]))",
    'kafka_consumer_lag{instance_id="w"}',
]
SELF_TEST_GOOD = [
    'histogram_quantile(0.99, sum by (le) (rate(margin_remargin_latency_seconds_bucket{instance=~"$instance"}[$__rate_interval])))',
    'max by (partition) (kafka_consumer_lag{topic="margin.accounts.v1"} offset 5m)',
    'up{job="margin-engine"} == 0 or absent(up{job="margin-engine-calibrator"})',
    '{__name__="margin_forecast_vol", underlying="BTC"} > bool 0.5',
]


def main(argv):
    root = Path(argv[1]).resolve()
    scrapes = [Path(argv[i + 1]) for i, arg in enumerate(argv) if arg == "--scrape"]
    inventory = source_inventory(root)
    failures = []
    for expr in SELF_TEST_BAD:
        if not check_expression(expr, inventory):
            failures.append(f"self-test: a bad expression passed: {expr}")
    for expr in SELF_TEST_GOOD:
        for problem in check_expression(expr, inventory):
            failures.append(f"self-test: a good expression failed: {expr}: {problem}")
    for scrape in scrapes:
        served = scrape_inventory(scrape.read_text(), scrape.name)
        families = [n for n in served.labels if n.startswith(("margin_", "kafka_"))]
        if not families:
            failures.append(f"{scrape}: no margin_* or kafka_* series served")
        for name in families:
            if name not in inventory.labels:
                failures.append(f"{scrape}: served {name} is not in the inventory read from the sources")
            elif served.labels[name] != inventory.labels[name]:
                failures.append(f"{scrape}: {name} is served with labels {sorted(served.labels[name])}, "
                                f"the sources say {sorted(inventory.labels[name])}")
    deploy = root / "Deploy"
    queries = dashboard_queries(deploy / "grafana" / "margin-engine.json")
    queries += rule_queries(deploy / "prometheus" / "alerts.yml")
    queries += rule_queries(deploy / "kubernetes" / "prometheusrule.yaml")
    queries += scaler_queries(deploy / "kubernetes" / "scaledobject.yaml")
    for where, expr, legend in queries:
        for problem in check_expression(expr, inventory, legend):
            failures.append(f"{where}: {problem}\n    {expr}")
    for failure in failures:
        print(f"check-metrics: {failure}", file=sys.stderr)
    if failures:
        return 1
    used = sorted({m for _, e, _ in queries for k, m in tokens(grafana_substitute(e)) if k == "ident" and m in inventory.labels})
    print(f"check-metrics: ok: {len(queries)} queries use {len(used)} exported metrics "
          f"({len(inventory.labels)} in the inventory{', cross-checked with ' + str(len(scrapes)) + ' scrape(s)' if scrapes else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
