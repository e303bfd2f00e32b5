"""How the consolidation service's pages are added to the app.

Sign-in (the `baocao_session` cookie, else intake's sign-in page) and the error pages are the shared
kit's (baocao_shared.web.pages); the pages themselves and their templates are in `web.routes`.
"""

from fastapi import FastAPI

from baocao_shared.web.pages import install_signed_in_pages
from consolidation.web.routes import TEMPLATES, router


def install(app: FastAPI) -> None:
    """/ , /tong-hop/…, /quoc-gia/…, /static and the error pages."""
    install_signed_in_pages(app, TEMPLATES)
    app.include_router(router)
