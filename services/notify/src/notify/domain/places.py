"""A province as the messages and pages name it: its name and wall clock, with defaults when the
catalogue does not know it (yet) (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from baocao_shared.events.catalog import ProvinceV1
from notify.domain.wording import DEFAULT_TIMEZONE


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    timezone: str

    @classmethod
    def of(cls, code: str | None, province: ProvinceV1 | None) -> Place:
        """The catalogue's province, or its code under a plain name and Vietnam's time zone."""
        if province is None:
            return cls(code or "", f"Tỉnh mã {code}" if code else "", DEFAULT_TIMEZONE)
        return cls(province.code, province.name, province.timezone)
