"""Events on baocao.catalog (compacted): provinces, units, plans and national regimes, keyed by entity; and when
an account's tokens are good from (`account.access_changed`, keyed `account:<username>`).

intake owns the catalogue. Each event carries the entity's whole current state, so the latest
record per key is all a new consumer needs to rebuild the catalogue from the topic alone.
Contacts are office mailboxes and hooks of a unit or a province, never profiles of persons.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator

from baocao_shared.events import topics
from baocao_shared.events.registry import EventSpec, register


class ContactV1(BaseModel):
    """Where an office receives notices: a mailbox, a webhook, or the in-app inbox of its accounts."""

    channel: str = Field(pattern=r"^(email|webhook|inbox)$")
    address: str = Field(min_length=1, max_length=500)
    label: str | None = None


PERIOD_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class SuccessorV1(BaseModel):
    """Where an entity's reporting goes after its last period in force (a reorganisation, kept as data).

    merge: many into one (each predecessor names the same successor); split: one into many (the predecessor
    names each piece); rename: the same body under a new code; move: the same body under another province.
    """

    kind: str = Field(pattern=r"^(merge|split|rename|move)$")
    province: str = Field(pattern=r"^\d{2}$", description="The successor's province")
    code: str | None = Field(None, description="The successor unit's code (none for a province's successor)")


class ProvinceV1(BaseModel):
    """A province (tỉnh) and its steering committee's staff office (cơ quan thường trực)."""

    code: str = Field(pattern=r"^\d{2}$")
    name: str
    timezone: str = "Asia/Ho_Chi_Minh"
    issuing_body: str = Field(description="Cơ quan ban hành, e.g. BAN CHỈ ĐẠO NHÂN QUYỀN TỈNH ...")
    place_name: str = Field(description="Địa danh on the report's date line")
    operator_contacts: list[ContactV1] = []
    active: bool = True
    valid_from: str | None = Field(None, pattern=PERIOD_MONTH, description="First period in force; None: always")
    valid_to: str | None = Field(None, pattern=PERIOD_MONTH, description="Last period in force; None: still in force")
    successors: list[SuccessorV1] = Field([], description="Where its reporting went after valid_to")


class UnitV1(BaseModel):
    """A reporting unit (đơn vị báo cáo): a member department or a district People's Committee."""

    province: str
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,39}$")
    name: str
    kind: str = Field(description="member | district | other")
    contacts: list[ContactV1] = []
    active: bool = True
    active_from: date | None = Field(None, description="Owes reports for periods from this date on")
    valid_from: str | None = Field(None, pattern=PERIOD_MONTH, description="First period in force; None: always")
    valid_to: str | None = Field(None, pattern=PERIOD_MONTH, description="Last period in force; None: still in force")
    successors: list[SuccessorV1] = Field([], description="Where its reporting went after valid_to")


class IndicatorV1(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    label: str
    unit: str | None = Field(None, description="What is counted, e.g. 'buổi', 'lượt người'")


class TaskV1(BaseModel):
    """One chapter of the monthly report (công tác trọng tâm)."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,15}$")
    title: str
    indicators: list[IndicatorV1] = []


class TemplateV1(BaseModel):
    tasks: list[TaskV1]
    closing_narratives: dict[str, str] = Field(
        default_factory=lambda: {
            "difficulties": "Khó khăn, vướng mắc, đề xuất, kiến nghị",
            "next_month": "Phương hướng tháng tới",
        }
    )


class NoticeScheduleV1(BaseModel):
    """Notices fire at `at` (local time) on days counted from the last day before due_at."""

    days: list[int]
    at: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class CalendarV1(BaseModel):
    """The plan's reporting calendar (Decree 09/2019/NĐ-CP, Arts. 8 and 12), all as settings."""

    frequency: str = Field("monthly", pattern=r"^(monthly|quarterly|six_monthly|yearly)$")
    cutoff_day: int = Field(
        15,
        ge=1,
        le=28,
        description="Window runs from this day of the previous period's "
        "last month to the day before it in the period's last month",
    )
    due_day: int = Field(16, ge=1, le=28, description="due_at = 00:00 local on this day (exclusive)")
    due_month_offset: int = Field(0, ge=0, le=2, description="Months after the period's last month")
    province_due_day: int = Field(20, ge=1, le=28)
    non_working_day_policy: str = Field("keep", pattern=r"^(keep|next_working_day)$")
    weekend_days: list[int] = Field([5, 6], description="ISO weekday - 1: 5 = Saturday, 6 = Sunday")
    holidays: list[date] = []
    reminders: NoticeScheduleV1 = NoticeScheduleV1(days=[-3, -1, 0])
    overdue: NoticeScheduleV1 = NoticeScheduleV1(days=[1, 3, 5])
    escalation: NoticeScheduleV1 = NoticeScheduleV1(days=[1])
    close: NoticeScheduleV1 = NoticeScheduleV1(days=[10], at="00:00")


class AddresseeV1(BaseModel):
    """A line of "Nơi nhận" that is sent the signed report, and whom it reaches."""

    label: str = Field(description="The line as printed under Nơi nhận")
    reach: str = Field(
        pattern=r"^(national|operators|units|contacts)$",
        description="national: the national standing office; operators: the province's staff office; "
        "units: every unit the plan names; contacts: the contacts given here",
    )
    contacts: list[ContactV1] = []


class ReportSectionDefV1(BaseModel):
    """A section of the report the staff office writes. Its draft is built from the figures by its kind."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    title: str
    kind: str = Field(
        pattern=r"^(task|assessment|direction|proposals|text)$",
        description="task: the assessment of one template task (`task` names it); assessment: Đánh giá chung; "
        "direction: next month's direction; proposals: Đề xuất, kiến nghị; text: no draft",
    )
    task: str | None = Field(None, description="For kind task: the template task's code")
    quotes: list[str] = Field([], description="Narrative keys whose units' excerpts stand beside it as sources")


class ReportLayoutV1(BaseModel):
    """What the consolidated report's header, title, sections and footer say (Decree 30/2020/NĐ-CP, Art. 8).

    A province file may give a recipient as a line, or as `{label, reach, contacts}` to have the signed
    report sent to it; the lines are `recipients`, the ones sent to are `addressees`.
    """

    title: str = Field(description="May use {month} and {year}")
    number_code: str = Field(description="Ký hiệu, e.g. BC-BCĐNQ; publishing numbers it n/BC-BCĐNQ")
    recipients: list[str] = []
    addressees: list[AddresseeV1] = []
    sections: list[ReportSectionDefV1] = Field(
        [], description="The sections the office writes, in order; none: one per task, then the general ones"
    )
    signer_position: str = ""
    signer_name: str = ""

    @model_validator(mode="before")
    @classmethod
    def _split_recipients(cls, data: object) -> object:
        if not isinstance(data, dict) or not any(isinstance(r, dict) for r in data.get("recipients") or []):
            return data
        lines, sent = [], list(data.get("addressees") or [])
        for item in data["recipients"]:
            if isinstance(item, dict):
                lines.append(item.get("label", ""))
                sent.append(item)
            else:
                lines.append(item)
        return {**data, "recipients": lines, "addressees": sent}


PLAN_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"


class NationalMappingV1(BaseModel):
    """Which national regime a province's plan reports into, and how its indicators map onto the regime's."""

    regime: str = Field(pattern=PLAN_ID, description="The national regime's id, e.g. nhan-quyen")
    indicators: dict[str, str] = Field(
        {},
        description="The plan's indicator code -> the regime's indicator code; an indicator not listed maps to the "
        "regime's indicator of the same code",
    )

    def regime_code(self, indicator: str) -> str:
        """The regime's code of the plan's indicator."""
        return self.indicators.get(indicator, indicator)


class RegimeV1(BaseModel):
    """A national reporting regime (chế độ báo cáo toàn quốc): the national office's plan and its own template,
    onto which the provinces' plans map their indicators. Regimes are never added together."""

    id: str = Field(pattern=PLAN_ID)
    number: str = Field(description="Số/ký hiệu of the national plan or guidance")
    title: str
    issued_by: str = Field(description="e.g. Văn phòng Thường trực Ban Chỉ đạo Nhân quyền của Chính phủ")
    template: TemplateV1
    active: bool = True


class PlanV1(BaseModel):
    """A reporting regime (kế hoạch, chế độ báo cáo) of one province, with template and calendar."""

    id: str = Field(pattern=PLAN_ID)
    province: str
    number: str = Field(description="Số/ký hiệu of the plan, e.g. 467/KH-BCĐNQ")
    title: str
    issued_on: date
    first_period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    last_period: str | None = None
    tracking_from: str | None = Field(
        None,
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description="The province's start of tracking: periods before it are history (not owed, never "
        "overdue; the staff office may import them). None: the plan's first period",
    )
    successor: SuccessorV1 | None = Field(
        None,
        description="The plan that carries this regime on after last_period (code: its id), e.g. the merged "
        "province's plan; comparisons across the change follow it",
    )
    units: list[str] = Field(description="Unit codes that owe reports under this plan")
    calendar: CalendarV1
    template: TemplateV1
    report: ReportLayoutV1
    active: bool = True
    national: NationalMappingV1 | None = Field(
        None, description="The national regime the plan reports into; None: its figures are in no national total"
    )


def _entity(kind: str):
    def key(entity) -> str:
        if kind == "province":
            ident = entity.code
        elif kind == "unit":
            ident = f"{entity.province}.{entity.code}"
        elif kind == "regime":
            ident = entity.id
        else:
            ident = f"{entity.province}.{entity.id}"
        return f"{kind}:{ident}"

    return key


def _upserted(kind: str, model: type[BaseModel], description: str) -> EventSpec:
    """`vn.baocao.<kind>.upserted.v1` on baocao.catalog, keyed and named by the entity (compaction keeps the latest)."""
    key = _entity(kind)
    return register(
        EventSpec(
            type=f"vn.baocao.{kind}.upserted.v1", topic=topics.CATALOG, model=model, key=key, subject=key,
            description=description,
        )
    )  # fmt: skip


PROVINCE_UPSERTED = _upserted("province", ProvinceV1, "A province's current state (created or changed).")
UNIT_UPSERTED = _upserted("unit", UnitV1, "A reporting unit's current state; active=false retires it.")
PLAN_UPSERTED = _upserted("plan", PlanV1, "A plan with its template, calendar and report layout.")
REGIME_UPSERTED = _upserted(
    "regime", RegimeV1, "A national regime with its template; the provinces' plans map their indicators onto it."
)


class AccountAccessV1(BaseModel):
    """Whether an account may act, and from when its tokens are good: every service refuses a token of the
    account issued before `not_before`, and every token of an inactive account. Only the username, which every
    service already meets as a token's subject: no name, no mailbox, nothing else of the person."""

    username: str = Field(min_length=1, max_length=80)
    active: bool
    not_before: datetime = Field(
        description="Tokens issued (`iat`) before this instant are refused: the last deactivation or password change"
    )
    reason: str = Field(pattern=r"^(deactivated|reactivated|password_changed)$", description="What changed")


ACCOUNT_ACCESS_CHANGED = register(
    EventSpec(
        type="vn.baocao.account.access_changed.v1", topic=topics.CATALOG, model=AccountAccessV1,
        key=lambda a: f"account:{a.username}", subject=lambda a: f"account:{a.username}",
        description="An account was deactivated or reactivated, or its password changed: its earlier tokens stop "
        "working on every service.",
    )
)  # fmt: skip
