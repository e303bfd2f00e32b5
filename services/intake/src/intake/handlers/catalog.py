"""Use cases of the catalogue: load province files and national regimes' files, read provinces, units, plans and
regimes.

Loading upserts each entity, publishes a catalogue event for each one that changed (through the
outbox, in the caller's transaction), and retires units and plans the file no longer lists.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any

from baocao_shared.errors import Unprocessable
from baocao_shared.events.catalog import (
    PLAN_UPSERTED,
    PROVINCE_UPSERTED,
    REGIME_UPSERTED,
    UNIT_UPSERTED,
    PlanV1,
    ProvinceV1,
    RegimeV1,
    UnitV1,
)
from baocao_shared.periods import in_plan
from baocao_shared.principal import Principal
from baocao_shared.structure import check_reorganisation, units_in_force
from intake.adapters.uow import IntakeUnitOfWork
from intake.domain.accounts import may_see_contacts
from intake.domain.catalog import ProvinceCatalog, structure_problems
from intake.domain.errors import ProvinceNotFound
from intake.domain.regimes import RegimeCatalog, national_file_problems, national_problems

SPECS = {ProvinceV1: PROVINCE_UPSERTED, UnitV1: UNIT_UPSERTED, PlanV1: PLAN_UPSERTED}


async def load_provinces(
    uow: IntakeUnitOfWork,
    catalogs: list[ProvinceCatalog],
    *,
    actor: str,
    now: datetime,
    regimes: list[RegimeCatalog] | None = None,
) -> list[dict]:
    """Load province files (and national regimes' files) together: the whole catalogue as it would be after the
    load (the stored one, each file replacing its province or regime) is checked first; on any problem nothing is
    applied and 422 names each one at its file's line (a file may name successors in another file of the same
    load, a plan a regime of the same load). Regimes are summarised first."""
    regimes = regimes or []
    await check_structure(uow, catalogs, regimes)
    loaded = [await load_regime(uow, regime, actor=actor, now=now, checked=True) for regime in regimes]
    return loaded + [await load_province(uow, catalog, actor=actor, now=now, checked=True) for catalog in catalogs]


async def check_structure(
    uow: IntakeUnitOfWork, catalogs: list[ProvinceCatalog], regimes: list[RegimeCatalog] | None = None
) -> None:
    """Refuse (422, each problem at its line) a load that would leave the catalogue wrong: its structure over time
    (a gap, an overlap, a cycle, an unknown successor, an obligation left without a unit), or a plan's national
    mapping (an unknown regime, an indicator that maps to nothing in its regime)."""
    provinces, units, plans = await uow.catalog.structure()
    replaced = {c.province.code for c in catalogs}
    provinces = [p for p in provinces if p.code not in replaced] + [c.province for c in catalogs]
    units = [u for u in units if u.province not in replaced] + [u for c in catalogs for u in c.units if u.active]
    plans = [p for p in plans if p.province not in replaced] + [p for c in catalogs for p in c.plans if p.active]
    # A load of regimes alone changes no structure: only the plans' mappings are checked then.
    if catalogs and (problems := check_reorganisation(provinces, units, plans)):
        raise Unprocessable(
            "The reorganisation in the province file has problems; nothing was changed.",
            structure_problems(catalogs, problems),
        )
    by_id = {r.id: r for r in await uow.catalog.regimes()} | {c.regime.id: c.regime for c in regimes or []}
    if problems := national_problems(by_id, plans):
        raise Unprocessable(
            "A plan's indicators do not all map onto its national regime; nothing was changed.",
            national_file_problems(catalogs, regimes or [], plans, problems),
        )


async def load_regime(
    uow: IntakeUnitOfWork, catalog: RegimeCatalog, *, actor: str, now: datetime, checked: bool = False
) -> dict:
    """Make the stored national regime equal its file; publish it when it changed."""
    if not checked:
        await check_structure(uow, [], [catalog])
    regime = catalog.regime
    doc = regime.model_dump(mode="json")
    before = (await uow.catalog.regime_docs()).get(regime.id)
    summary: dict[str, Any] = {"regime": regime.id, "created": [], "updated": [], "retired": [], "unchanged": 0}
    if before == doc:
        summary["unchanged"] = 1
        return summary
    await uow.catalog.upsert(regime, doc, now)
    label = f"regime:{regime.id}"
    summary["retired" if not regime.active and before is not None else "updated" if before else "created"] = [label]
    await uow.publish(REGIME_UPSERTED, regime, province=None, at=now)
    details = {k: v for k, v in summary.items() if k != "unchanged"}
    await uow.audit(at=now, actor=actor, action="catalog.load", subject=label, details=details)
    return summary


async def regimes(uow: IntakeUnitOfWork) -> list[RegimeV1]:
    """Every national regime, with its template."""
    return await uow.catalog.regimes()


async def load_province(
    uow: IntakeUnitOfWork, catalog: ProvinceCatalog, *, actor: str, now: datetime, checked: bool = False
) -> dict:
    """Make the stored catalogue of one province equal the file; publish what changed."""
    if not checked:
        await check_structure(uow, [catalog])
    code = catalog.province.code
    summary: dict[str, Any] = {"province": code, "created": [], "updated": [], "retired": [], "unchanged": 0}
    changed: list[ProvinceV1 | UnitV1 | PlanV1] = []
    stored = await uow.catalog.stored_docs(code)
    retired_units = [
        UnitV1.model_validate({**doc, "active": False})
        for key, doc in stored["unit"].items()
        if key not in {u.code for u in catalog.units} and doc.get("active", True)
    ]
    retired_plans = [
        PlanV1.model_validate({**doc, "active": False})
        for key, doc in stored["plan"].items()
        if key not in {p.id for p in catalog.plans} and doc.get("active", True)
    ]
    # The start of tracking is data the office may set (PUT /v1/plans/.../tracking): a file silent on it keeps it.
    plans = [
        p.model_copy(update={"tracking_from": stored["plan"][p.id].get("tracking_from")})
        if p.tracking_from is None and p.id in stored["plan"]
        else p
        for p in catalog.plans
    ]
    for entity in [catalog.province, *catalog.units, *plans, *retired_units, *retired_plans]:
        kind, key = _kind_and_key(entity)
        doc = entity.model_dump(mode="json")
        before = stored[kind].get(key)
        if before == doc:
            summary["unchanged"] += 1
            continue
        await uow.catalog.upsert(entity, doc, now)
        label = f"{kind}:{key}"
        if not doc.get("active", True) and before is not None:
            summary["retired"].append(label)
        else:
            summary["updated" if before is not None else "created"].append(label)
        changed.append(entity)
    # In the order they changed, each run of one kind in one outbox statement.
    for kind, run in groupby(changed, key=type):
        await uow.publish(SPECS[kind], list(run), province=code, at=now)
    if changed:
        details = {k: v for k, v in summary.items() if k != "unchanged"}
        await uow.audit(at=now, actor=actor, action="catalog.load", subject=f"province:{code}", details=details)
    return summary


def _kind_and_key(entity: ProvinceV1 | UnitV1 | PlanV1) -> tuple[str, str]:
    if isinstance(entity, ProvinceV1):
        return "province", entity.code
    if isinstance(entity, UnitV1):
        return "unit", entity.code
    return "plan", entity.id


async def provinces(uow: IntakeUnitOfWork, *, principal: Principal) -> list[ProvinceV1]:
    """Every province; its operators' contacts only to those who may see them."""
    return [
        p if may_see_contacts(principal, p.code) else p.model_copy(update={"operator_contacts": []})
        for p in await uow.catalog.provinces()
    ]


async def units(
    uow: IntakeUnitOfWork, *, principal: Principal, province: str, period: str | None = None
) -> list[UnitV1]:
    """A province's active units (those in force in `period` when it is given); their contacts only to those who
    may see them."""
    found = await _of_known_province(uow, province, await uow.catalog.units(province))
    if period is not None:
        found = units_in_force(found, province, period)
    return [
        u if may_see_contacts(principal, u.province, u.code) else u.model_copy(update={"contacts": []}) for u in found
    ]


async def plans(uow: IntakeUnitOfWork, *, province: str, period: str | None = None) -> list[PlanV1]:
    """A province's plans in force (those whose first_period..last_period hold `period` when it is given)."""
    found = await _of_known_province(uow, province, await uow.catalog.plans(province))
    if period is not None:
        found = [p for p in found if in_plan(p, period)]
    return found


async def _of_known_province(uow: IntakeUnitOfWork, province: str, rows: list) -> list:
    if not rows and await uow.catalog.province(province) is None:
        raise ProvinceNotFound(province)
    return rows
