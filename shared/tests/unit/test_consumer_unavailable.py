"""A consumer tells "the database is down" from "this event is wrong": only the second is dead-lettered.

The fault suite (tests/faults, the PostgreSQL restart) showed valid events dead-lettered when they met
a stopped server: three attempts take about a second, a restart longer."""

import errno
import socket

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from baocao_shared.messaging.consumer import PoisonRecord, _stop_unless_unavailable, database_unavailable


def wrapped(error: BaseException) -> DBAPIError:
    """As SQLAlchemy raises it: the driver's error as `orig`, and as the cause."""
    outer = DBAPIError("SELECT 1", {}, error)
    outer.__cause__ = error
    return outer


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting up")),
        wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")),
        wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")),
        # A restarting container's name stops resolving; asyncpg and SQLAlchemy pass these on as plain OSErrors.
        socket.gaierror(-2, "Name or service not known"),
        OSError(errno.EHOSTUNREACH, "No route to host"),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432, 0, 0), [Errno 111] ..."),
    ],
)
def test_an_unreachable_database_is_not_the_events_fault(error):
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad figure"),
        PoisonRecord("not a CloudEvent"),
        IntegrityError("INSERT", {}, asyncpg.exceptions.UniqueViolationError("duplicate key")),
        FileNotFoundError(errno.ENOENT, "No such file or directory", "template.docx"),
    ],
)
def test_a_failing_handler_is(error):
    assert not database_unavailable(error)


class _State:
    def __init__(self, attempt_number: int, error: BaseException, seconds: float = 1.0) -> None:
        self.attempt_number = attempt_number
        self.seconds_since_start = seconds
        self.outcome = type("Outcome", (), {"exception": lambda _self: error})()


REFUSED = ConnectionRefusedError(111, "Connection refused")


def test_attempts_against_an_unavailable_database_do_not_count():
    stop = _stop_unless_unavailable(3)
    assert not stop(_State(50, REFUSED))
    assert not stop(_State(51, ValueError("bad figure"))), "the event's first own failure"
    assert not stop(_State(52, ValueError("bad figure")))
    assert stop(_State(53, ValueError("bad figure"))), "its third own failure, whatever the outage before"


def test_an_outage_longer_than_the_bound_dead_letters_the_event_all_the_same():
    stop = _stop_unless_unavailable(3, max_outage_s=600)
    assert not stop(_State(500, REFUSED, seconds=599))
    assert stop(_State(501, REFUSED, seconds=600))


@pytest.mark.parametrize(
    "error",
    [
        wrapped(asyncpg.exceptions.InterfaceError("cannot perform operation: another operation is in progress")),
        wrapped(asyncpg.exceptions.InterfaceError("the number of query arguments cannot exceed 32767")),
        FileNotFoundError(2, "No such file or directory"),
    ],
)
def test_a_client_side_error_is_no_outage(error):
    assert not database_unavailable(error)


def test_an_error_raised_while_handling_an_outage_is_judged_by_itself():
    try:
        try:
            raise REFUSED
        except ConnectionRefusedError:
            raise ValueError("bad figure")  # noqa: B904 - the implicit context is what is tested
    except ValueError as error:
        assert error.__context__ is REFUSED
        assert not database_unavailable(error)
