"""Parsing in a child process with a time and memory budget, so no file can stall the run.

A hostile file can keep a parser busy for minutes (a PDF whose pages share one huge stream) or
make it allocate gigabytes; inside the pipeline's own process nothing could stop that. The
worker is a separate Python process (``python -m litsynth.ingest.worker``) whose address space
is capped (``RLIMIT_AS``: what its imports took plus the memory budget). The parent waits at
most the time budget for each answer; a worker over either budget is killed, the file becomes
"exceeded the parse budget", and the next file gets a fresh worker.

Protocol over the pipes, JSON only (nothing is unpickled from a process that read hostile
bytes): each frame is a 4-byte big-endian length and a payload. Request: a JSON header
``{"name"}`` then the file's bytes. Reply: ``{"result": ParseResult}`` or ``{"error": reason}``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from litsynth.records import PaperRecord, ParseError, ParseResult, PriorClaim, PriorReport

_PACKAGE_PARENT = Path(__file__).resolve().parents[2]
_STARTUP_TIMEOUT_S = 120.0  # importing pypdf on a loaded machine


@dataclass(frozen=True)
class ParseBudget:
    """Per-file limits (``ingest.parse_timeout_s``, ``ingest.parse_memory_bytes``, ``ingest.max_decompressed_bytes``)."""

    timeout_s: float = 30.0
    memory_bytes: int = 512_000_000
    max_decompressed_bytes: int = 50_000_000


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def _read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    size = int.from_bytes(head, "big")
    payload = stream.read(size)
    return payload if len(payload) == size else None


def result_to_json(result: ParseResult) -> dict:
    return dataclasses.asdict(result)


def result_from_json(data: dict) -> ParseResult:
    """The inverse of :func:`result_to_json` (lists back to the records' tuples)."""

    def paper(d: dict) -> PaperRecord:
        return PaperRecord(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def report(d: dict) -> PriorReport:
        claims = tuple(PriorClaim(**c) for c in d.pop("claims"))
        return PriorReport(claims=claims, reference_arxiv_ids=tuple(d.pop("reference_arxiv_ids")), **d)

    return ParseResult(
        format=data["format"],
        papers=[paper(p) for p in data["papers"]],
        reports=[report(r) for r in data["reports"]],
        skipped=list(data["skipped"]),
    )


def _virtual_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _serve(memory_bytes: int, max_decompressed_bytes: int) -> int:
    """The worker's loop: one request in, one reply out, until the parent closes the pipe."""
    from litsynth.ingest import parse_bytes  # the parsers load here, before the cap is set

    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _virtual_bytes() + memory_bytes
    limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)  # never above what this process may have
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    replies.write(_frame(b'{"ready": true}'))
    replies.flush()
    while (header := _read_frame(requests)) is not None and (data := _read_frame(requests)) is not None:
        try:
            result = parse_bytes(data, name=json.loads(header)["name"], max_decompressed_bytes=max_decompressed_bytes)
            reply = json.dumps({"result": result_to_json(result)}).encode("ascii")
        except ParseError as exc:
            reply = json.dumps({"error": str(exc)}).encode("ascii")
        except MemoryError:
            reply = json.dumps({"error": f"exceeded the parse budget: over {memory_bytes / 1e6:g} MB of memory. Fix: raise ingest.parse_memory_bytes"}).encode("ascii")
        except RecursionError:
            reply = b'{"error": "nested too deeply to parse"}'
        except Exception as exc:  # noqa: BLE001 -- a parser bug on one file must not end the worker
            reply = json.dumps({"error": f"the parser failed on this file ({type(exc).__name__}: {exc})"}).encode("ascii")
        del data
        replies.write(_frame(reply))
        replies.flush()
    return 0


class ParseWorker:
    """A parent's handle on the worker process; :meth:`parse` respects the budget. Use as a context manager."""

    def __init__(self, budget: ParseBudget) -> None:
        self.budget = budget
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> "ParseWorker":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                stream.close()
            self._process = None

    def _start(self) -> subprocess.Popen:
        if self._process is None:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))}
            command = [sys.executable, "-m", "litsynth.ingest.worker", str(self.budget.memory_bytes), str(self.budget.max_decompressed_bytes)]
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            if self._reply(time.monotonic() + _STARTUP_TIMEOUT_S) is None:
                self.close()
                raise RuntimeError(f"the parse worker did not start within {_STARTUP_TIMEOUT_S:g} s")
        return self._process

    def _reply(self, deadline: float) -> dict | None:
        """The next reply frame, or None when the worker ended or the deadline passed."""
        fd = self._process.stdout.fileno()
        buffer = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while len(buffer) < 4 or len(buffer) < 4 + int.from_bytes(buffer[:4], "big"):
                if not selector.select(max(deadline - time.monotonic(), 0)):
                    return None
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return None
                buffer += chunk
        return json.loads(bytes(buffer[4:]))

    def parse(self, data: bytes, *, name: str) -> ParseResult:
        """What ``parse_bytes`` would return, or a ParseError; over budget -> "exceeded the parse budget"."""
        process = self._start()
        started = time.monotonic()
        try:
            process.stdin.write(_frame(json.dumps({"name": name}).encode("ascii")) + _frame(data))
            process.stdin.flush()
            reply = self._reply(started + self.budget.timeout_s)
        except BrokenPipeError:
            reply = None
        if reply is None:
            timed_out = process.poll() is None and time.monotonic() - started >= self.budget.timeout_s
            self.close()
            if timed_out:
                raise ParseError(f"exceeded the parse budget: still parsing after {self.budget.timeout_s:g} s. Fix: raise ingest.parse_timeout_s")
            raise ParseError(
                f"exceeded the parse budget: the parser process ended (memory limit {self.budget.memory_bytes / 1e6:g} MB). "
                "Fix: raise ingest.parse_memory_bytes"
            )
        if "error" in reply:
            raise ParseError(reply["error"])
        return result_from_json(reply["result"])


if __name__ == "__main__":
    sys.exit(_serve(int(sys.argv[1]), int(sys.argv[2])))
