from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from baocao_shared.clock import ClockConfigError, SimulatedClock, SystemClock, build_clock
from baocao_shared.settings import ServiceSettings


def test_simulated_time_is_start_plus_elapsed_times_speed():
    epoch = datetime.now(UTC) - timedelta(seconds=10)
    start = datetime(2019, 6, 1, tzinfo=UTC)
    clock = SimulatedClock(start=start, epoch=epoch, speed=86400)
    elapsed_days = (clock.now() - start) / timedelta(days=1)
    assert 10 <= elapsed_days < 10.5, "ten real seconds at 86400x are ten simulated days"
    assert clock.sleep_interval(86400) == pytest.approx(1.0)


def test_every_process_given_the_same_settings_agrees_on_the_time():
    kwargs = dict(
        kind="simulated", env="test", start=datetime(2019, 6, 1), speed=3600.0, epoch=datetime(2026, 1, 1, tzinfo=UTC)
    )
    a, b = build_clock(**kwargs), build_clock(**kwargs)
    assert abs(a.now() - b.now()) < timedelta(seconds=60), "one real second apart at most, i.e. < 1h simulated"
    assert a.now().tzinfo is not None


def test_production_refuses_a_simulated_clock():
    with pytest.raises(ClockConfigError, match="production"):
        build_clock(kind="simulated", env="production", start=datetime(2019, 6, 1), epoch=None, speed=1)
    with pytest.raises(ValidationError, match="production"):
        ServiceSettings(env="production", clock="simulated", clock_start=datetime(2019, 6, 1))


def test_settings_read_the_clock_from_the_environment(monkeypatch):
    monkeypatch.setenv("BAOCAO_CLOCK", "simulated")
    monkeypatch.setenv("BAOCAO_CLOCK_START", "2019-06-12T01:00:00+00:00")
    monkeypatch.setenv("BAOCAO_CLOCK_EPOCH", datetime.now(UTC).isoformat())
    monkeypatch.setenv("BAOCAO_CLOCK_SPEED", "1")
    clock = ServiceSettings().build_clock()
    assert abs(clock.now() - datetime(2019, 6, 12, 1, tzinfo=UTC)) < timedelta(seconds=5)


def test_system_clock_is_utc_now():
    assert abs(SystemClock().now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_simulated_clock_needs_a_start():
    with pytest.raises(ClockConfigError, match="BAOCAO_CLOCK_START"):
        build_clock(kind="simulated", env="test", start=None, epoch=None, speed=1)
