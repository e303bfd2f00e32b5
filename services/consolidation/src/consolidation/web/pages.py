"""The consolidation service's pages: their templates, and how they are added to the app.

Sign-in (the `baocao_session` cookie, else intake's sign-in page) and the error pages are the shared
kit's (baocao_shared.web.pages); the routes are in `web.routes`.
"""

from pathlib import Path

from fastapi import FastAPI

from baocao_shared.web import templates_for

HERE = Path(__file__).resolve().parent
TEMPLATES = templates_for(HERE / "templates")


def install(app: FastAPI) -> None:
    """/ , /tong-hop/…, /quoc-gia/…, /static and the error pages."""
    from baocao_shared.web.pages import install_signed_in_pages
    from consolidation.web.routes import router

    install_signed_in_pages(app, TEMPLATES)
    app.include_router(router)
