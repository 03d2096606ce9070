"""An embedded PostgreSQL for development and tests, used when DATABASE_URL is unset.

    python -m tickerarchive.devdb start          # start (initialise if needed), print DATABASE_URL
    python -m tickerarchive.devdb stop
    python -m tickerarchive.devdb url            # print DATABASE_URL if running
    python -m tickerarchive.devdb exec -- CMD    # run CMD with DATABASE_URL set (starting the DB if unset)

It uses the machine's PostgreSQL binaries when there are any (/usr/lib/postgresql/*/bin or
PATH), run as the `postgres` system user when we are root (initdb refuses root), and
otherwise the `pgserver` wheel (PostgreSQL 16 inside the virtualenv). DEVDB_ENGINE=pgserver
forces the wheel; DEVDB_PORT sets the port for machine binaries (default 54329; if that is
taken by another program, a free port is chosen and kept with the cluster). Data
lives in .devdb/ in the repository. No Django import: this runs before settings exist.
"""
from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("DEVDB_DIR", ROOT / ".devdb"))
DEFAULT_PORT = 54329
DATABASE = "tickerarchive"
# A development database: durability is not worth the time here.
FAST_SETTINGS = ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
MAX_SHARED_BUFFERS_MB = 2048


def memory_settings() -> list[str]:
    """A quarter of the machine's memory for PostgreSQL's own cache, up to 2 GB (the default is
    128 MB). With 128 MB, writing a million entries evicted the pages of the indexes it was
    inserting into, over and over: ingest with linking took 399 s, with 2 GB 314 s (one run
    each, bench/ingest.py)."""
    try:
        total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        return []
    return [f"shared_buffers={max(128, min(total_mb // 4, MAX_SHARED_BUFFERS_MB))}MB"]


def log(message: str) -> None:
    print(f"devdb: {message}", file=sys.stderr)


class DevDBError(Exception):
    pass


def machine_bin_dir() -> Path | None:
    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("pg_ctl")
    if found and (Path(found).parent / "initdb").exists():
        return Path(found).resolve().parent
    return None


class MachineCluster:
    """A cluster from the machine's binaries, listening on 127.0.0.1 (port 54329 unless taken)."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        self.data = self._data_dir() / "pg"
        self.logfile = self.data.parent / "postgres.log"
        self.port_file = self.data.parent / "port"
        self.port = int(os.environ.get("DEVDB_PORT") or self._saved_port() or DEFAULT_PORT)

    def _saved_port(self) -> str | None:
        try:
            return self.port_file.read_text().strip() or None
        except OSError:
            return None

    def _choose_port(self) -> None:
        """The port is taken by something else (another checkout's cluster, say): unless the
        user asked for this one, take a free port and keep it with the cluster."""
        if os.environ.get("DEVDB_PORT"):
            raise DevDBError(f"port {self.port} is taken by another program: set DEVDB_PORT to a free port")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.port_file.write_text(str(self.port))
        log(f"port {DEFAULT_PORT} is taken; using {self.port}")

    def _data_dir(self) -> Path:
        if not self.as_root or self._postgres_can_reach(DATA.parent):
            return DATA
        # The checkout is not reachable for the postgres user (a home directory of mode 700):
        # keep the cluster in /var/tmp, one per checkout.
        return Path("/var/tmp") / f"tickerarchive-devdb-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]}"

    @staticmethod
    def _postgres_can_reach(path: Path) -> bool:
        ensure_postgres_user()
        return subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(path)]).returncode == 0

    def _run(self, *args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, text=True, capture_output=capture)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def running(self) -> bool:
        return (self.data / "PG_VERSION").exists() and self._run("pg_ctl", "status", "-D", str(self.data), check=False, capture=True).returncode == 0

    def start(self) -> str:
        if not (self.data / "PG_VERSION").exists():
            self._init()
        if not self.running():
            if port_in_use(self.port):
                self._choose_port()
            options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 " + " ".join(f"-c {s}" for s in FAST_SETTINGS + memory_settings())
            result = self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.logfile), "-o", options, check=False, capture=True)
            if result.returncode != 0:
                raise DevDBError(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{self._log_tail()}")
            log(f"PostgreSQL ({self.bin_dir.parent.name}) started, data in {self.data}")
        exists = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tAc",
                           f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", capture=True).stdout.strip()
        if exists != "1":
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DATABASE)
        return self.url

    def _init(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            owner = pwd.getpwnam("postgres")
            for path in (self.data.parent, self.data):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        os.chmod(self.data, 0o700)
        for locale in ("C.UTF-8", "C"):
            result = self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                               f"--locale={locale}", check=False, capture=True)
            if result.returncode == 0:
                return
        raise DevDBError(f"initdb failed:\n{result.stdout}{result.stderr}")

    def _log_tail(self) -> str:
        try:
            return "postgres.log:\n" + "\n".join(self.logfile.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", capture=True)
            log("stopped")


class WheelCluster:
    """PostgreSQL 16 from the pgserver wheel: unix socket only, no contrib extensions."""

    data = DATA / "pgserver"

    def _server(self):
        import pgserver  # only needed on machines without PostgreSQL binaries

        self.data.mkdir(parents=True, exist_ok=True)
        return pgserver.get_server(self.data, cleanup_mode=None)  # keeps running after we exit

    def start(self) -> str:
        server = self._server()
        if server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';").count("(1 row)") == 0:
            server.psql(f"CREATE DATABASE {DATABASE};")
        info = server.get_postmaster_info()
        return f"postgres://postgres@/{DATABASE}?host={info.socket_dir}"

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    @property
    def url(self) -> str:
        return self.start()

    def stop(self) -> None:
        if self.running():
            import pgserver

            pgserver.pg_ctl(["stop", "-m", "fast"], pgdata=self.data, user="pgserver" if os.geteuid() == 0 else None)
            log("stopped")


def ensure_postgres_user() -> None:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def cluster():
    bin_dir = None if os.environ.get("DEVDB_ENGINE") == "pgserver" else machine_bin_dir()
    if bin_dir is None:
        return WheelCluster()
    if os.geteuid() == 0:
        ensure_postgres_user()
    return MachineCluster(bin_dir)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "start"
    try:
        if command == "start":
            print(cluster().start())
        elif command == "stop":
            cluster().stop()
        elif command == "url":
            db = cluster()
            if not db.running():
                log("not running")
                return 1
            print(db.url)
        elif command == "exec":
            args = argv[1:]
            if args and args[0] == "--":
                args = args[1:]
            if not args:
                log("exec needs a command")
                return 2
            env = dict(os.environ)
            env.setdefault("DJANGO_DEVELOPMENT", "1")  # the development secret key is allowed (settings.py)
            if not env.get("DATABASE_URL"):
                env["DATABASE_URL"] = cluster().start()
            os.execvpe(args[0], args, env)
        else:
            log(f"unknown command {command!r}: start, stop, url or exec -- CMD")
            return 2
    except DevDBError as err:
        log(str(err))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
