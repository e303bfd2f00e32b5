"""Who is told: each reachable (channel, address) once, in the order given."""

from baocao_shared.events.catalog import ContactV1
from notify.domain.recipients import deliverable


def test_each_address_once_on_every_channel_we_can_send():
    contacts = [
        ContactV1(channel="email", address="syt@haiduong.gov.vn"),
        ContactV1(channel="email", address="SYT@haiduong.gov.vn "),
        ContactV1(channel="webhook", address="https://hooks.example/syt"),
        ContactV1(channel="webhook", address=" https://hooks.example/syt"),
        ContactV1(channel="inbox", address="syt"),
    ]
    assert [(c.channel, c.address.strip()) for c in deliverable(contacts)] == [
        ("email", "syt@haiduong.gov.vn"),
        ("webhook", "https://hooks.example/syt"),
        ("inbox", "syt"),
    ]


def test_webhook_urls_differing_in_case_are_two_endpoints():
    contacts = [
        ContactV1(channel="webhook", address="https://hooks.example/Token-A"),
        ContactV1(channel="webhook", address="https://hooks.example/token-a"),
    ]
    assert len(deliverable(contacts)) == 2


def test_no_contacts_no_deliveries():
    assert deliverable([]) == []
