"""Bounded reads of user files, checked on the opened descriptor, and names safe to log.

A path checked when a folder is listed can be something else by the time it is read (a FIFO,
a symlink out of the folder, ``/dev/zero``), so every check happens on the descriptor that is
read: the file is opened in its folder with ``O_NOFOLLOW`` (a symlink swapped in is refused)
and ``O_NONBLOCK`` (opening a FIFO never waits), then
``fstat`` must say "regular file" and the read stops one byte past the limit whatever the size
said.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symbolic link"),
)
# C0 and C1 controls, DEL, and the bidirectional overrides that make a name display reordered.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_READ_CHUNK = 1 << 20


class UnreadableFile(ValueError):
    """A file that is not read: not a regular file, a link, over the size limit, or an OS error."""


def printable(text: str) -> str:
    """``text`` with control, terminal-escape and bidi characters shown as ``\\xNN`` / ``\\uNNNN``."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _kind(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def _open_no_follow(path: Path) -> int:
    """A read-only, non-blocking descriptor of ``path`` itself, refusing a symlink there."""
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return os.open(path.name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableFile("a symbolic link; links are not followed (copy the file into the folder instead)") from exc
        raise
    finally:
        os.close(folder)


def read_regular(path: Path, *, max_bytes: int, limit_name: str) -> bytes:
    """The bytes of regular file ``path``, at most ``max_bytes`` of them.

    Raises :class:`UnreadableFile` with a one-line reason for anything else; ``limit_name`` is
    the setting that raises the size limit, named in the reason.
    """
    try:
        fd = _open_no_follow(path)
    except OSError as exc:
        raise UnreadableFile(f"cannot open it: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{_kind(info.st_mode)}, not a regular file; only regular files are read")
        if info.st_size > max_bytes:
            raise UnreadableFile(f"file is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit. Fix: split it, or raise {limit_name}")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(_READ_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise UnreadableFile(f"file grew past the {max_bytes:,}-byte limit while being read. Fix: split it, or raise {limit_name}")
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(f"cannot read it: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
