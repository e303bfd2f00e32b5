"""Who is told: each reachable (channel, address) once, in the order given; a published report: each contact of
each addressee of its Nơi nhận, named by its line or its unit."""

from baocao_shared.events.catalog import AddresseeV1, ContactV1, UnitV1
from notify.domain.recipients import NATIONAL_OFFICE, addressed, addressees_of, deliverable, line_label


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


# A published report's Nơi nhận, as Hải Dương's plan gives it (deploy/provinces/30-hai-duong.yaml).
NATIONAL = [ContactV1(channel="email", address="vptt@chinhphu.test"), ContactV1(channel="inbox", address="national")]
HEAD = ContactV1(channel="email", address="vanphong.bcdnq@haiduong.baocao.test", label="Văn phòng Ban chỉ đạo")
HAI_DUONG = [
    AddresseeV1(label="Văn phòng Thường trực BCĐNQ của Chính phủ;", reach="national"),
    AddresseeV1(label="Trưởng Ban chỉ đạo Nhân quyền tỉnh (để báo cáo);", reach="contacts", contacts=[HEAD]),
    AddresseeV1(label="Thành viên BCĐNQ tỉnh, UBND các huyện, thành phố;", reach="units"),
]


def unit(code: str, name: str, *contacts: ContactV1, active: bool = True) -> UnitV1:
    return UnitV1(province="30", code=code, name=name, kind="member", contacts=list(contacts), active=active)


def test_each_contact_of_each_addressee_is_a_recipient_named_by_its_line_or_its_unit():
    units = [
        unit("STP", "Sở Tư pháp", ContactV1(channel="email", address="vanthu@stp.test")),
        unit("TM", "UBND huyện Thanh Miện", ContactV1(channel="webhook", address="https://hooks.test/tm")),
        unit("CA", "Công an tỉnh"),  # no contact: nothing
    ]
    found = addressed(HAI_DUONG, national=NATIONAL, operators=[], units=units)
    assert [(r.label, r.contact.channel, r.contact.address, r.unit) for r in found] == [
        ("Văn phòng Thường trực BCĐNQ của Chính phủ", "email", "vptt@chinhphu.test", None),
        ("Văn phòng Thường trực BCĐNQ của Chính phủ", "inbox", "national", None),
        ("Trưởng Ban chỉ đạo Nhân quyền tỉnh", "email", "vanphong.bcdnq@haiduong.baocao.test", None),
        ("Sở Tư pháp", "email", "vanthu@stp.test", "STP"),
        ("UBND huyện Thanh Miện", "webhook", "https://hooks.test/tm", "TM"),
    ]


def test_the_staff_office_line_reaches_the_provinces_operators():
    operators = [ContactV1(channel="email", address="thuongtruc@hd.test")]
    lines = [AddresseeV1(label="- Cơ quan thường trực BCĐNQ tỉnh;", reach="operators")]
    [found] = addressed(lines, national=NATIONAL, operators=operators, units=[])
    assert (found.label, found.contact.address) == ("Cơ quan thường trực BCĐNQ tỉnh", "thuongtruc@hd.test")


def test_an_address_two_lines_reach_gets_one_delivery_under_the_first_line():
    shared = ContactV1(channel="email", address="VanThu@stp.test")
    units = [unit("STP", "Sở Tư pháp", ContactV1(channel="email", address="vanthu@stp.test"))]
    lines = [AddresseeV1(label="Sở Tư pháp (để biết);", reach="contacts", contacts=[shared]), HAI_DUONG[2]]
    [found] = addressed(lines, national=NATIONAL, operators=[], units=units)
    assert (found.label, found.unit) == ("Sở Tư pháp", None)


def test_an_inactive_unit_and_a_channel_we_cannot_send_on_get_nothing():
    units = [unit("OLD", "Sở đã giải thể", ContactV1(channel="email", address="old@x.test"), active=False)]
    assert addressed([HAI_DUONG[2]], national=NATIONAL, operators=[], units=units) == []


def test_a_report_without_addressees_goes_to_the_national_office_as_before():
    [line] = addressees_of([])
    assert (line.reach, line.label) == ("national", NATIONAL_OFFICE)
    assert addressees_of(HAI_DUONG) == HAI_DUONG


def test_a_line_is_named_without_its_dash_punctuation_and_purpose():
    assert line_label("- Như trên;") == "Như trên"
    assert line_label("Trưởng Ban chỉ đạo Nhân quyền tỉnh (để b/c);") == "Trưởng Ban chỉ đạo Nhân quyền tỉnh"
    assert line_label("UBND các huyện (thị xã, thành phố);") == "UBND các huyện (thị xã, thành phố)"
