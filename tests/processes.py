"""Stopping the processes the tests and benchmarks start (servers, commands), by their PID.
Imports nothing of Django, so benchmark scripts can use it too."""

import subprocess


def stop_process(process: subprocess.Popen, wait: float = 10) -> None:
    """SIGTERM, up to `wait` seconds to exit, then SIGKILL; nothing if it has exited already."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(wait)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
