"""TCP ports on 127.0.0.1: find free ones, and refuse a taken one with a message that says how to fix it."""

import errno
import random
import socket
from contextlib import ExitStack
from pathlib import Path

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


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports, held bound until every one is found, so none repeats.

    They come from below the kernel's ephemeral range: a port from inside it (what binding port 0
    gives) can be taken by any outgoing connection between this check and the server's bind."""
    low = 10000
    high = min(_ephemeral_range()[0], 65536) - 1
    chooser = random.SystemRandom()
    with ExitStack() as stack:
        ports: list[int] = []
        for _ in range(200 * count):
            if len(ports) == count or high - low < 1000:
                break
            port = chooser.randint(low, high)
            if port in ports:
                continue
            try:
                stack.enter_context(_bind(port))
            except OSError:
                continue
            ports.append(port)
        while len(ports) < count:  # no room below the ephemeral range: let the kernel choose
            ports.append(stack.enter_context(_bind(0)).getsockname()[1])
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
