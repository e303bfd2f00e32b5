"""Whose allowance a sign-in spends: the connection's peer, or behind a trusted proxy the client it names."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.datastructures import Headers

from intake.deps import client_address

PRIVATE = ["172.16.0.0/12", "192.168.0.0/16", "10.0.0.0/8"]  # docker-compose's default


def request(peer: str, forwarded: str | None, trusted: list[str]) -> SimpleNamespace:
    settings = SimpleNamespace(trusted_proxies=trusted)
    return SimpleNamespace(
        client=SimpleNamespace(host=peer),
        headers=Headers({"x-forwarded-for": forwarded} if forwarded else {}),
        app=SimpleNamespace(state=SimpleNamespace(runtime=SimpleNamespace(settings=settings))),
    )


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("203.0.113.7", "198.51.100.1", [], "203.0.113.7"),  # no proxy trusted: the header is the client's word
        ("203.0.113.7", "198.51.100.1", PRIVATE, "203.0.113.7"),  # a peer outside the trusted networks
        ("172.18.0.3", "198.51.100.1", PRIVATE, "198.51.100.1"),  # the proxy names a public client
        ("172.18.0.3", "192.0.2.9, 198.51.100.1", PRIVATE, "198.51.100.1"),  # the left one is the client's own say
        # Offices on private networks behind the proxy: each browser its own allowance, not the proxy's one.
        ("172.18.0.3", "192.168.1.20", PRIVATE, "192.168.1.20"),
        ("172.18.0.3", "192.168.1.21", PRIVATE, "192.168.1.21"),
        ("172.18.0.3", None, PRIVATE, "172.18.0.3"),
    ],
)
def test_the_client_is_the_right_most_untrusted_address_else_the_first(peer, forwarded, trusted, client):
    assert client_address(request(peer, forwarded, trusted)) == client
