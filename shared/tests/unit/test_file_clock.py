"""BAOCAO_CLOCK=file: the instant written in one file, the same for every process that reads it."""

import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from baocao_shared.clock import ClockConfigError, FileClock, build_clock, write_clock_file
from baocao_shared.settings import ServiceSettings

ICT = timezone(timedelta(hours=7))


def test_now_is_the_instant_in_the_file_and_follows_each_write(tmp_path):
    path = tmp_path / "clock"
    write_clock_file(path, datetime(2019, 6, 12, 8, tzinfo=ICT))
    clock, other = FileClock(path), FileClock(path)
    assert clock.now() == datetime(2019, 6, 12, 1, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    write_clock_file(path, datetime(2019, 6, 16, 8, tzinfo=ICT))
    assert clock.now() == other.now() == datetime(2019, 6, 16, 1, tzinfo=UTC), "every reader sees the new instant"


def test_time_stands_still_between_writes(tmp_path):
    path = tmp_path / "clock"
    write_clock_file(path, datetime(2019, 6, 1, tzinfo=UTC))
    clock = FileClock(path)
    assert {clock.now() for _ in range(100)} == {datetime(2019, 6, 1, tzinfo=UTC)}
    assert clock.sleep_interval(5) == 5


def test_a_naive_instant_is_utc(tmp_path):
    path = tmp_path / "clock"
    path.write_text("2019-06-15T17:00:00\n")
    assert FileClock(path).now() == datetime(2019, 6, 15, 17, tzinfo=UTC)


def test_an_unchanged_file_is_not_read_again(tmp_path, monkeypatch):
    path = tmp_path / "clock"
    write_clock_file(path, datetime(2019, 6, 1, tzinfo=UTC))
    clock = FileClock(path)
    reads = []
    monkeypatch.setattr(FileClock, "_read", lambda self: reads.append(1) or datetime(2000, 1, 1, tzinfo=UTC))
    for _ in range(50):
        clock.now()
    assert reads == [], "a stat() per now(), no read while the file stays as it was"
    write_clock_file(path, datetime(2019, 6, 2, tzinfo=UTC))
    clock.now(), clock.now()
    assert reads == [1]


def test_a_file_spoilt_after_the_start_keeps_the_last_instant(tmp_path):
    path = tmp_path / "clock"
    write_clock_file(path, datetime(2019, 6, 1, tzinfo=UTC))
    clock = FileClock(path)
    path.write_text("not a time, and longer than before")
    assert clock.now() == datetime(2019, 6, 1, tzinfo=UTC)
    os.remove(path)
    assert clock.now() == datetime(2019, 6, 1, tzinfo=UTC)
    write_clock_file(path, datetime(2019, 6, 3, tzinfo=UTC))
    assert clock.now() == datetime(2019, 6, 3, tzinfo=UTC), "the next good write is read"


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "No such file"), ("", "empty"), ("ngày 12 tháng 6", "not an ISO 8601 instant")],
)
def test_a_missing_or_unreadable_file_stops_the_start(tmp_path, content, problem):
    path = tmp_path / "clock"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ClockConfigError, match=problem) as refused:
        build_clock(kind="file", env="test", start=None, epoch=None, speed=1, file=path)
    assert str(path) in str(refused.value), "the message names the file"


def test_the_file_clock_needs_its_file_setting():
    with pytest.raises(ClockConfigError, match="BAOCAO_CLOCK_FILE"):
        build_clock(kind="file", env="test", start=None, epoch=None, speed=1)


def test_production_refuses_a_file_clock(tmp_path):
    path = tmp_path / "clock"
    write_clock_file(path, datetime(2019, 6, 1, tzinfo=UTC))
    with pytest.raises(ClockConfigError, match="production"):
        build_clock(kind="file", env="production", start=None, epoch=None, speed=1, file=path)
    with pytest.raises(ValidationError, match="production refuses BAOCAO_CLOCK=file"):
        ServiceSettings(env="production", clock="file", clock_file=path)


def test_settings_read_the_file_clock_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "clock"
    write_clock_file(path, datetime(2019, 6, 16, 8, tzinfo=ICT))
    monkeypatch.setenv("BAOCAO_CLOCK", "file")
    monkeypatch.setenv("BAOCAO_CLOCK_FILE", str(path))
    clock = ServiceSettings().build_clock()
    assert isinstance(clock, FileClock)
    assert clock.now() == datetime(2019, 6, 16, 1, tzinfo=UTC)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ClockConfigError, match="'system', 'simulated' or 'file'"):
        build_clock(kind="sundial", env="test", start=None, epoch=None, speed=1)
