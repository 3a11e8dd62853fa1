"""The double's record of calls: recording, waiting for calls, and queued injected failures."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """One request the double received, with its response. `at` is from the double's clock.

    `args` are the decoded arguments without the token. File uploads are recorded with method
    "upload" and response_url posts with method "response_url".
    """

    method: str
    args: dict
    status: int
    response: dict
    ok: bool
    error: str | None
    at: float


@dataclass
class Failure:
    """An injected failure and how many more calls it applies to."""

    status: int
    error: str
    retry_after: int | None
    remaining: int


class CallLog:
    """Thread-safe list of calls in arrival order, plus the failures queued per method."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._calls: list[Call] = []
        self._failures: dict[str, list[Failure]] = {}

    def record(self, call: Call) -> None:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        logger.debug(
            "slackdouble call method=%s status=%s ok=%s error=%s",
            call.method,
            call.status,
            call.ok,
            call.error,
        )

    def snapshot(self) -> list[Call]:
        with self._changed:
            return list(self._calls)

    def wait_for(
        self, method: str, count: int, timeout: float, where: Callable[[Call], bool] | None
    ) -> list[Call]:
        """Block until `count` calls to `method` match `where`, and return all matches.

        `timeout` is in real seconds. Raises AssertionError listing the calls that did arrive.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matches = [
                    call
                    for call in self._calls
                    if call.method == method and (where is None or where(call))
                ]
                remaining = deadline - time.monotonic()
                if len(matches) >= count or remaining <= 0:
                    break
                self._changed.wait(remaining)
            if len(matches) >= count:
                return matches
            arrived = ", ".join(
                f"{call.method}({'ok' if call.ok else call.error})" for call in self._calls
            )
        raise AssertionError(
            f"timed out after {timeout}s waiting for {count} matching call(s) to {method}; "
            f"got {len(matches)}. Calls received: [{arrived}]"
        )

    def add_failure(self, method: str, failure: Failure) -> None:
        with self._changed:
            self._failures.setdefault(method, []).append(failure)

    def take_failure(self, method: str) -> Failure | None:
        """Return the failure the next call to `method` gets, counting this call against it."""
        with self._changed:
            queue = self._failures.get(method)
            if not queue:
                return None
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
            return failure

    def clear(self) -> None:
        with self._changed:
            self._calls.clear()
            self._failures.clear()
