#!/usr/bin/env python3
"""The flood half of scripts/connection-test: holds more TCP connections to a worker's HTTP port
than its open-file limit allows, idle, and checks from outside that the flood costs refused
connections, never the process:

  1. the worker closes the connections past its cap at once and, after `http_idle_timeout_ms`,
     every idle one it accepted;
  2. meanwhile the process stays alive (no trap, no signal);
  3. afterwards /health, /ready and an account query answer, `margin_http_connections_refused_total`
     counted the refused ones, and `margin_http_connections` is back near zero.

Traffic goes to 127.0.0.1 only; the loops are bounded in count and time.

Usage: connection_flood.py PORT WORKER_PID ACCOUNT_ID CONNECTIONS IDLE_TIMEOUT_S
"""
import os
import re
import select
import socket
import sys
import time
import urllib.parse
import urllib.request


def fail(message):
    sys.exit(f"connection-test: {message}")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not reaped) is dead too.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def closed_by_peer(sock):
    """True when the peer closed (EOF or reset); False while the connection is open."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def metric(text, name):
    match = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    return float(match.group(1)) if match else None


def main(port, pid, account, count, idle_timeout):
    base = f"http://127.0.0.1:{port}"
    socks = []
    for _ in range(count):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError as error:  # the backlog is full: refused by the kernel, which is fine
            print(f"connection-test: connect refused after {len(socks)}: {error}")
            break
    time.sleep(1.0)
    if not alive(pid):
        fail(f"the worker died while {len(socks)} connections were held")
    refused_at_once = sum(closed_by_peer(s) for s in socks)
    print(f"connection-test: {len(socks)} connections opened, {refused_at_once} closed by the worker within a second "
          "(past the cap, or already idle)")
    if refused_at_once == 0:
        fail("no connection was refused although the flood exceeds the open-file limit")
    # Every accepted one is idle: the server must close it within the idle timeout (plus slack).
    deadline = time.monotonic() + idle_timeout + 5
    open_socks = [s for s in socks if not closed_by_peer(s)]
    while open_socks and time.monotonic() < deadline:
        time.sleep(0.2)
        if not alive(pid):
            fail("the worker died while idle connections were held")
        open_socks = [s for s in open_socks if not closed_by_peer(s)]
    if open_socks:
        fail(f"{len(open_socks)} idle connections still open {idle_timeout + 5:.0f} s after the flood")
    print(f"connection-test: every idle connection closed by the worker within {idle_timeout + 5:.0f} s")
    for s in socks:
        s.close()
    if not alive(pid):
        fail("the worker died")
    status, _ = get(base + "/health")
    if status != 200:
        fail(f"/health answered {status} after the flood")
    status, body = get(base + "/ready")
    if status != 200:
        fail(f"/ready answered {status} after the flood: {body}")
    status, body = get(f"{base}/v1/accounts/{urllib.parse.quote(account, safe='')}")
    if status != 200 or account not in body:
        fail(f"GET /v1/accounts/{account} answered {status} after the flood")
    _, metrics = get(base + "/metrics")
    refused = metric(metrics, "margin_http_connections_refused_total")
    if not refused:
        fail("margin_http_connections_refused_total did not count the refused connections")
    open_now = metric(metrics, "margin_http_connections")
    if open_now is None or open_now > 3:
        fail(f"margin_http_connections is {open_now} after the flood (connections not given back)")
    print(f"connection-test: after the flood the worker answers; {refused:.0f} refused counted, {open_now:.0f} open")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
