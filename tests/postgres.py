"""A real, throw-away PostgreSQL server for tests: initdb + pg_ctl in a temporary folder.

The server listens on 127.0.0.1 on a free port, trusts loopback connections (no password),
and is stopped by the PID in its postmaster.pid. ``initdb`` refuses to run as root, so when
the tests run as root the cluster is created and run as an unprivileged user (``postgres``
from the Debian package, else ``nobody``) with ``runuser``/``setpriv``; the temporary folder
is handed to that user. Binaries come from ``LITSYNTH_PG_BIN`` or ``/usr/lib/postgresql/*/bin``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl (newest Debian version first), or None."""
    candidates = [os.environ["LITSYNTH_PG_BIN"]] if os.environ.get("LITSYNTH_PG_BIN") else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0, reverse=True)
    for folder in candidates:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> str | None:
    """The unprivileged user to run the server as when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither user 'postgres' nor 'nobody' exists; initdb refuses root")


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    user: str | None
    pid: int | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def superuser(self) -> str:
        return "litsynth"

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq key=value DSN (what DuckDB's postgres extension and DuckLake take)."""
        return f"host={self.host} port={self.port} user={self.superuser} dbname={dbname}"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg2://{self.superuser}@{self.host}:{self.port}/{dbname}"  # SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3

    def _cmd(self, *args: str) -> list[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user is None:
            return cmd
        return ["setpriv", f"--reuid={self.user}", f"--regid={pwd.getpwnam(self.user).pw_gid}", "--init-groups", "--", *cmd]

    def start(self) -> "PostgresServer":
        self.data_dir.mkdir(parents=True)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            for path in (self.root, self.data_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        subprocess.run(
            self._cmd("initdb", "-D", str(self.data_dir), "-U", self.superuser, "--auth=trust", "-E", "UTF8", "--no-sync"),
            check=True, capture_output=True, env=env, cwd=self.root,
        )
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=200 -c shared_buffers=64MB"
        subprocess.run(
            self._cmd("pg_ctl", "-D", str(self.data_dir), "-l", str(self.root / "server.log"), "-o", options, "-w", "-t", "60", "start"),
            check=True, capture_output=True, env=env, cwd=self.root,
        )
        self.pid = int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        return self

    def create_database(self, name: str) -> str:
        import psycopg2

        con = psycopg2.connect(self.dsn())
        con.autocommit = True
        try:
            con.cursor().execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()
        return self.dsn(name)

    def stop(self) -> None:
        """Stop the server by the PID in postmaster.pid: SIGINT (PostgreSQL's "fast" shutdown), then
        SIGKILL if it is still there after 30 s."""
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGINT)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                os.kill(self.pid, 0)
                time.sleep(0.1)
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.pid = None


def start_postgres(bin_dir: Path | None = None) -> PostgresServer:
    bin_dir = bin_dir or find_pg_bin()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin; run scripts/bootstrap.sh")
    root = Path(tempfile.mkdtemp(prefix="litsynth-pg-"))
    server = PostgresServer(bin_dir=bin_dir, root=root, port=_free_port(), user=_run_as())
    try:
        return server.start()
    except BaseException:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise


def remove(server: PostgresServer) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
