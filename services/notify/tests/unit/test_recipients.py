"""Who is told: each reachable (channel, address) once; webhooks wait for their channel."""

from baocao_shared.events.catalog import ContactV1
from notify.domain.recipients import deliverable


def test_each_address_once_and_only_channels_we_can_send():
    contacts = [
        ContactV1(channel="email", address="syt@haiduong.gov.vn"),
        ContactV1(channel="email", address="SYT@haiduong.gov.vn "),
        ContactV1(channel="webhook", address="https://hooks.example/syt"),
        ContactV1(channel="inbox", address="syt"),
    ]
    assert [(c.channel, c.address) for c in deliverable(contacts)] == [
        ("email", "syt@haiduong.gov.vn"),
        ("inbox", "syt"),
    ]


def test_no_contacts_no_deliveries():
    assert deliverable([]) == []
