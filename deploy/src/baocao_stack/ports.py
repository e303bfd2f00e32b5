"""TCP ports on 127.0.0.1: find free ones, and refuse a taken one with a message that says how to fix it."""

import errno
import socket
from contextlib import ExitStack

HOST = "127.0.0.1"


class PortTakenError(RuntimeError):
    """A port the stack needs is already in use."""


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # The servers we start set SO_REUSEADDR too, so a socket in TIME_WAIT is not "taken"; a listener is.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise
    return sock


def free_port() -> int:
    """One free port on 127.0.0.1 (the kernel picks it)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports; all are held open until every one is found, so none repeats."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(_bind(0))
            ports.append(sock.getsockname()[1])
        return ports


def port_is_free(port: int) -> bool:
    try:
        _bind(port).close()
    except OSError as err:
        if err.errno in (errno.EADDRINUSE, errno.EACCES):
            return False
        raise
    return True


def check_port_free(port: int, setting: str) -> None:
    """Raise PortTakenError naming the environment setting that moves this port."""
    if not port_is_free(port):
        raise PortTakenError(f"port {port} is taken; set {setting} to another port")
