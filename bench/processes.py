"""Start bench.target servers as subprocesses, and read how much CPU time they use."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from bench.report import REPO_ROOT

READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
IDLE_POLL_SECONDS = 0.1
# Long enough for caretbot to drain the listener backlog of a few thousand events.
IDLE_TIMEOUT_SECONDS = 60.0
# A line of bot.config.configure_logging's format at level ERROR or CRITICAL.
_LOG_ERROR = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) ")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class TargetFailed(Exception):
    """A target process did not start or stopped early. The message ends with its log's tail."""


class TargetProcess:
    """One `python -m bench.target` process, with its stderr written to `log_path`."""

    def __init__(self, label: str, args: list[str], log_path: Path) -> None:
        self.label = label
        self.args = args
        self.log_path = log_path
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None, "the target is not started"
        return self._process.pid

    def start(self) -> TargetProcess:
        """Start the process and wait for its `ready port=N` line."""
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "bench.target", *self.args],
                cwd=REPO_ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        assert self._process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise TargetFailed(self._failure(f"not ready within {READY_TIMEOUT_SECONDS:g} s"))
            readable, _, _ = select.select([self._process.stdout], [], [], remaining)
            if not readable:
                continue
            line = self._process.stdout.readline().decode("utf-8", "replace").strip()
            if line.startswith("ready port="):
                self.port = int(line.removeprefix("ready port="))
                return self
            if not line and self._process.poll() is not None:
                raise TargetFailed(self._failure(f"exited with status {self._process.returncode}"))

    def check_running(self) -> None:
        """Raise TargetFailed if the process has exited."""
        if self._process is not None and self._process.poll() is not None:
            raise TargetFailed(self._failure(f"exited with status {self._process.returncode}"))

    def stop(self) -> None:
        """Close stdin, which makes the target shut down, and kill it if it does not."""
        if self._process is None or self._process.poll() is not None:
            return
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def logged_errors(self) -> list[str]:
        """Return the ERROR and CRITICAL lines of the target's log, without tracebacks."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if _LOG_ERROR.match(line)]

    def _failure(self, problem: str) -> str:
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        tail = "\n".join(lines[-20:]) or "(empty)"
        return f"target {self.label!r} {problem}. Last lines of {self.log_path}:\n{tail}"


def cpu_seconds(pid: int) -> float | None:
    """Return the user plus system CPU time of a process and all its threads, or None.

    Reads /proc, so it returns None on systems without it. The resolution is one clock tick,
    usually 10 ms.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in brackets may contain spaces, so split after its closing bracket.
    fields = stat.rpartition(")")[2].split()
    user_ticks, system_ticks = int(fields[11]), int(fields[12])
    return (user_ticks + system_ticks) / _CLOCK_TICKS


def wait_until_idle(pid: int) -> float | None:
    """Wait until the process uses no CPU for one poll interval.

    Returns the time.monotonic() at which that idle interval began, or None when the process
    is still busy after IDLE_TIMEOUT_SECONDS or its CPU time cannot be read. Bolt runs
    listeners after acknowledging, so work may still be queued when the last response
    arrives. Waiting keeps that work out of the next measurement.
    """
    before = cpu_seconds(pid)
    if before is None:
        time.sleep(1.0)
        return None
    sampled_at = time.monotonic()
    deadline = sampled_at + IDLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(IDLE_POLL_SECONDS)
        after = cpu_seconds(pid)
        if after is None:
            return None
        if after == before:
            return sampled_at
        before, sampled_at = after, time.monotonic()
    return None


def machine_busy_seconds() -> float | None:
    """Return the CPU time that all CPUs have spent busy since boot, or None without /proc.

    Busy time is every /proc/stat column but idle and iowait, so it includes steal time,
    which a hypervisor gave to other machines.
    """
    try:
        first_line = Path("/proc/stat").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    # cpu user nice system idle iowait irq softirq steal guest guest_nice; guest time is
    # already counted in user and nice.
    ticks = [int(value) for value in first_line.split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


def available_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
