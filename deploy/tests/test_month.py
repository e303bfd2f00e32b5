"""The demo month (`make up MONTH=1`): which period, when the clock starts, what it passes to whom."""

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from baocao_shared.events.catalog import CalendarV1, NoticeScheduleV1
from baocao_stack import cli
from baocao_stack import month as demo_month
from baocao_stack.demo import province_files
from baocao_stack.month import DemoMonth, DemoPlan, choose_month, demo_plan, describe, with_month
from baocao_stack.paths import REPO_ROOT
from baocao_stack.settings import SERVICES, StackSettings

HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def plan_467() -> DemoPlan:
    return demo_plan(province_files())


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_the_demo_plan_is_read_from_the_province_file(plan_467):
    assert (plan_467.plan_id, plan_467.timezone) == ("hd-467-2019", "Asia/Ho_Chi_Minh")
    assert plan_467.calendar.due_day == 16 and plan_467.calendar.reminders.days == [-3, -1, 0]


def test_on_28_november_the_clock_starts_a_minute_before_the_first_reminder_of_december(plan_467):
    epoch = _utc("2026-11-28T19:50:00+07:00")
    month = choose_month(plan_467, epoch=epoch, speed=3600, lead_s=60)
    assert month.period == "2026-12"
    first_reminder = _utc("2026-12-12T08:00:00+07:00")  # the last day before the 16th is the 15th; -3
    assert month.start == first_reminder - 60 * HOUR  # 60 real seconds at an hour a second
    assert month.real_at(first_reminder) == epoch + timedelta(seconds=60)

    steps = [(m.kind, m.day_offset, m.at) for m in month.milestones]
    assert steps == [
        ("reminder", -3, first_reminder),
        ("reminder", -1, _utc("2026-12-14T08:00:00+07:00")),
        ("reminder", 0, _utc("2026-12-15T08:00:00+07:00")),
        ("deadline", None, _utc("2026-12-16T00:00:00+07:00")),
        ("overdue", 1, _utc("2026-12-16T08:00:00+07:00")),
        ("escalation", 1, _utc("2026-12-16T08:00:00+07:00")),
        ("overdue", 3, _utc("2026-12-18T08:00:00+07:00")),
        ("overdue", 5, _utc("2026-12-20T08:00:00+07:00")),
        ("close", 10, _utc("2026-12-25T00:00:00+07:00")),
    ]
    # Reminders, deadline, overdue mails and escalation within 3-5 real minutes of the start.
    last_overdue = month.real_at(steps[-2][2]) - epoch
    assert timedelta(minutes=3) < last_overdue < timedelta(minutes=5)
    assert month.clock_env() == {
        "BAOCAO_CLOCK": "simulated",
        "BAOCAO_CLOCK_START": "2026-12-09T13:00:00+00:00",
        "BAOCAO_CLOCK_EPOCH": epoch.isoformat(),
        "BAOCAO_CLOCK_SPEED": "3600",
    }


@pytest.mark.parametrize(
    ("today", "period", "first_reminder"),
    [
        ("2026-11-10T09:00:00+07:00", "2026-12", "2026-12-12T08:00:00+07:00"),  # November's reminders: too soon
        ("2026-12-05T09:00:00+07:00", "2026-12", "2026-12-12T08:00:00+07:00"),
        ("2026-12-10T09:00:00+07:00", "2027-01", "2027-01-12T08:00:00+07:00"),  # less than the lead left
        ("2027-12-31T23:00:00+07:00", "2028-01", "2028-01-12T08:00:00+07:00"),  # across the year
    ],
)
def test_the_month_is_the_next_one_whose_first_reminder_is_far_enough(plan_467, today, period, first_reminder):
    month = choose_month(plan_467, epoch=_utc(today), speed=3600, lead_s=60)
    assert (month.period, month.start) == (period, _utc(first_reminder) - 60 * HOUR)
    assert month.start >= _utc(today)  # never back in time


def test_after_a_month_the_next_one_starts_after_what_the_data_has_seen(plan_467):
    month = choose_month(
        plan_467, epoch=_utc("2026-11-28T12:00:00+00:00"), not_before=_utc("2026-12-26T00:00:00+07:00")
    )
    assert month.period == "2027-01" and month.epoch == _utc("2026-11-28T12:00:00+00:00")


def test_the_schedule_comes_from_the_catalogue_not_from_the_16th():
    calendar = CalendarV1(
        due_day=10,
        reminders=NoticeScheduleV1(days=[-2], at="09:30"),
        overdue=NoticeScheduleV1(days=[2]),
        escalation=NoticeScheduleV1(days=[4]),
    )
    plan = DemoPlan("other", "Asia/Ho_Chi_Minh", calendar)
    month = choose_month(plan, epoch=_utc("2026-11-28T12:00:00+00:00"), speed=1800, lead_s=30)
    # Due before the 10th: the last day is the 9th, the reminder on the 7th at 09:30.
    assert month.period == "2026-12"
    assert month.milestones[0].at == _utc("2026-12-07T09:30:00+07:00")
    assert month.start == month.milestones[0].at - timedelta(seconds=30 * 1800)
    assert [m.kind for m in month.milestones] == ["reminder", "deadline", "overdue", "escalation", "close"]


def test_the_month_reaches_every_service_and_the_mail_sink(tmp_path, plan_467):
    settings = StackSettings.from_env({"BAOCAO_HOME": str(tmp_path), "BAOCAO_PORT_BASE": "18000"})
    month = choose_month(plan_467, epoch=_utc("2026-11-28T12:00:00+00:00"))
    simulated = with_month(settings, month)
    for name in SERVICES:
        env = simulated.service_env(name)
        assert {key: env[key] for key in month.clock_env()} == month.clock_env()
    assert simulated.mailsink_env()["BAOCAO_CLOCK_START"] == month.start.isoformat()  # stamps the simulated time
    assert simulated.service_env("deadlines")["BAOCAO_SCHEDULER_TICK_S"] == "0.1"
    assert "BAOCAO_CLOCK" not in settings.service_env("intake")  # the original settings are left alone

    notify = simulated.service_env("notify")
    assert (notify["BAOCAO_SMTP_HOST"], notify["BAOCAO_SMTP_PORT"]) == ("127.0.0.1", "18025")
    assert DemoMonth.from_json(json.loads(json.dumps(month.to_json()))) == month  # kept in stack.json


def test_how_to_try_it_says_what_happens_when_in_real_time(plan_467):
    epoch = _utc("2026-11-28T12:00:00+00:00")
    month = choose_month(plan_467, epoch=epoch, speed=3600, lead_s=20)
    lines = describe(month, epoch)
    assert lines[0].startswith("~+20 s") and "12/12 08:00  nhắc hạn: a reminder mail" in lines[0]
    assert lines[3].startswith("~+1 min 48 s") and "16/12 00:00  hạn nộp" in lines[3]
    assert "tổng hợp: a digest of the missing units" in lines[5]
    assert describe(month, epoch + timedelta(seconds=30))[0].startswith("passed")


def test_down_remembers_how_far_the_simulated_clock_went(tmp_path):
    start = datetime(2026, 12, 20, tzinfo=UTC)
    settings = StackSettings(
        home=tmp_path,
        passthrough={
            "BAOCAO_CLOCK": "simulated",
            "BAOCAO_CLOCK_START": start.isoformat(),
            "BAOCAO_CLOCK_EPOCH": (datetime.now(UTC) - timedelta(seconds=10)).isoformat(),
            "BAOCAO_CLOCK_SPEED": "3600",
        },
    )
    demo_month.remember_clock(settings)
    reached = demo_month.simulated_reached(tmp_path)
    assert reached is not None and start + 10 * HOUR <= reached < start + 11 * HOUR
    earlier = StackSettings(home=tmp_path, passthrough={**settings.passthrough, "BAOCAO_CLOCK_START": "2026-01-01"})
    demo_month.remember_clock(earlier)
    assert demo_month.simulated_reached(tmp_path) == reached  # it only moves forward
    demo_month.remember_clock(StackSettings(home=tmp_path))  # the system clock records nothing
    assert demo_month.simulated_reached(tmp_path) == reached


def test_the_month_flag_and_the_make_variable(monkeypatch):
    seen = []
    monkeypatch.setattr(cli.stack, "up", lambda settings, options, console: seen.append(options) or 0)
    runner = CliRunner()
    assert runner.invoke(cli.app, ["up", "--services", "none", "--month"]).exit_code == 0
    assert runner.invoke(cli.app, ["up", "--services", "none"]).exit_code == 0
    assert [options.month for options in seen] == [True, False]

    def make_up(*variables: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}  # under make test
        dry = subprocess.run(
            ["make", "--no-print-directory", "-n", "up", *variables],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            env=env,
        )
        assert dry.returncode == 0, dry.stderr
        return dry.stdout.splitlines()[-1]

    assert make_up("MONTH=1").endswith("--month")
    assert "--month" not in make_up()
