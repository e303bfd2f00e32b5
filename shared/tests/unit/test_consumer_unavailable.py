"""A consumer tells "the database is down" from "this event is wrong": only the second is dead-lettered.

The fault suite (tests/faults, the PostgreSQL restart) showed valid events dead-lettered when they met
a stopped server: three attempts take about a second, a restart longer."""

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
    ],
)
def test_a_failing_handler_is(error):
    assert not database_unavailable(error)


class _State:
    def __init__(self, attempt_number: int, error: BaseException) -> None:
        self.attempt_number = attempt_number
        self.outcome = type("Outcome", (), {"exception": lambda _self: error})()


def test_attempts_against_an_unavailable_database_do_not_count():
    stop = _stop_unless_unavailable(3)
    assert not stop(_State(50, ConnectionRefusedError(111, "Connection refused")))
    assert not stop(_State(2, ValueError("bad figure")))
    assert stop(_State(3, ValueError("bad figure")))
