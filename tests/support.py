"""Helpers shared by the tests (importable: tests/ is on pytest's pythonpath)."""
import io
from pathlib import Path

from django.core.management import call_command

TESTS = Path(__file__).resolve().parent
SHARED = TESTS.parent.parent / "shared"


class CommandRun:
    def __init__(self, exit_code: int, stdout: str, stderr: str):
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr


def run_command(name: str, *args) -> CommandRun:
    """Run a management command as a user would, keeping its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *[str(a) for a in args], stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    return CommandRun(code, out.getvalue(), err.getvalue())
