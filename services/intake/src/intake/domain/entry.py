"""Who may send a version of a unit's report, and how it comes in: pure rules, no I/O.

A unit's own account (its reporter, or the unit's API token) sends its reports by the API or its web form. The
province's staff office may enter a report for a unit of its own province that came on paper or by email (nhập
hộ): the version is recorded as `on_behalf`, with the office's account in `entered_by`. An admin may do the same
for any province (the API only; its pages have no province to pick from). The national office never sends one.
"""

from __future__ import annotations

from dataclasses import dataclass

from baocao_shared.errors import Forbidden
from baocao_shared.events.submissions import Channel
from baocao_shared.principal import Principal, Role
from intake.domain.errors import NotAReporter, NotYourProvincesUnit, NotYourUnit, SourceOnlyOnBehalf


@dataclass(frozen=True)
class Entry:
    """How one version comes in: its channel, and the office's account when it entered it for the unit."""

    channel: Channel
    entered_by: str | None = None
    source: str | None = None  # on the unit's behalf: "paper" or "email", when the office says so

    @property
    def on_behalf(self) -> bool:
        return self.channel in ("on_behalf", "import")


def entry_for(principal: Principal, *, province: str, unit: str, source: str | None = None) -> Entry:
    """How `principal`'s version of the report of `province`.`unit` comes in (who may send one is
    `Principal.may_submit_for`); raises the 403 that says why it may not (another unit, another province's unit,
    the national office), or a 422 for a `source` named by a unit's own account."""
    if not principal.may_submit_for(province, unit):
        raise _refusal(principal, province, unit)
    if principal.role is not Role.REPORTER:
        return Entry("on_behalf", principal.subject, source)
    if source is not None:
        raise SourceOnlyOnBehalf()
    return Entry("web" if principal.via == "session" else "api")


def _refusal(principal: Principal, province: str, unit: str) -> Forbidden:
    if principal.role is Role.REPORTER:
        named = unit if principal.province == province else f"{province}.{unit}"
        return NotYourUnit(unit=named, own_unit=principal.unit)
    if principal.role is Role.PROVINCE_OPERATOR:
        return NotYourProvincesUnit(province=province, unit=unit, own_province=principal.province)
    return NotAReporter()


def imported_by(principal: Principal) -> Entry:
    """The office's import of a history period's report (the caller checked that it operates the province)."""
    return Entry("import", principal.subject)
