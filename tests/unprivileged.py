"""Helpers for the test suite's own throwaway servers (PgBouncer, a pg_cron
PostgreSQL 15) that refuse to run as root.

Same approach as pgmodelnames/embedded.py: when we are root, the server runs
as the user nobody, from a private temporary directory (mode 0700) that nobody
owns; otherwise it runs as ourselves.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

AS_NOBODY = os.geteuid() == 0


def free_port() -> int:
    """A 127.0.0.1 port free right now (the caller retries if it is taken before use)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_dir(prefix: str) -> Path:
    """A fresh 0700 temporary directory owned by the user the servers run as."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o700)
    if AS_NOBODY:
        shutil.chown(root, "nobody", pwd.getpwnam("nobody").pw_gid)
    return root


def give(path: Path) -> None:
    """Hand a file we wrote into a private_dir over to the server's user."""
    if AS_NOBODY:
        shutil.chown(path, "nobody", pwd.getpwnam("nobody").pw_gid)


def popen_kwargs() -> dict:
    """subprocess keyword arguments that drop to nobody when we are root.

    Dropping uid/gid in the child (rather than going through runuser) keeps the
    server our direct child, so stop() can signal and wait for it. Its own
    session: a Ctrl-C in the terminal reaches pytest, whose cleanup stops it.
    """
    kwargs: dict = {"start_new_session": True}
    if AS_NOBODY:
        entry = pwd.getpwnam("nobody")
        kwargs.update(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[],
                      env={**os.environ, "HOME": "/nonexistent", "USER": "nobody", "LOGNAME": "nobody"})
    return kwargs


def run(*args: str, timeout: float = 120) -> str:
    """Run a command (as nobody when root); its output, or RuntimeError with it on failure."""
    # Output to a file, not a pipe: a server that pg_ctl leaves running would
    # hold a pipe open, and reading it would never end.
    with tempfile.TemporaryFile("w+") as out:
        result = subprocess.run(list(args), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                timeout=timeout, cwd="/", **popen_kwargs())
        out.seek(0)
        output = out.read()
    if result.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed (exit {result.returncode}): {output.strip()[-2000:]}")
    return output


class Abort(Exception):
    """Raised by a wait_until check to stop waiting at once (e.g. the process exited)."""


def wait_until(check, timeout: float, what: str, interval: float = 0.05):
    """Call check() until it returns a truthy value; TimeoutError after timeout seconds.

    check may raise; the last exception is reported if the deadline passes.
    Abort is not retried: it propagates at once.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Abort:
            raise
        except Exception as exc:  # noqa: BLE001 - reported below
            last = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout:g}s" + (f" (last error: {last})" if last else ""))
        time.sleep(interval)


def tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"
