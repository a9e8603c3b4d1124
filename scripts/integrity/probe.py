"""The soak's clients of the worker's HTTP server, in a process of their own so that the results
reader's decoding never delays a probe's clock (one interpreter lock per process):

  - probes of `/ready`, `/metrics` and one account's `GET /v1/accounts/{id}` every 100 ms (as
    kubelet and Prometheus do), each answer's latency recorded, a failed probe counted as such;
  - with `--what-if RATE`: POST /v1/what-if RATE times a second in every second window of
    `load.WINDOW_S` from `--origin` (time.monotonic(), the same clock in every process), open-loop
    (a slow answer does not delay the next request), valid 10-position accounts and junk bodies in
    turn (load.py), each answer's status and latency recorded.

Runs until SIGTERM, then writes its records as JSON to `--out`.

Usage: python3 -m integrity.probe --port N --account ID --out FILE [--what-if RATE --origin T]
"""

import argparse
import collections
import http.client
import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .http_io import account_path
from .load import junk_body, valid_body, what_if_active

PATHS = {"ready": "/ready", "metrics": "/metrics"}


def request(port, method, path, body=None, timeout=5.0):
    """(sent at, status or the exception's name, latency in ms) of one request on a new connection."""
    started = time.monotonic()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        response.read()
        status = response.status
        connection.close()
    except OSError as error:
        status = type(error).__name__
    return started, status, (time.monotonic() - started) * 1000


class Records:
    """Per kind of request, every answer: [sent at (time.monotonic()), status, latency ms]."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers = collections.defaultdict(list)

    def add(self, name, started, status, ms):
        with self.lock:
            self.answers[name].append([round(started, 3), str(status), round(ms, 3)])


def probe(args, records, stopping):
    paths = {**PATHS, "account": account_path(args.account)}
    while not stopping.wait(0.1):
        for name, path in paths.items():
            records.add(name, *request(args.port, "GET", path))


def what_if(args, records, stopping):
    bodies = {"valid": valid_body(), "junk": junk_body()}
    pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="what-if")

    def post(kind):
        records.add(kind, *request(args.port, "POST", "/v1/what-if", bodies[kind], timeout=10))

    sent = 0
    while not stopping.is_set():
        due = args.origin + sent / args.what_if
        delay = due - time.monotonic()
        if delay > 0:
            stopping.wait(delay)
            continue
        sent += 1
        if what_if_active(due, args.origin, args.what_if):
            pool.submit(post, "valid" if sent % 2 else "junk")
    pool.shutdown(wait=True)


def main():
    parser = argparse.ArgumentParser(prog="integrity.probe")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--what-if", type=float, default=0)
    parser.add_argument("--origin", type=float, default=0)
    args = parser.parse_args()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    records = Records()
    threads = [threading.Thread(target=probe, args=(args, records, stopping))]
    if args.what_if > 0:
        threads.append(threading.Thread(target=what_if, args=(args, records, stopping)))
    for thread in threads:
        thread.start()
    while not stopping.wait(0.5):
        pass
    for thread in threads:
        thread.join(timeout=30)
    with open(args.out, "w") as f:
        json.dump(records.answers, f)


if __name__ == "__main__":
    main()
