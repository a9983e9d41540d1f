"""Local SDK workers forked from a warm process instead of started cold.

On the DirectRunner's multi_processing mode every Beam job starts one fresh Python per
worker, and each spends about 1.4 CPU-s importing Beam before it does any work: with two
workers and eight stages that is over 20 CPU-s a run, and 2.8 of a small stage's ~10 s
of fixed cost. `longweave run` instead forks a fork server at start-up, before any stage
(and so before gRPC exists in the driver: forking a process that has live gRPC threads is
unsafe), which imports Beam's worker once, and each job's own transforms when the driver
asks before the job. Each job's workers are then forked from it (copy-on-write,
milliseconds) through `fork_client.py`, the command the runner starts in place of
`python -m apache_beam.runners.worker.sdk_worker_main`.

Nothing else changes: the runner is the same FnApiRunner with the same worker count, the
workers speak the same gRPC protocol, and a worker's exit code, stdio and death (the
stall watchdog kills workers) reach the runner as a subprocess's would. Linux only (fork
without exec is unsafe on macOS); `LONGWEAVE_FORKED_WORKERS=0` turns it off; a fork server
that has died (the watchdog kills the driver's descendants) is not restarted, and jobs
fall back to Beam's own workers.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import shlex
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

CLIENT = Path(__file__).with_name("fork_client.py")
_WARM_MODULES = ("apache_beam.runners.worker.sdk_worker_main",
                 "longweave.pipeline.transforms.stage")
_WARM = "warm"  # a request that asks the server itself to import modules, not to fork
_SERVER: ForkServer | None = None
_STOP_SECONDS = 5.0  # how long a stopping server may take to reap its workers


class ForkServer:
    """A child process that forks SDK workers on request (see the module docstring)."""

    def __init__(self, pid: int, socket_path: str, lifeline: int) -> None:
        self.pid, self.socket_path, self._lifeline = pid, socket_path, lifeline

    def command(self) -> str:
        """The worker command line for Beam's SubprocessSDKEnvironment (run by a shell)."""
        return " ".join(shlex.quote(part) for part in
                        (sys.executable, "-S", "-I", str(CLIENT), self.socket_path))

    def warm(self, modules: Sequence[str]) -> bool:
        """Have the server import `modules` (a job's own transforms) before it forks that
        job's workers, so each worker does not import them again; False if it could not."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(120)
                conn.connect(self.socket_path)
                payload = json.dumps({_WARM: list(modules)}).encode()
                conn.sendall(struct.pack("!I", len(payload)) + payload)
                return conn.recv(1) == b"1"
        except OSError:
            return False

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def stop(self) -> None:
        """End the server and reap it, and remove its socket folder. A closed lifeline asks
        it to reap its own workers and exit, so their CPU time reaches this process's
        children's; one that does not within `_STOP_SECONDS` (still warming up: a run that
        had nothing to do must not wait for that) is terminated."""
        try:
            os.close(self._lifeline)
        except OSError:
            return
        deadline = time.monotonic() + _STOP_SECONDS
        try:
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    os.kill(self.pid, signal.SIGTERM)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.01)
        except (ChildProcessError, ProcessLookupError):
            pass
        with contextlib.suppress(OSError):
            os.unlink(self.socket_path)
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(self.socket_path))


def start(preload: Sequence[Callable[[], object]] = ()) -> ForkServer | None:
    """Start the fork server once per process (None where it cannot run); call it before
    any Beam job, while the driver has a single thread and no gRPC state. `preload`: what
    the server computes once for every worker it forks (a model the workers would each
    load)."""
    global _SERVER
    if _SERVER is not None or not sys.platform.startswith("linux") or \
            os.environ.get("LONGWEAVE_FORKED_WORKERS", "1") == "0" or \
            threading.active_count() > 1:
        return _SERVER
    folder = tempfile.mkdtemp(prefix="longweave-workers-")
    socket_path = os.path.join(folder, "fork.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    lifeline_read, lifeline_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the server: never returns
        os.close(lifeline_write)
        _serve(listener, lifeline_read, folder, preload)
    listener.close()
    os.close(lifeline_read)
    _SERVER = ForkServer(pid, socket_path, lifeline_write)
    atexit.register(_SERVER.stop)  # reaped here: its workers' CPU counts as this
    # process's children's, as Beam's own workers' would
    return _SERVER


def running() -> ForkServer | None:
    """The fork server, if it was started and is still there to fork workers."""
    return _SERVER if _SERVER is not None and _SERVER.alive() else None


def _serve(listener: socket.socket, lifeline: int, folder: str,
           preload: Sequence[Callable[[], object]]) -> None:
    """The server's loop: warm up, then fork a worker per connection until the driver goes
    (its lifeline closes) or is interrupted; reaps its workers (their CPU time then counts
    in the driver's children, as Beam's own workers' does)."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the driver's to handle
        _redirect_stdin()
        for module in _WARM_MODULES:
            __import__(module)
        for load in preload:
            load()
        while True:
            ready, _, _ = select.select([listener, lifeline], [], [], 1.0)
            _reap()
            if lifeline in ready:
                break
            if listener in ready:
                conn, _ = listener.accept()
                conn.settimeout(30)  # a client that connects and says nothing
                try:
                    request, fds = _receive(conn)
                except Exception:  # noqa: BLE001 - a bad request is dropped, not served
                    conn.close()
                    continue
                conn.settimeout(None)  # the worker waits on it for as long as it lives
                if _WARM in request:
                    conn.sendall(b"1" if _import_all(request[_WARM]) else b"0")
                elif os.fork() == 0:
                    listener.close()
                    os.close(lifeline)
                    _run_worker(conn, request, fds)
                for fd in fds:
                    os.close(fd)
                conn.close()
        _reap(block_until=time.monotonic() + _STOP_SECONDS)  # the driver has gone: its
        # workers' clients went with it, so the workers are ending too
    except BaseException:  # noqa: BLE001 - a dying server must not run the driver's code
        code = 1
    finally:
        try:
            os.unlink(os.path.join(folder, "fork.sock"))
            os.rmdir(folder)
        except OSError:
            pass
        os._exit(code)


def _reap(block_until: float | None = None) -> None:
    """Reap the workers that have ended (all of them, waiting until `block_until`)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if block_until is None or time.monotonic() > block_until:
                return
            time.sleep(0.01)


def _redirect_stdin() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def _import_all(modules: Sequence[str]) -> bool:
    """Import what a job's workers will need; a module that fails to import is left for
    the worker to import (and report) itself."""
    ok = True
    for module in modules:
        try:
            __import__(module)
        except Exception:  # noqa: BLE001 - the worker raises it where it is reported
            ok = False
    return ok


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """A request: a worker client's environment with its stdin, stdout and stderr, or a
    warm-up (`{"warm": [module, ...]}`, no descriptors)."""
    head, fds, _, _ = socket.recv_fds(conn, 4, 3)
    while len(head) < 4:
        more = conn.recv(4 - len(head))
        if not more:
            raise ConnectionError("fork client went away")
        head += more
    size = struct.unpack("!I", head)[0]
    payload = b""
    while len(payload) < size:
        chunk = conn.recv(size - len(payload))
        if not chunk:
            raise ConnectionError("fork client went away")
        payload += chunk
    return json.loads(payload), fds


def _run_worker(conn: socket.socket, environment: dict[str, str], fds: list[int]) -> None:
    """In a fresh fork of the server: become the client's SDK worker; never returns."""
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        for name in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
            signal.signal(name, signal.default_int_handler if name == signal.SIGINT
                          else signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(environment)
        _reset_logging()
        threading.Thread(target=_die_with_client, args=(conn,), daemon=True).start()
        from apache_beam.runners.worker import sdk_worker_main

        sdk_worker_main.main([])
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported like a worker process's traceback
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            _flush(stream)
        try:
            conn.sendall(struct.pack("!i", code))
        except OSError:
            pass
        os._exit(code)


def _die_with_client(conn: socket.socket) -> None:
    """The client sends nothing after its request: a readable socket means it is gone."""
    try:
        conn.recv(1)
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)


def _reset_logging() -> None:
    """Forget the driver's log handlers (its stage log, its terminal): the worker logs to
    the runner through the handler Beam's harness adds."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)


def _flush(stream: Any) -> None:
    try:
        stream.flush()
    except (OSError, ValueError):
        pass


def runner_for(options: Any, warm: Sequence[str] = ()) -> Any | None:
    """A FnApiRunner whose workers the fork server forks, for options that ask for the
    DirectRunner in multi_processing mode (the server first imports the job's modules,
    `warm`); None when Beam's own runner should run."""
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    server = running()
    if server is None:
        return None
    if options.view_as(StandardOptions).runner not in ("DirectRunner", "direct", None) or \
            options.view_as(DirectOptions).direct_running_mode != "multi_processing":
        return None
    server.warm(warm)
    return _forked_runner(server.command(), options)


def _forked_runner(command: str, options: Any) -> Any:
    from apache_beam.options.pipeline_options import DirectOptions
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle
    from apache_beam.transforms import environments

    class ForkedWorkersRunner(fn_runner.FnApiRunner):
        """The FnApiRunner as the DirectRunner makes it for multi_processing, with the
        worker command swapped: Beam picks its own command only in that mode, so for the
        run the mode reads in_memory (the worker count still comes from
        `direct_num_workers`; the workers got the options as they were)."""

        def run_pipeline(self, pipeline: Any, options: Any) -> Any:
            direct = options.view_as(DirectOptions)
            mode, direct.direct_running_mode = direct.direct_running_mode, "in_memory"
            try:
                with _quiet_worker_count_warning():
                    return super().run_pipeline(pipeline, options)
            finally:
                direct.direct_running_mode = mode

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    return ForkedWorkersRunner(
        default_environment=environments.SubprocessSDKEnvironment.from_command_string(command),
        provision_info=fn_runner.ExtendedProvisionInfo(
            beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)))


@contextlib.contextmanager
def _quiet_worker_count_warning() -> Iterator[None]:
    """Beam warns that in_memory with several workers has no parallelism; here the workers
    are real processes, so the warning would be wrong."""
    logger = logging.getLogger("apache_beam.runners.portability.fn_api_runner.fn_runner")
    drop = _DropWorkerCountWarning()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


class _DropWorkerCountWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "direct_num_workers is not equal to 1" not in record.getMessage()
