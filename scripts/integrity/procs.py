"""The processes under test: the dev-broker and the workers, started and stopped by pid only."""

import ctypes
import json
import os
import signal
import socket
import subprocess
import time

from .common import ROOT, ScenarioError
from .http_io import http_get

PROCESSES = []  # every Popen this harness started (killed by pid on exit)


try:
    _LIBC = ctypes.CDLL("libc.so.6", use_errno=True)  # loaded before any fork
except OSError:
    _LIBC = None


def die_with_parent():
    # PR_SET_PDEATHSIG: a child started here gets SIGKILL if this harness dies without cleaning up.
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)


def start_process(args, log_path):
    out = open(log_path, "ab")
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=die_with_parent, cwd=ROOT)
    out.close()
    PROCESSES.append(proc)
    return proc


def stop_all():
    """Workers first (they leave the group while the broker is up), the dev-broker last."""
    for proc in PROCESSES[1:]:
        _stop([proc])
    _stop(PROCESSES[:1])


def _stop(processes):
    for proc in processes:
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 8
    for proc in processes:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=25):
    try:
        with open(path, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return ""


class Worker:
    def __init__(self, binary, brokers, instance, workdir, extra):
        self.binary, self.brokers, self.instance, self.workdir, self.extra = binary, brokers, instance, workdir, extra
        self.proc, self.port, self.starts = None, None, 0
        self.killed = False

    def start(self):
        self.port = free_port()
        self.starts += 1
        self.killed = False
        args = [self.binary, "run", "--brokers", self.brokers, "--instance-id", self.instance,
                "--http-port", str(self.port), "--log-level", "notice"]
        for setting in self.extra:
            args += ["--set", setting]
        self.log_path = os.path.join(self.workdir, f"{self.instance}.log")
        with open(self.log_path, "ab") as f:
            f.write(f"\n===== start {self.starts}: {' '.join(args)}\n".encode())
        self.proc = start_process(args, self.log_path)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ready(self):
        """(ready, shards, restored_shards) from /ready; ScenarioError if the process died."""
        if not self.alive():
            raise ScenarioError(f"worker {self.instance} exited with {self.proc.returncode}; log: {self.log_path}\n"
                                + tail(self.log_path))
        status, body = http_get(self.port, "/ready", timeout=3)
        data = json.loads(body)
        return bool(data.get("ready")), set(data.get("shards", [])), set(data.get("restored_shards", []))

    def sigkill(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.killed = True


def all_partitions_owned(workers, partitions):
    states = [w.ready() for w in workers]
    union = set()
    for ready, shards, restored in states:
        # Every member gets a share once the group has settled (a worker that has just joined holds none).
        if not ready or shards != restored or union & shards or (not shards and partitions >= len(workers)):
            return False
        union |= shards
    return union == set(range(partitions))
