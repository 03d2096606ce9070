"""A primary and a streaming replica on loopback from the machine's PostgreSQL binaries.

For the replication test and the load benchmark, not for production (fsync is off):

    python -m tickerarchive.replicaset start DIR [--primary-port 54440] [--replica-port 54441]
    python -m tickerarchive.replicaset stop DIR

`start` prints DATABASE_URL and DATABASE_REPLICA_URLS as shell assignments. The primary
runs with wal_level=replica; the replica is made with `pg_basebackup -R` (it writes
primary_conninfo and standby.signal) and streams from the primary over TCP. initdb's
pg_hba.conf already trusts replication connections from 127.0.0.1. Run as root, the
clusters belong to the `postgres` user (initdb refuses root). No Django import.
"""
from __future__ import annotations

import argparse
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tickerarchive.devdb import DATABASE, DevDBError, FAST_SETTINGS, ensure_postgres_user, machine_bin_dir, port_in_use


class LocalCluster:
    def __init__(self, bin_dir: Path, data: Path, port: int, name: str):
        self.bin_dir, self.data, self.port, self.name = bin_dir, data, port, name
        self.logfile = data.parent / f"{name}.log"
        self.as_root = os.geteuid() == 0

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, text=True, capture_output=True)
        if check and result.returncode != 0:
            raise DevDBError(f"{args[0]} failed ({self.name}):\n{result.stdout}{result.stderr}\n{self.log_tail()}")
        return result

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def start(self, *settings: str) -> None:
        if port_in_use(self.port):
            raise DevDBError(f"port {self.port} is taken")
        options = [f"-p {self.port}", f"-k {self.data}", "-c listen_addresses=127.0.0.1",
                   "-c cluster_name=" + self.name, *(f"-c {s}" for s in (*FAST_SETTINGS, *settings))]
        self.run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.logfile), "-o", " ".join(options))

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", "fast", check=False)

    def psql(self, sql: str, database: str = DATABASE) -> str:
        return self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                        "-tAXc", sql).stdout.strip()

    def log_tail(self) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""


class ReplicaSet:
    """`settings` are extra server settings for both (e.g. log_statement=all for a test)."""

    def __init__(self, directory: Path, primary_port: int, replica_port: int, settings: tuple[str, ...] = ()):
        bin_dir = machine_bin_dir()
        if bin_dir is None:
            raise DevDBError("no PostgreSQL binaries on this machine (/usr/lib/postgresql/*/bin)")
        self.directory = directory
        self.settings = settings
        self.primary = LocalCluster(bin_dir, directory / "primary", primary_port, "primary")
        self.replica = LocalCluster(bin_dir, directory / "replica", replica_port, "replica")

    def create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            ensure_postgres_user()
            owner = pwd.getpwnam("postgres")
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        for locale in ("C.UTF-8", "C"):  # as devdb: C.UTF-8 where the system has it
            made = self.primary.run("initdb", "-D", str(self.primary.data), "-U", "postgres", "--auth=trust",
                                    "-E", "UTF8", f"--locale={locale}", "--no-sync", check=locale == "C")
            if made.returncode == 0:
                break
        self.start_primary()
        self.primary.run("createdb", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres", DATABASE)
        # -R: write standby.signal and primary_conninfo; -X stream: WAL during the copy too.
        self.primary.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
                         "-D", str(self.replica.data), "-R", "-X", "stream", "-c", "fast", "--no-sync")
        self.start_replica()

    def start_primary(self) -> None:
        self.primary.start("wal_level=replica", "max_wal_senders=5", *self.settings)

    def start_replica(self) -> None:
        self.replica.start(*self.settings)

    def wait_until_replayed(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = self.primary.psql("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while self.replica.psql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") != "t":
            if time.monotonic() > deadline:
                raise DevDBError(f"the replica did not reach {target} in {timeout} s")
            time.sleep(0.1)

    def stop(self) -> None:
        self.replica.stop()
        self.primary.stop()

    def environment(self) -> dict[str, str]:
        return {"DATABASE_URL": self.primary.url, "DATABASE_REPLICA_URLS": self.replica.url}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tickerarchive.replicaset", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--primary-port", type=int, default=54440)
    parser.add_argument("--replica-port", type=int, default=54441)
    args = parser.parse_args(argv)
    replica_set = ReplicaSet(args.directory.resolve(), args.primary_port, args.replica_port)
    try:
        if args.command == "start":
            replica_set.create()
            for name, value in replica_set.environment().items():
                print(f"{name}={value}")
        else:
            replica_set.stop()
            shutil.rmtree(args.directory, ignore_errors=True)
    except DevDBError as error:
        print(f"replicaset: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
