"""A `smallretail serve` child process for benches, load tests and tests: wait until it is
ready, stop it. Loopback only; the caller starts the process and owns its log."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable


def wait_ready(base_url: str, process: subprocess.Popen, timeout_s: float,
               output: Callable[[], str], path: str = "/readyz") -> None:
    """Poll ``path`` until it answers 200 (llama.cpp's server: ``/health``). Raises
    RuntimeError with the process's output (``output()``) when it exits first, TimeoutError
    after ``timeout_s``."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"서버가 시작하지 못했습니다:\n{output()[-3000:]}")
        try:
            if httpx.get(f"{base_url}{path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"서버가 {timeout_s:.0f}초 안에 준비되지 않았습니다.")
        time.sleep(0.2)


def stop(process: subprocess.Popen, timeout_s: float = 15) -> None:
    """Terminate, then kill if a generation still running keeps it from exiting in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
