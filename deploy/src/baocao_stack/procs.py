"""Processes we started: is it alive, signal it, stop it (and what it spawned), read its log's tail."""

import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Self

import psutil


def tail(path: Path, lines: int = 30, max_chars: int = 3000) -> str:
    """The last `lines` lines of a log file, at most `max_chars` of them ("" without a file)."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    text = "\n".join(text.splitlines()[-lines:])
    return text if len(text) <= max_chars else "..." + text[-max_chars:]


def describe_exit(log_file: Path, what: str, lines: int = 30) -> str:
    """A message for a process that is gone, ending with its log's tail."""
    return f"{what}; last lines of {log_file}:\n{tail(log_file, lines)}"


class Proc:
    """One process by pid: ours (a Popen, so we reap it) or a supervisord child (watched with psutil)."""

    def __init__(self, pid: int, popen: subprocess.Popen | None = None):
        self.pid = pid
        self._popen = popen
        try:
            self._ps: psutil.Process | None = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self._ps = None

    @classmethod
    def spawn(cls, args: list[str], *, log_file: Path, **popen_kwargs) -> "Proc":
        """Start `args` with stdout and stderr appended to `log_file`."""
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            popen = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **popen_kwargs
            )
        return cls(popen.pid, popen)

    def is_alive(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        if self._ps is None:
            return False
        try:
            return self._ps.is_running() and self._ps.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    def descendants(self) -> list[psutil.Process]:
        if self._ps is None or not self.is_alive():
            return []
        try:
            return self._ps.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def send(self, sig: int) -> None:
        if not self.is_alive():
            return
        try:
            if self._popen is not None:
                self._popen.send_signal(sig)
            elif self._ps is not None:
                self._ps.send_signal(sig)  # psutil checks the pid was not reused
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass

    def wait(self, timeout: float) -> bool:
        """Wait until the process is gone; True if it is."""
        if self._popen is not None:
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        if self._ps is None:
            return True
        try:
            self._ps.wait(timeout)
        except psutil.TimeoutExpired:
            return not self.is_alive()
        except psutil.NoSuchProcess:
            pass
        return True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Send `sig`, wait up to `timeout`, then SIGKILL it and every process it had spawned."""
        children = self.descendants()
        self.send(sig)
        self.signal_tree(signal.SIGCONT)  # a paused process cannot act on `sig`
        if not self.wait(timeout):
            self.send(signal.SIGKILL)
            self.wait(10)
        reap(children, timeout=max(1.0, timeout / 2))

    def kill_tree(self) -> None:
        """SIGKILL the process and everything it had spawned (a crash, for fault tests)."""
        children = self.descendants()
        self.send(signal.SIGKILL)
        for child in children:
            _signal_quietly(child, signal.SIGKILL)
        self.wait(10)
        reap(children, timeout=10)

    def signal_tree(self, sig: int) -> None:
        """Send `sig` to the process and its descendants (SIGSTOP/SIGCONT for pause/resume)."""
        children = self.descendants()
        self.send(sig)
        for child in children:
            _signal_quietly(child, sig)


class ServerProcess:
    """A server we run: one we started (restartable on the same data, ports and config) or one supervisord
    runs (`attach`: watched, stopped and signalled, never restarted from here). Kafka brokers and PostgreSQL
    servers differ only in how they start and which signal stops them gracefully."""

    STOP_SIGNAL: signal.Signals = signal.SIGTERM
    STOP_TIMEOUT_S: float = 20
    StartError: type[Exception] = RuntimeError

    def __init__(self, *, proc: Proc, log_file: Path, command: list[str] | None = None) -> None:
        self.log_file = Path(log_file)
        self._proc = proc
        self._command = command

    @property
    def pid(self) -> int:
        return self._proc.pid

    def is_alive(self) -> bool:
        return self._proc.is_alive()

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_file, lines)

    def stop(self, timeout: float | None = None) -> None:
        """The graceful stop signal, a wait up to `timeout`, then SIGKILL."""
        self._proc.stop(self.STOP_SIGNAL, self.STOP_TIMEOUT_S if timeout is None else timeout)

    def kill(self) -> None:
        """SIGKILL the server and what it spawned: a crash, for fault tests. `restart()` recovers on the same data."""
        self._proc.kill_tree()

    def pause(self) -> None:
        """SIGSTOP: the server hangs (connections stay open, nothing answers)."""
        self._proc.signal_tree(signal.SIGSTOP)

    def resume(self) -> None:
        self._proc.signal_tree(signal.SIGCONT)

    def restart(self, timeout: float | None = None) -> Self:
        """Stop it if it still runs, then start it again on the same data, ports and config; then await its
        readiness (wait_kafka_ready / wait_postgres_ready)."""
        if self._command is None:
            raise self.StartError(f"{self!r} was not started here (supervisord runs it); restart it there")
        if self.is_alive():
            self.stop(timeout)
        self._proc = self._spawn(self._command)
        return self

    def _spawn(self, command: list[str]) -> Proc:
        raise NotImplementedError


def _signal_quietly(proc: psutil.Process, sig: int) -> None:
    try:
        proc.send_signal(sig)
    except psutil.NoSuchProcess:
        pass


def reap(procs: Iterable[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait for `procs` to exit; SIGKILL the ones still there after `timeout`. Returns those killed."""
    procs = list(procs)
    if not procs:
        return []
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        _signal_quietly(proc, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
    return alive


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
