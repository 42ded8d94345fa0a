"""Progress of a long loop: ``done/total``, rate and ETA, logged at least every 30 s.

Messages go to the ``litsynth`` logger, which the Dagster instance captures into the run log
(``python_logs.managed_python_loggers`` in ``dagster.yaml``) and the CLI prints on the terminal,
so the same line reaches the UI and the user.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("litsynth.progress")

EVERY_S = 30.0


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Counts work done on ``total`` items of ``what`` and logs it when ``every_s`` has passed
    since the last line (the first and the last update always log)."""

    def __init__(
        self,
        what: str,
        total: int,
        *,
        unit: str = "items",
        every_s: float = EVERY_S,
        logger: logging.Logger = log,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what, self.total, self.unit, self.every_s = what, total, unit, every_s
        self.logger, self.clock = logger, clock
        self.done = 0
        self.started = clock()
        self._last_logged: float | None = None

    def line(self) -> str:
        elapsed = self.clock() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        text = f"{self.what}: {self.done:,}/{self.total:,} {self.unit}"
        if self.total:
            text += f" ({100 * self.done / self.total:.0f} %)"
        text += f", {rate:,.1f} {self.unit}/s, elapsed {_duration(elapsed)}"
        if 0 < self.done < self.total and rate > 0:
            text += f", ETA {_duration((self.total - self.done) / rate)}"
        return text

    def update(self, done: int | None = None, *, advance: int = 0) -> None:
        """Set the count (``done``) or add to it (``advance``); log when due."""
        self.done = done if done is not None else self.done + advance
        now = self.clock()
        finished = self.done >= self.total
        if self._last_logged is None or finished or now - self._last_logged >= self.every_s:
            self._last_logged = now
            self.logger.info(self.line())

    def callback(self) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` callable for loops that report their own counts."""

        def report(done: int, total: int) -> None:
            self.total = total
            self.update(done)

        return report


class heartbeat:
    """A context manager for one long call that cannot count its own steps (a solver's fit, a
    model load): a background thread logs ``what: still running, elapsed …`` every ``every_s``,
    and the end is logged with the total time."""

    def __init__(self, what: str, *, every_s: float = EVERY_S, logger: logging.Logger = log) -> None:
        import threading

        self.what, self.every_s, self.logger = what, every_s, logger
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat:{what}", daemon=True)
        self.started = 0.0

    def _beat(self) -> None:
        while not self._stop.wait(self.every_s):
            self.logger.info(f"{self.what}: still running, elapsed {_duration(time.monotonic() - self.started)}")

    def __enter__(self) -> "heartbeat":
        self.started = time.monotonic()
        self.logger.info(f"{self.what}: started")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        state = "failed" if exc[0] else "done"
        self.logger.info(f"{self.what}: {state} in {_duration(time.monotonic() - self.started)}")
