#!/usr/bin/env python3
"""The live half of scripts/ops-test: waits for a running worker, writes a Prometheus
configuration from Deploy/prometheus/prometheus.yml for loopback targets, asks the real
Prometheus what it scraped, and checks the risk console's pages as Chromium rendered them.

  ops_live.py listen-port LOG TIMEOUT          port a margin-engine HTTP listener logged at start
  ops_live.py wait-worker URL EXPECTED TIMEOUT  every input account margined (from /metrics)
  ops_live.py prometheus-config REPO OUT WORKER CALIBRATOR
  ops_live.py query PROMETHEUS_URL EXPECTED TIMEOUT
  ops_live.py console OVERVIEW_DOM ACCOUNT_DOM EXPECTED
  ops_live.py nearest URL                        the id of the account nearest liquidation
"""
import html
import json
import re
import sys
import time
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import yaml


def fetch(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def poll(description, timeout, attempt):
    """Calls attempt() until it returns a true value or raises nothing for `timeout` seconds."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            value = attempt()
            if value:
                return value
        except Exception as error:  # not up yet, or not there yet
            last = error
        time.sleep(0.5)
    sys.exit(f"ops-test: timed out after {timeout} s waiting for {description} (last: {last})")


def listen_port(log, timeout):
    def attempt():
        match = re.search(r"listening on [^\s:]+:(\d+)", Path(log).read_text())
        return match and match.group(1)
    print(poll(f"the HTTP listener in {log}", float(timeout), attempt))


def health_counts(metrics):
    return {m.group(1): float(m.group(2)) for m in re.finditer(r'^margin_accounts_by_health\{[^}]*health="([^"]+)"[^}]*\} (\S+)$', metrics, re.M)}


def wait_worker(url, expected, timeout):
    expected = json.loads(Path(expected).read_text())

    def attempt():
        counts = health_counts(fetch(url + "/metrics"))
        return sum(counts.values()) == len(expected["accounts"]) and counts.get("stale", 0) == len(expected["stale"]) and counts
    counts = poll(f"{len(expected['accounts'])} margined accounts on {url}", float(timeout), attempt)
    print("ops-test: worker margined " + ", ".join(f"{v:.0f} {k}" for k, v in sorted(counts.items()) if v))


def prometheus_config(repo, out, worker, calibrator):
    """The compose stack's Prometheus configuration, pointed at loopback targets, scraping every
    second and evaluating the real alert rules every second."""
    config = yaml.safe_load((Path(repo) / "Deploy" / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str((Path(repo) / "Deploy" / "prometheus" / "alerts.yml").resolve())]
    targets = {"margin-engine": worker, "margin-engine-calibrator": calibrator}
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    Path(out).write_text(yaml.safe_dump(config))


def query(base, expected, timeout):
    expected = json.loads(Path(expected).read_text())
    accounts = len(expected["accounts"])

    def instant(q):
        data = json.loads(fetch(f"{base}/api/v1/query?query={urllib.parse.quote(q)}"))
        assert data["status"] == "success", data
        return data["data"]["result"]

    def value(q):
        result = instant(q)
        return float(result[0]["value"][1]) if result else None

    checks = [
        ("both targets up", lambda: value('sum(up{job=~"margin-engine|margin-engine-calibrator"})') == 2),
        (f"{accounts} accounts under the worker's own instance label (honor_labels)",
         lambda: value('sum(margin_accounts_by_health{job="margin-engine",instance="ops-worker"})') == accounts),
        ("the ETH market stale, BTC fresh",
         lambda: value('margin_market_stale{underlying="ETH"}') == 1 and value('margin_market_stale{underlying="BTC"}') == 0),
        ("re-margin latency histogram",
         lambda: (value('sum(margin_remargin_latency_seconds_count{job="margin-engine"})') or 0) > 0
         and len(instant('margin_remargin_latency_seconds_bucket{job="margin-engine"}')) >= 10),
        ("consumer lag of the accounts topic per partition",
         lambda: len(instant('kafka_consumer_lag{job="margin-engine",topic="margin.accounts.v1"}')) >= 1),
        ("calibrated BTC range and EWMA vol from the calibrator",
         lambda: (value('margin_calibrated_price_range{job="margin-engine-calibrator",underlying="BTC"}') or 0) > 0.05
         and 0.05 < (value('margin_forecast_vol{job="margin-engine-calibrator",underlying="BTC"}') or 0) < 5),
    ]
    for description, check in checks:
        poll(f"Prometheus: {description}", float(timeout), check)
        print(f"ops-test: prometheus: {description}")

    def rules_ok():
        groups = json.loads(fetch(f"{base}/api/v1/rules"))["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return len(rules) == 9 and all(r["health"] == "ok" and r.get("lastEvaluation", "").startswith("20") for r in rules) and rules
    rules = poll("Prometheus: every alert rule loaded and evaluated without error", float(timeout), rules_ok)
    print(f"ops-test: prometheus: {len(rules)} alert rules evaluated without error")

    def stale_alert():
        alerts = json.loads(fetch(f"{base}/api/v1/alerts"))["data"]["alerts"]
        return [a for a in alerts if a["labels"].get("alertname") == "MarginMarketStale" and a["labels"].get("underlying") == "ETH"]
    alert = poll("Prometheus: MarginMarketStale for ETH", float(timeout), stale_alert)[0]
    print(f"ops-test: prometheus: MarginMarketStale{{underlying=\"ETH\"}} is {alert['state']}")


class Document(HTMLParser):
    """The rendered DOM: table rows by table id, svg elements, text."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.svgs, self.rects, self.title, self.text = {}, [], [], "", []
        self._table, self._row, self._cell, self._in_title = None, None, None, False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id", f"table-{len(self.tables)}")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""
        elif tag == "svg":
            self.svgs.append(attrs)
        elif tag == "rect":
            self.rects.append(attrs)
        elif tag == "title" and not self.svgs:
            self._in_title = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(html.unescape(self._cell.strip()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._in_title:
            self.title += data
        self.text.append(data)


def console(overview_path, account_path, expected_path):
    expected = json.loads(Path(expected_path).read_text())
    overview, account = Document(Path(overview_path).read_text()), Document(Path(account_path).read_text())
    failures = []

    def check(condition, message):
        if not condition:
            failures.append(message)

    check(overview.title.startswith("Risk console"), f"overview title {overview.title!r}")
    partitions = overview.tables.get("partitions", [])[1:]
    check(len(partitions) == 4 and all(row[1] == "restored" for row in partitions), f"partitions table: {partitions}")
    check(sum(int(row[2].replace(",", "")) for row in partitions) == len(expected["accounts"]), "partition account counts")
    markets = {row[0]: row for row in overview.tables.get("markets", [])[1:]}
    check(set(markets) == {"BTC", "ETH", "USDC"}, f"markets table: {sorted(markets)}")
    check(markets.get("ETH", [""])[-1] == "stale" and markets.get("BTC", [""])[-1] == "fresh", "ETH shown stale, BTC fresh")
    age = re.match(r"(\d+) min", markets.get("ETH", ["", "", "", "", ""])[4])
    check(age is not None and 30 <= int(age.group(1)) < 40, f"ETH's age shown as {markets.get('ETH', [''] * 5)[4]!r}, 30-odd minutes expected")
    check(any(svg.get("id") == "health-chart" for svg in overview.svgs), "the health chart")
    bars = {r.get("class", "").split()[-1]: r for r in overview.rects if r.get("class", "").startswith("bar ")}
    check(float(bars.get("stale", {}).get("width", 0)) > 0, "a stale bar in the health chart")
    nearest = overview.tables.get("nearest", [])[1:]
    check(len(nearest) == 20, f"{len(nearest)} rows nearest liquidation, expected 20")
    cushions = [float(row[5].replace("−", "-").replace(",", "").rstrip(" %")) for row in nearest]
    check(cushions == sorted(cushions), f"nearest accounts not ordered by cushion: {cushions}")
    check(nearest and nearest[0][1] in ("bankrupt", "liquidatable"), f"first row's health {nearest[0][1] if nearest else None}")
    check(set(row[0] for row in nearest) <= set(expected["accounts"]), "unknown account ids in the nearest table")
    outstanding = [row for row in overview.tables.get("outstanding", [])[1:] if len(row) == 5]
    queued = [row[0] for row in overview.tables.get("queued", [])[1:] if row and row[0] != "none"]
    check(all(row[1].startswith("liq-") and row[0] in expected["accounts"] for row in outstanding), f"outstanding instructions: {outstanding}")
    check(outstanding or queued, "neither outstanding nor queued liquidations, with liquidatable accounts held")

    charts = [svg for svg in account.svgs if "scenario-chart" in svg.get("class", "")]
    check(len(charts) == 1, f"{len(charts)} scenario charts on the account page")
    binding = [r for r in account.rects if "binding" in r.get("class", "").split()]
    check(len(binding) == 1, f"{len(binding)} binding bars")
    scenario_bars = [r for r in account.rects if r.get("class", "").split()[:1] == ["bar"] and "height" in r]
    check(len(scenario_bars) >= 20, f"{len(scenario_bars)} scenario bars")
    text = " ".join(account.text)
    check("binding: spot" in text, "the binding scenario's label in the chart")
    contributions = [t for t in account.tables if t.startswith("contributions-")]
    check(contributions and len(account.tables[contributions[0]]) >= 3, "contributions per position")
    check(len(account.tables.get("equity-parts", [])) >= 3, "equity parts")
    shown = re.search(r"^Account (.+)$", account.title)
    shown = shown.group(1) if shown else None
    if shown in [row[0] for row in outstanding]:
        check("Outstanding instruction" in text, f"{shown}'s outstanding instruction on its page")
    elif shown in queued:
        check("waiting for anti-cascade budget" in text, f"{shown} queued on its page")
    check(shown == (nearest[0][0] if nearest else None), f"the account page shows {shown}, the nearest is {nearest[0][0] if nearest else None}")
    for failure in failures:
        print(f"ops-test: console: {failure}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"ops-test: console: overview ({len(partitions)} partitions, {len(markets)} markets, {len(nearest)} nearest, "
          f"{len(outstanding)} outstanding) and account page ({len(scenario_bars)} scenario bars, 1 binding) rendered")


def nearest(url):
    page = Document(fetch(url + "/"))
    print(page.tables["nearest"][1][0])


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"listen-port": listen_port, "wait-worker": wait_worker, "prometheus-config": prometheus_config, "query": query,
     "console": console, "nearest": nearest}[command](*args)
