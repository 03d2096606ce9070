"""Prepare dumps in a second process while this one writes them.

Parsing, linking and formatting a dump (DumpLoader.prepare) needs no database, writing it
needs little Python: run in one process they take turns, and on a machine with two cores
one of them idles. Here a forked process prepares the dumps one after the other and hands
them over through a bounded queue, in the order of the paths; at most QUEUE_DEPTH dumps
wait there, so memory stays flat however many files there are.

The forked process inherits the loader (options, the gazetteer's automaton) and never
touches the database connection it inherits along with it.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import traceback
from collections.abc import Iterator
from pathlib import Path

QUEUE_DEPTH = 16
# Fewer files are prepared in this process: starting another costs more than it saves.
MIN_FILES = 8
POLL_SECONDS = 1.0


class PreparingProcessFailed(RuntimeError):
    pass


def prepared_in_order(loader, paths: list[Path]) -> Iterator:
    """loader.prepare(path) for each path, in order."""
    if len(paths) < MIN_FILES or "fork" not in multiprocessing.get_all_start_methods():
        for path in paths:
            yield loader.prepare(path)
        return
    context = multiprocessing.get_context("fork")
    handover = context.Queue(maxsize=QUEUE_DEPTH)
    worker = context.Process(
        target=_prepare_all, args=(loader, paths, handover, os.getpid()), name="ingest-prepare", daemon=True,
    )
    worker.start()
    try:
        for _ in paths:
            item = _next(handover, worker)
            if isinstance(item, _Failure):
                raise PreparingProcessFailed(f"preparing the dumps failed:\n{item.traceback}")
            yield item
    finally:
        worker.terminate()  # when the writer stops early; after the last dump it has ended
        worker.join()
        handover.close()


class _Failure:
    """An unexpected exception in the preparing process (a bad dump is not one: it comes
    back as a PreparedDump with its error)."""

    def __init__(self, text: str):
        self.traceback = text


def _next(handover, worker):
    while True:
        try:
            return handover.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if not worker.is_alive():
                raise PreparingProcessFailed(
                    f"the process preparing the dumps ended unexpectedly (exit code {worker.exitcode})"
                ) from None


def _prepare_all(loader, paths: list[Path], handover, parent: int) -> None:
    for path in paths:
        try:
            prepared = loader.prepare(path)
        except BaseException:  # noqa: BLE001 - reported to the writer, which stops
            _put(handover, _Failure(traceback.format_exc()), parent)
            return
        _put(handover, prepared, parent)


def _put(handover, item, parent: int) -> None:
    """Wait for room in the queue, but not for a writer that is gone (killed, say)."""
    while True:
        try:
            handover.put(item, timeout=POLL_SECONDS)
            return
        except queue.Full:
            if os.getppid() != parent:
                os._exit(1)
