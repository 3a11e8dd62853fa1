"""A small HTTP/1.1 load generator on asyncio streams, for one server on 127.0.0.1.

It sends prepared request bytes over keep-alive connections and reads responses framed by
Content-Length, as uvicorn frames its response to a Bolt acknowledgement. Any other framing, a
timeout or a dropped connection counts as an error, and so does every status but 200.
"""

from __future__ import annotations

import asyncio
import gc
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

HOST = "127.0.0.1"
REQUEST_TIMEOUT_SECONDS = 10.0
# Every phase must end inside the 5 minutes for which Bolt accepts a request's signature.
PHASE_TIME_LIMIT_SECONDS = 240.0
OPEN_LOOP_CONNECTIONS = 32
MAX_HEAD_BYTES = 64 * 1024


class ProtocolError(Exception):
    """The server's response is not one this client can frame."""


@dataclass
class PhaseResult:
    """Measurements of one phase. Latencies are in seconds, one per response received."""

    requests: int
    # time.monotonic() when the first request was sent, and seconds until the last response.
    started_at: float = 0.0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    # Open loop only: the maximum time, in seconds, by which a send fell behind schedule.
    max_send_lag: float = 0.0

    @property
    def throughput(self) -> float:
        """Requests per second over the phase's wall-clock time."""
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, fraction: float) -> float:
        """Return a latency percentile by the nearest-rank method, in seconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[nearest_rank(fraction, len(ordered)) - 1]


def nearest_rank(fraction: float, count: int) -> int:
    """Return the 1-based rank of a percentile among `count` sorted values (nearest rank)."""
    # Rounding first keeps 0.99 * 1000 from landing a hair above 990.
    return max(1, math.ceil(round(fraction * count, 9)))


@contextmanager
def garbage_collection_paused() -> Iterator[None]:
    """Collect garbage now and not again until the block ends.

    A full collection walks every object of the imported libraries and can stall the
    generator for tens of milliseconds, which an open-loop schedule would count as latency.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def build_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """Return the bytes of one HTTP/1.1 POST with a Content-Length body."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Content-Length: {len(body)}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One keep-alive connection that sends a request and reads its whole response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.reusable = True

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port, limit=MAX_HEAD_BYTES)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> int:
        """Send a request and return the response's status code once its body is read."""
        self._writer.write(request)
        await self._writer.drain()
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as failure:
            raise ProtocolError(f"response head longer than {MAX_HEAD_BYTES} bytes") from failure
        status_line, *header_lines = head[:-4].split(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"invalid status line {status_line[:80]!r}")

        length = 0
        for line in header_lines:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            value = value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise ProtocolError(f"unsupported Transfer-Encoding {value!r}")
            elif name == b"connection" and value == b"close":
                self.reusable = False
        if length:
            await self._reader.readexactly(length)
        return int(parts[1])

    def close(self) -> None:
        self._writer.close()


def _describe(failure: BaseException) -> str:
    if isinstance(failure, TimeoutError):
        return f"timed out after {REQUEST_TIMEOUT_SECONDS:g} s"
    if isinstance(failure, ProtocolError):
        return f"invalid response: {failure}"
    return f"connection failed: {type(failure).__name__}"


_FAILURES = (OSError, TimeoutError, ProtocolError, asyncio.IncompleteReadError, ValueError)


async def run_closed_loop(port: int, requests: Sequence[bytes], concurrency: int) -> PhaseResult:
    """Send the requests over `concurrency` connections, each sending when it gets a response."""
    result = PhaseResult(requests=len(requests))
    connections = [await Connection.open(port) for _ in range(concurrency)]
    pending = iter(requests)
    result.started_at = time.monotonic()
    start = time.perf_counter()
    deadline = start + PHASE_TIME_LIMIT_SECONDS

    async def send_in_turn(connection: Connection | None) -> None:
        for request in pending:
            if time.perf_counter() > deadline:
                result.errors[f"not sent within {PHASE_TIME_LIMIT_SECONDS:g} s"] += 1
                continue
            sent_at = time.perf_counter()
            try:
                if connection is None:
                    connection = await Connection.open(port)
                async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                    status = await connection.exchange(request)
            except _FAILURES as failure:
                result.errors[_describe(failure)] += 1
                if connection is not None:
                    connection.close()
                connection = None
                continue
            result.latencies.append(time.perf_counter() - sent_at)
            if status != 200:
                result.errors[f"HTTP {status}"] += 1
            if not connection.reusable:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()

    await asyncio.gather(*(send_in_turn(connection) for connection in connections))
    result.elapsed = time.perf_counter() - start
    return result


async def run_open_loop(port: int, requests: Sequence[bytes], rate: float) -> PhaseResult:
    """Send request i at start + i / rate, whether or not earlier responses have arrived.

    Each latency runs from the scheduled send time to the end of the response, so time spent
    waiting for a free connection or behind a late generator counts as queueing.
    """
    result = PhaseResult(requests=len(requests))
    idle: asyncio.Queue[Connection | None] = asyncio.Queue()
    for _ in range(OPEN_LOOP_CONNECTIONS):
        idle.put_nowait(await Connection.open(port))
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[None]] = []
    all_launched = asyncio.Event()
    start = time.monotonic() + 0.05
    result.started_at = start

    async def send_at(request: bytes, scheduled: float) -> None:
        connection = await idle.get()
        try:
            if connection is None:
                connection = await Connection.open(port)
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                status = await connection.exchange(request)
        except _FAILURES as failure:
            result.errors[_describe(failure)] += 1
            if connection is not None:
                connection.close()
            idle.put_nowait(None)
            return
        result.latencies.append(time.monotonic() - scheduled)
        if status != 200:
            result.errors[f"HTTP {status}"] += 1
        idle.put_nowait(connection if connection.reusable else None)
        if not connection.reusable:
            connection.close()

    def launch(request: bytes, scheduled: float) -> None:
        result.max_send_lag = max(result.max_send_lag, time.monotonic() - scheduled)
        tasks.append(loop.create_task(send_at(request, scheduled)))

    def keep_schedule() -> None:
        # A thread sleeping in time.sleep wakes closer to the schedule than asyncio.sleep,
        # whose epoll timeout is rounded up to whole milliseconds.
        for index, request in enumerate(requests):
            scheduled = start + index / rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            loop.call_soon_threadsafe(launch, request, scheduled)
        loop.call_soon_threadsafe(all_launched.set)

    scheduler = threading.Thread(target=keep_schedule, name="open-loop-schedule", daemon=True)
    scheduler.start()
    await all_launched.wait()
    scheduler.join()
    try:
        async with asyncio.timeout(PHASE_TIME_LIMIT_SECONDS):
            await asyncio.gather(*tasks)
    except TimeoutError:
        unfinished = sum(1 for task in tasks if task.cancelled() or not task.done())
        result.errors[f"not answered within {PHASE_TIME_LIMIT_SECONDS:g} s"] += unfinished
    result.elapsed = time.monotonic() - start

    while not idle.empty():
        connection = idle.get_nowait()
        if connection is not None:
            connection.close()
    return result
