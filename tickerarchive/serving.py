"""gunicorn on loopback for the load benchmark and the tests that need a real server. No Django import."""
import socket
import subprocess
import sys
import time
from pathlib import Path

from tickerarchive.devdb import port_in_use

ROOT = Path(__file__).resolve().parent.parent


def free_port(ports=range(8300, 8400)) -> int:
    for port in ports:
        if not port_in_use(port):
            return port
    raise RuntimeError(f"no free port in {ports}")


def start_gunicorn(env: dict, port: int, workers: int, log: Path) -> subprocess.Popen:
    """Started and accepting connections on 127.0.0.1:port; the caller terminates it."""
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "tickerarchive.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w"),
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}")
