"""What notify's pages share: their templates, who may read deliveries, and a province's name and clock.

Sign-in (the `baocao_session` cookie, else intake's sign-in page) and the error pages are the shared
kit's (baocao_shared.web.pages); the pages use only the shared stylesheet.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from baocao_shared import catalog_replica as replica
from baocao_shared.principal import Principal, Role
from baocao_shared.web import templates_for
from baocao_shared.web.pages import PageError
from notify.adapters import orm
from notify.web.views import INBOX

HERE = Path(__file__).resolve().parent
TEMPLATES = templates_for(HERE / "templates")
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    timezone: str


async def place(db: AsyncSession, code: str | None) -> Place:
    """A province's name and time zone from the catalogue, or plain defaults when it is not there."""
    found = await replica.province(db, orm.provinces, code) if code else None
    if found is None:
        return Place(code or "", f"Tỉnh mã {code}" if code else "", DEFAULT_TIMEZONE)
    return Place(found.code, found.name, found.timezone)


def check_reader(principal: Principal, province: str) -> None:
    """Deliveries are for the province's operators and the national office; others get a 403 page."""
    if principal.role is Role.REPORTER or not principal.may_read_province(province):
        raise PageError(
            403,
            "Không có quyền xem trang này",
            "Danh sách thông báo đã gửi của một tỉnh chỉ dành cho cơ quan thường trực của tỉnh đó "
            "và Văn phòng Thường trực Ban Chỉ đạo của Chính phủ.",
            back_url=INBOX,
            back_label="Đến hộp thư của tôi",
        )
