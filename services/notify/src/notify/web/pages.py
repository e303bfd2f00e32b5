"""What notify's pages share: their templates, and the use cases' refusals told in Vietnamese.

Sign-in (the `baocao_session` cookie, else intake's sign-in page) and the error pages are the shared
kit's (baocao_shared.web.pages); the pages use only the shared stylesheet.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from baocao_shared.web import templates_for
from baocao_shared.web.pages import PageError
from notify.domain.errors import (
    DeliveriesNotVisible,
    DeliveryNotFound,
    NotAProvinceCode,
    NotYourMessage,
    ResendNotAllowed,
)
from notify.web.views import DELIVERIES, INBOX

HERE = Path(__file__).resolve().parent
TEMPLATES = templates_for(HERE / "templates")


@contextmanager
def explained(*, back_url: str = DELIVERIES) -> Iterator[None]:
    """Each named refusal of a use case as its page: the API answers the same refusal by its kind."""
    try:
        yield
    except DeliveriesNotVisible:
        raise PageError(
            403,
            "Không có quyền xem trang này",
            "Danh sách thông báo đã gửi của một tỉnh chỉ dành cho cơ quan thường trực của tỉnh đó "
            "và Văn phòng Thường trực Ban Chỉ đạo của Chính phủ.",
            back_url=INBOX,
            back_label="Đến hộp thư của tôi",
        ) from None
    except NotAProvinceCode:
        raise PageError(
            404, "Không tìm thấy tỉnh", "Địa chỉ trang cần mã tỉnh gồm 2 chữ số, ví dụ ?province=30."
        ) from None
    except DeliveryNotFound as missing:
        if missing.delivery_id is None:
            raise not_a_delivery() from None
        raise PageError(404, "Không tìm thấy thông báo", "Không có thông báo nào với mã này.") from None
    except ResendNotAllowed:
        raise PageError(
            403,
            "Không có quyền gửi lại",
            "Chỉ cơ quan thường trực của tỉnh mới gửi lại được thông báo của tỉnh.",
            back_url=back_url,
            back_label="Quay lại danh sách thông báo",
        ) from None
    except NotYourMessage:
        raise not_your_message() from None


def not_a_delivery() -> PageError:
    return PageError(404, "Không tìm thấy thông báo", "Địa chỉ trang không đúng mã của một thông báo.")


def not_your_message() -> PageError:
    return PageError(
        404, "Không tìm thấy thư", "Hộp thư của bạn không có thư này.", back_url=INBOX, back_label="Về hộp thư"
    )
