"""The console as a FastAPI app, mounted by the Airflow plugin (erzl_airflow.console) under the
API server, next to the DAGs.

Who the caller is and what they may do is the deployment's to say: :func:`create_app` takes an
``Auth`` — in Airflow, the auth manager's user from the session cookie or bearer token, and its
custom-view permission for :data:`RESOURCE`. Every route depends on it; nothing here is served
to an anonymous caller. A form that changes the register carries a token bound to the caller's
credential (double submit), so another site cannot post one in their name.
"""

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from pipelines import config
from pipelines.console.pages import Links, Site, data_docs_file
from pipelines.register import db

RESOURCE = "ERZL Fund Console"  # the custom view the fund grants its analysts
PREFIX = "/erzl"


@dataclass(frozen=True)
class Caller:
    name: str
    credential: str  # the token the request carried: what the form token is bound to
    user: object = None  # the auth manager's own user object


@dataclass(frozen=True)
class Auth:
    """``identify(request)`` returns the caller or raises HTTPException(401);
    ``allowed(caller, method)`` says whether they may read ("GET") or decide ("POST")."""

    identify: Callable[[Request], Awaitable[Caller]]
    allowed: Callable[[Caller, str], bool]
    login_url: str = "/auth/login/"


def form_token(caller: Caller) -> str:
    return hmac.new(caller.credential.encode(), b"erzl-console-form", hashlib.sha256).hexdigest()


def create_app(auth: Auth, settings: config.Settings | None = None) -> FastAPI:
    app = FastAPI(title="ERZL fund analysts' console", docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip
    site = Site(Links(prefix=PREFIX))
    state = {"settings": settings}

    def current_settings() -> config.Settings:
        if state["settings"] is None:
            state["settings"] = config.load()
        return state["settings"]

    async def reader(request: Request) -> Caller:
        caller = await auth.identify(request)
        if not auth.allowed(caller, "GET"):
            raise HTTPException(403, "not allowed to read the console")
        return caller

    async def decider(request: Request) -> Caller:
        caller = await auth.identify(request)
        if not auth.allowed(caller, "POST"):
            raise HTTPException(403, "not allowed to resolve held records")
        return caller

    Reader = Annotated[Caller, Depends(reader)]
    Decider = Annotated[Caller, Depends(decider)]

    @app.exception_handler(HTTPException)
    async def refused(request: Request, exc: HTTPException) -> Response:
        texts = {
            401: ("Sign in to Airflow to open the console.",
                  "Войдите в Airflow, чтобы открыть консоль."),
            403: ("Your Airflow user is not allowed here.",
                  "Вашему пользователю Airflow доступ не дан."),
            404: ("Not found.", "Не найдено."),
        }  # fmt: skip
        en, ru = texts.get(exc.status_code, (str(exc.detail), str(exc.detail)))
        login = None
        if exc.status_code == 401:
            login = f"{auth.login_url}?next={quote(str(request.url.path), safe='/')}"
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                # a browser is sent to Airflow's sign-in, which brings it back here
                return RedirectResponse(login, status_code=303)
        body = site.error_page(f"{exc.status_code}", en, ru, login=login, user=None)
        return HTMLResponse(body, status_code=exc.status_code)

    def page(html: str | None) -> HTMLResponse:
        if html is None:
            raise HTTPException(404)
        return HTMLResponse(html)

    @app.get("/", response_class=HTMLResponse)
    @app.get("/index.html", response_class=HTMLResponse)  # a Data Docs page's "Home"
    def runs(caller: Reader) -> HTMLResponse:
        with db.session_scope(current_settings()) as session:
            return page(site.runs_page(session, user=caller.name))

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run(run_id: str, caller: Reader) -> HTMLResponse:
        settings = current_settings()
        with db.session_scope(settings) as session:
            return page(site.run_page(session, settings, run_id, user=caller.name))

    @app.get("/files/{file_id}", response_class=HTMLResponse)
    def file(file_id: int, caller: Reader) -> HTMLResponse:
        settings = current_settings()
        with db.session_scope(settings) as session:
            return page(site.file_page(session, settings, file_id, user=caller.name))

    @app.get("/senders", response_class=HTMLResponse)
    def senders(caller: Reader) -> HTMLResponse:
        with db.session_scope(current_settings()) as session:
            return page(site.senders_page(session, user=caller.name))

    @app.get("/senders/{sender:path}", response_class=HTMLResponse)
    def sender(sender: str, caller: Reader) -> HTMLResponse:
        with db.session_scope(current_settings()) as session:
            return page(site.sender_page(session, sender, user=caller.name))

    @app.get("/rules", response_class=HTMLResponse)
    def rules(caller: Reader) -> HTMLResponse:
        with db.session_scope(current_settings()) as session:
            return page(site.rules_page(session, user=caller.name))

    @app.get("/rules/{code}", response_class=HTMLResponse)
    def rule(code: str, caller: Reader) -> HTMLResponse:
        with db.session_scope(current_settings()) as session:
            return page(site.rule_page(session, code, user=caller.name))

    @app.get("/persons", response_class=HTMLResponse)
    def find_person(enp: str, caller: Reader) -> Response:
        if not (enp.isdigit() and len(enp) == 16):
            raise HTTPException(404)
        return RedirectResponse(f"{PREFIX}/persons/{enp}", status_code=303)

    @app.get("/persons/{enp}", response_class=HTMLResponse)
    def person(enp: str, caller: Reader) -> HTMLResponse:
        with db.session_scope(current_settings()) as session:
            return page(site.person_page(session, enp, user=caller.name))

    @app.get("/data-docs/{run_id}/{file_id}")
    def data_docs(run_id: str, file_id: int, caller: Reader) -> FileResponse:
        path = data_docs_file(current_settings(), run_id, file_id)
        if path is None:
            raise HTTPException(404)
        return FileResponse(path, media_type="text/html")

    def review_page(caller: Caller, message: str | None = None, error: bool = False) -> str:
        settings = current_settings()
        with db.session_scope(settings) as session:
            return site.review_page(
                session, settings, user=caller.name, csrf=form_token(caller),
                message=message, message_error=error,
            )  # fmt: skip

    @app.get("/review", response_class=HTMLResponse)
    def review(caller: Reader) -> HTMLResponse:
        return HTMLResponse(review_page(caller))

    @app.post("/review/{key}", response_class=HTMLResponse)
    def resolve(
        key: str,
        caller: Decider,
        action: Annotated[str, Form()],
        note: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> HTMLResponse:
        from pipelines.errors import describe
        from pipelines.review import ReviewError, resolve_and_emit

        if not hmac.compare_digest(csrf, form_token(caller)):
            raise HTTPException(403, "the form is stale: open the review queue again")
        try:
            done = resolve_and_emit(current_settings(), key, action, note, caller.name)
        except ReviewError as exc:
            return HTMLResponse(review_page(caller, describe(exc), error=True), status_code=409)
        return HTMLResponse(review_page(caller, _resolved(done)))

    return app


def _resolved(done) -> str:
    """One line on what a resolution did, in both languages."""
    if done.state == "awaiting_confirmation":
        return (
            f"{done.key}: accepted by {done.decided_by}; a second analyst must confirm · "
            f"принято {done.decided_by}, ожидает подтверждения вторым аналитиком"
        )
    enp = f", ЕНП {done.enp}" if done.enp else ""
    who = f" (confirmed by {done.confirmed_by})" if done.confirmed_by else ""
    return (
        f"{done.key}: {done.action}ed{who} — the record is {done.outcome}{enp}, "
        f"run {done.run_id} · решение применено"
    )
