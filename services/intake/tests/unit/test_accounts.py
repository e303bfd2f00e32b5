"""Account rules without I/O: the sign-in throttling, role scoping, demo names, who manages API tokens."""

from datetime import UTC, datetime, timedelta

import pytest

from baocao_shared.principal import Principal, Role
from intake.adapters.keys import jwk_thumbprint
from intake.domain.accounts import (
    LoginPolicy,
    account_problems,
    backoff,
    client_gate,
    demo_accounts,
    may_manage_api_tokens,
    pair_gate,
)

NOW = datetime(2019, 6, 14, 9, 0, tzinfo=UTC)
POLICY = LoginPolicy(free_failures=3, backoff_base=timedelta(seconds=5), backoff_max=timedelta(minutes=15))


def ago(**kwargs) -> datetime:
    return NOW - timedelta(**kwargs)


def test_the_backoff_doubles_after_the_free_failures_up_to_its_cap():
    waits = [backoff(n, POLICY).total_seconds() for n in range(14)]
    assert waits == [0, 0, 0, 5, 10, 20, 40, 80, 160, 320, 640, 900, 900, 900]
    assert backoff(10**9, POLICY) == POLICY.backoff_max  # no overflow however many


def test_a_pair_within_its_free_failures_may_try_at_once():
    assert pair_gate([ago(seconds=s) for s in range(3 - 1)], now=NOW, policy=POLICY).allowed
    assert pair_gate([], now=NOW, policy=POLICY).allowed


def test_each_failure_past_the_free_ones_makes_the_pair_wait_twice_as_long():
    failures = [ago(seconds=3), ago(seconds=2), ago(seconds=1)]
    gate = pair_gate(failures, now=NOW, policy=POLICY)
    assert (gate.allowed, gate.retry_after_s) == (False, 4)  # 5 s after the last, which was 1 s ago
    assert pair_gate(failures, now=NOW + timedelta(seconds=4), policy=POLICY).allowed
    fourth = [*failures, NOW + timedelta(seconds=4)]
    assert pair_gate(fourth, now=NOW + timedelta(seconds=4), policy=POLICY).retry_after_s == 10
    fifth = [*fourth, NOW + timedelta(seconds=14)]
    assert pair_gate(fifth, now=NOW + timedelta(seconds=14), policy=POLICY).retry_after_s == 20


def test_the_pair_forgets_failures_older_than_its_memory():
    failures = [ago(hours=25), ago(hours=25), ago(hours=24, seconds=1), ago(seconds=1)]
    assert pair_gate(failures, now=NOW, policy=POLICY).allowed  # one failure in the last 24 hours


def test_the_cap_is_the_longest_wait():
    failures = [ago(minutes=m) for m in range(20)]
    gate = pair_gate(failures, now=NOW, policy=POLICY)
    assert gate.retry_after_s == 15 * 60  # the last failure was just now
    assert pair_gate(failures, now=NOW + POLICY.backoff_max, policy=POLICY).allowed


def test_a_client_address_has_its_own_cap_within_a_window_whatever_the_usernames():
    policy = LoginPolicy(client_max_failures=8, client_window=timedelta(minutes=15))
    seven = [ago(minutes=m) for m in range(7)]
    assert client_gate(seven, now=NOW, policy=policy).allowed
    gate = client_gate([*seven, ago(minutes=1, seconds=30)], now=NOW, policy=policy)
    assert not gate.allowed and gate.retry_after_s == 9 * 60  # the oldest of the eight, 6 minutes ago, ages out
    assert client_gate([ago(minutes=20)] * 8, now=NOW, policy=policy).allowed


def test_more_failures_than_the_cap_wait_for_enough_of_them_to_age_out():
    policy = LoginPolicy(client_max_failures=5, client_window=timedelta(minutes=15))
    failures = [ago(minutes=14), ago(minutes=12), ago(minutes=9), ago(minutes=6), ago(minutes=4), ago(minutes=2)]
    # Six in the window: two must leave before fewer than five remain; the second leaves at +3 min.
    assert client_gate(failures, now=NOW, policy=policy).retry_after_s == 3 * 60


def test_retry_after_is_at_least_one_second():
    policy = LoginPolicy(client_max_failures=5, client_window=timedelta(minutes=15))
    failures = [NOW - policy.client_window + timedelta(milliseconds=1)] + [ago(seconds=s) for s in range(4)]
    assert client_gate(failures, now=NOW, policy=policy).retry_after_s == 1
    three = [ago(seconds=s) for s in range(3)]  # the last just now: tried again 4.5 s later, 0.5 s remain
    assert pair_gate(three, now=NOW + timedelta(seconds=4.5), policy=POLICY).retry_after_s == 1


@pytest.mark.parametrize(
    ("role", "province", "unit"),
    [
        ("reporter", "30", "CA"),
        ("province_operator", "30", None),
        ("national_operator", None, None),
        ("admin", None, None),
    ],
)
def test_each_role_with_its_scope_is_accepted(role, province, unit):
    assert account_problems(username="someone", role=role, province=province, unit=unit, password="long enough") == []


@pytest.mark.parametrize(
    ("role", "province", "unit", "field"),
    [
        ("reporter", "30", None, "role"),
        ("reporter", None, "CA", "role"),
        ("province_operator", None, None, "role"),
        ("province_operator", "30", "CA", "role"),
        ("national_operator", "30", None, "role"),
        ("admin", None, "CA", "role"),
        ("superuser", None, None, "role"),
        ("reporter", "3", "CA", "province"),
        ("reporter", "30", "ca lower", "unit"),
    ],
)
def test_a_role_that_does_not_fit_its_scope_is_refused(role, province, unit, field):
    problems = account_problems(username="someone", role=role, province=province, unit=unit)
    assert field in {p["field"] for p in problems}


def test_usernames_and_passwords_have_rules():
    fields = {
        p["field"] for p in account_problems(username="no spaces", role="admin", province=None, unit=None, password="x")
    }
    assert fields == {"username", "password"}


def test_demo_accounts_follow_the_naming_pattern():
    accounts = demo_accounts(["30", "01"], [("30", "CA"), ("30", "BTG"), ("01", "CA")])
    tuples = [a.as_tuple() for a in accounts]
    assert tuples[:2] == [("admin", "admin", None, None), ("national", "national_operator", None, None)]
    assert ("op-30", "province_operator", "30", None) in tuples
    assert ("30-CA", "reporter", "30", "CA") in tuples
    assert ("01-CA", "reporter", "01", "CA") in tuples
    assert len(tuples) == 2 + 2 + 3
    for username, role, province, unit in tuples:
        assert account_problems(username=username, role=role, province=province, unit=unit) == []


def test_api_tokens_are_managed_by_the_unit_its_province_or_an_admin():
    reporter = Principal("30-CA", Role.REPORTER, "30", "CA")
    assert may_manage_api_tokens(reporter, "30", "CA")
    assert not may_manage_api_tokens(reporter, "30", "BTG")
    assert may_manage_api_tokens(Principal("op-30", Role.PROVINCE_OPERATOR, "30"), "30", "BTG")
    assert not may_manage_api_tokens(Principal("op-01", Role.PROVINCE_OPERATOR, "01"), "30", "CA")
    assert may_manage_api_tokens(Principal("admin", Role.ADMIN), "30", "CA")
    assert not may_manage_api_tokens(Principal("national", Role.NATIONAL_OPERATOR), "30", "CA")
    assert not may_manage_api_tokens(Principal("token:1", Role.REPORTER, "30", "CA", via="api_token"), "30", "CA")


def test_the_kid_is_the_rfc_7638_thumbprint():
    # RFC 8037, appendix A.3
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
