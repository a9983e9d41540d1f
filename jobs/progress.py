"""What the user sees while a run goes: one line per stage start, live progress, result.

On a terminal the running stage has one line redrawn in place twice a second: records
read of those expected (the upstream ledger's `out`), characters or tokens, throughput
and elapsed time, summed from the files the workers' progress steps write
(`pipeline/transforms/progress`). Anywhere else (a log file, CI) the same figures come as
a plain line once a minute, so logs stay short.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

QUIET_LOGGERS = ("apache_beam", "luigi", "luigi-interface", "root", "absl")


def quiet_logging(verbose: bool = False) -> None:
    """Keep Beam's and luigi's INFO chatter out of the terminal unless asked for."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=logging.ERROR if not verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(level if name != "root" else logging.ERROR)


_console = None  # the terminal while file descriptor 2 is captured, else sys.stderr


_live_line = threading.Lock()
_live = False  # a progress line is drawn on the terminal and must be cleared before text

LIVE_SECONDS = 0.5
PLAIN_SECONDS = 60.0


def _stream():
    return _console or sys.stderr


def say(message: str) -> None:
    """A progress line for the user; it reaches the terminal even while stderr is captured."""
    with _live_line:
        stream = _stream()
        if _live:
            stream.write("\r\x1b[K")
        print(message, file=stream, flush=True)


def _draw(line: str) -> None:
    global _live
    with _live_line:
        _stream().write("\r" + line + "\x1b[K")
        _stream().flush()
        _live = True


def _clear() -> None:
    global _live
    with _live_line:
        if _live:
            _stream().write("\r\x1b[K")
            _stream().flush()
        _live = False


def _human(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


def progress_line(stage: str, elapsed: float, elements: int, amount: int, unit: str,
                  expected: int | None) -> str:
    """`[stage] 1,234/4,000 records (31%) · 45.6M chars · 2.1M chars/s · 35s`."""
    if not elements:
        return f"[{stage}] running ... {elapsed:.0f}s"
    done = f"{elements:,}/{expected:,} records ({min(elements / expected, 1):.0%})" if (
        expected) else f"{elements:,} records"
    parts = [done]
    if unit:
        parts += [f"{_human(amount)} {unit}", f"{_human(amount / max(elapsed, 1e-9))} {unit}/s"]
    return f"[{stage}] " + " · ".join([*parts, f"{elapsed:.0f}s"])


@contextmanager
def capture_stderr(log_path: str | None) -> Iterator[None]:
    """Send file descriptor 2 (ours and Beam's worker subprocesses') to `log_path`.

    Beam's SDK workers log INFO lines to the stderr they inherit before any option can
    quiet them; capturing the descriptor keeps the terminal to longweave's own progress
    lines and keeps the full log on disk for when something goes wrong.
    """
    global _console
    if log_path is None:
        yield
        return
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    previous_console = _console
    _console = os.fdopen(os.dup(saved), "w")
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        _console.close()
        _console = previous_console


ESCALATE_SECONDS = 10.0  # after a stall's SIGINT, how long before the workers are killed


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Beam's worker subprocesses), from /proc."""
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", encoding="ascii") as handle:
                    children = [int(c) for c in handle.read().split()]
            except OSError:
                continue
            found += children
            queue += children
    return found


def _interrupt_job(done: threading.Event) -> None:
    """Stop a stalled job: SIGINT to this process (the main thread waits on the job). A
    runner whose shutdown then waits on a dead worker's stream is unblocked by killing the
    worker subprocesses, and interrupted again."""
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(3):
        if done.wait(ESCALATE_SECONDS):
            return
        for child in descendants(os.getpid()):
            try:
                os.kill(child, signal.SIGKILL)
            except OSError:
                pass
        os.kill(os.getpid(), signal.SIGINT)


class StageStalled(RuntimeError):
    """A stage's job finished no element for `runner.stall_seconds`: a hung worker, most
    often. Not a recipe error, so `--retries` runs the stage again."""


@contextmanager
def stage_progress(stage: str, folder: str | None = None, expected: int | None = None,
                   stall_seconds: float = 0.0) -> Iterator[None]:
    """Announce a stage, show its progress while it runs (see the module docstring), and
    leave the terminal clean for its result line.

    With a progress `folder` and `stall_seconds` > 0, a job whose workers finish no element
    for that long is interrupted (SIGINT to this process, whose main thread waits on the
    job) and the stage fails with `StageStalled`, naming the last progress seen.
    """
    from longweave.pipeline.transforms.progress import Progress, read_progress

    start = time.monotonic()
    done = threading.Event()
    live = _stream().isatty()
    stalled: list[str] = []

    def beat() -> None:
        seen, moved = Progress(), time.monotonic()
        tick = LIVE_SECONDS if live else PLAIN_SECONDS
        if stall_seconds:
            tick = min(tick, max(0.05, stall_seconds / 4))
        last_line = start
        while not done.wait(tick):
            now = time.monotonic()
            progress = read_progress(folder) if folder else Progress()
            line = progress_line(stage, now - start, progress.elements, progress.amount,
                                 progress.unit, expected)
            if progress.activity != seen.activity:
                seen, moved = progress, now
            elif folder and stall_seconds and now - moved > stall_seconds:
                stalled.append(f"[{stage}] no element finished for {now - moved:.0f}s "
                               f"(runner.stall_seconds {stall_seconds:g}); last progress: "
                               + line.removeprefix(f"[{stage}] "))
                _interrupt_job(done)
                return
            if live:
                _draw(line)
            elif now - last_line >= PLAIN_SECONDS:
                say(line)
                last_line = now

    say(f"[{stage}] started")
    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    except BaseException:  # Beam may wrap the interrupt as a RuntimeError of the step
        if stalled:
            raise StageStalled(stalled[0]) from None
        raise
    finally:
        done.set()
        thread.join()
        _clear()
