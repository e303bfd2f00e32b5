"""What the dashboard's pages share: their templates and stylesheet; sign-in and errors are the shared kit's.

Pages read the `baocao_session` cookie through `PagePrincipal` (baocao_shared.web.pages); without a
valid one the browser goes to intake's sign-in page.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from baocao_shared.web import templates_for
from baocao_shared.web.pages import LoginRequired, PageError, PagePrincipal, install_signed_in_pages, intake_url

__all__ = ["TEMPLATES", "LoginRequired", "PageError", "PagePrincipal", "install_handlers", "intake_url"]

HERE = Path(__file__).resolve().parent
TEMPLATES = templates_for(HERE / "templates")
STYLESHEET_MOUNT = "/static/deadlines"  # mounted before the shared /static, which would hide it


def install_handlers(app: FastAPI) -> None:
    app.mount(STYLESHEET_MOUNT, StaticFiles(directory=HERE / "static"), name="deadlines-static")
    install_signed_in_pages(app, TEMPLATES)
