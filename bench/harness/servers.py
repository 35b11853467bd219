"""gunicorn (WSGI) and uvicorn (ASGI) as subprocesses on free loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness.common import HOST, PROJECT_DIR, PYTHON, BenchError, free_port, http_get
from bench.harness.procfs import process_tree_cpu, process_tree_rss_mb


@dataclass
class Server:
    """A server subprocess on a loopback port; use it as a context manager."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    _log_file: object = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(
        self,
        ready_path: str = "/healthz",
        timeout: float = 60,
        ready_headers: Mapping[str, str] | None = None,
    ) -> Server:
        handle, name = tempfile.mkstemp(prefix=f"bench-{self.name}-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)
        self._log_file = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=PROJECT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.wait_ready(ready_path, timeout, ready_headers)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(
        self,
        path: str = "/healthz",
        timeout: float = 60,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Poll ``path`` until it answers 200; fail if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                status, _ = http_get(self.url(path), headers, timeout=2)
                if status == 200:
                    return
                last_error = f"HTTP {status}"
            except OSError as exc:
                last_error = str(exc)
            time.sleep(0.2)
        raise BenchError(
            f"{self.name} not ready after {timeout}s ({last_error}):\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (graceful), then SIGKILL the server's process group after ``timeout``."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, lines: int = 40) -> str:
        if self._log_file is not None:
            self._log_file.flush()
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the server and all its workers."""
        return process_tree_cpu(self.process.pid)

    def rss_mb(self) -> float:
        """Resident memory of the server and all its workers, in MiB."""
        return process_tree_rss_mb(self.process.pid)

    def __enter__(self) -> Server:
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
        if self.log_path is not None and exc_info[0] is None:
            self.log_path.unlink(missing_ok=True)


def _gunicorn_has_control_socket() -> bool:
    """gunicorn >= 25.1 opens a control socket at one shared path per user; benchmarks
    running side by side must not fight over it."""
    from gunicorn import config

    return hasattr(config, "ControlSocketDisable")


def gunicorn_server(
    env: Mapping[str, str],
    *,
    workers: int,
    app: str = "core.wsgi:application",
    worker_class: str = "sync",
    threads: int = 1,
    port: int | None = None,
    extra_args: Sequence[str] = (),
) -> Server:
    """gunicorn (WSGI) with ``workers`` processes; started by ``with`` or ``.start()``."""
    port = port or free_port()
    argv = [
        PYTHON,
        "-m",
        "gunicorn",
        app,
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--threads={threads}",
        "--timeout=60",
        "--graceful-timeout=10",
        "--keep-alive=5",
        "--log-level=warning",
        *(["--no-control-socket"] if _gunicorn_has_control_socket() else []),
        *extra_args,
    ]
    return Server(f"gunicorn-{workers}w", argv, dict(env), port)


def uvicorn_server(
    env: Mapping[str, str],
    *,
    workers: int,
    app: str = "core.asgi:application",
    port: int | None = None,
    extra_args: Sequence[str] = (),
) -> Server:
    """uvicorn (ASGI, uvloop + httptools) with ``workers`` processes."""
    port = port or free_port()
    argv = [
        PYTHON,
        "-m",
        "uvicorn",
        app,
        f"--host={HOST}",
        f"--port={port}",
        f"--workers={workers}",
        "--lifespan=off",
        "--no-access-log",
        "--log-level=warning",
        "--ws-per-message-deflate=false",  # as the ws service runs it (docker-compose.yml)
        "--timeout-graceful-shutdown=10",
        *extra_args,
    ]
    env = dict(env)
    env.pop("WEB_CONCURRENCY", None)  # uvicorn would read it as --workers
    return Server(f"uvicorn-{workers}w", argv, env, port)
