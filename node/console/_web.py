"""Web plumbing shared by the console's views: the service behind a lock, templates, sessions, guards."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from fedalert.node.console import _format
from fedalert.node.disclosure import AccessDenied, DisclosureService, NotAuthenticated

HERE = Path(__file__).parent


class Console:
    """The state every view shares: the service, its lock, the templates, the cookie names."""

    def __init__(self, service: DisclosureService):
        self.service = service
        self.lock = threading.Lock()
        self.area = service.area()
        self.cookie = f"__Host-fedalert-{self.area}"
        self.login_cookie = f"__Host-fedalert-{self.area}-login"
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(_format.FILTERS)

    async def call(self, fn, *args, **kwargs):
        """Run one service call in a worker thread, one at a time."""

        def locked():
            with self.lock:
                return fn(*args, **kwargs)

        return await run_in_threadpool(locked)

    def render(self, request, template: str, status: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("user", None)
        html = self.env.get_template(template).render(area=self.area, path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=status)

    async def principal(self, request):
        """The logged-in user of this request, or None."""
        token = request.cookies.get(self.cookie, "")
        if not token:
            return None
        try:
            return await self.call(self.service.session, token)
        except NotAuthenticated:
            return None

    def set_session(self, response: Response, token: str) -> None:
        response.set_cookie(self.cookie, token, secure=True, httponly=True, samesite="strict", path="/")

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(self.cookie, secure=True, httponly=True, samesite="strict", path="/")

    def login_token(self) -> str:
        return secrets.token_urlsafe(24)


def guarded(permission: str | None = None, *, post: bool = False):
    """A view that needs a session (and *permission*, and on POST a good CSRF token).

    No session: a GET goes to the login page, a POST is refused (401). A
    stale or missing CSRF token is refused (403) before anything is done.
    The service checks the role again on every call; a refusal is 403."""

    def wrap(view):
        async def endpoint(request):
            console: Console = request.app.state.console
            user = await console.principal(request)
            if user is None:
                if request.method == "GET":
                    return RedirectResponse("/login?next=" + request.url.path, status_code=303)
                return console.render(request, "error.html", 401, title="Not logged in",
                                      message="Your session ended or timed out. Log in again.")
            form = None
            if post:
                form = await request.form()
                ok = await console.call(console.service.csrf_ok, user, str(form.get("csrf", "")))
                if not ok:
                    return console.render(request, "error.html", 403, user=user, title="Form expired",
                                          message="This form is out of date (its security token does not match "
                                                  "your session). Go back, reload the page and try again.")
            if permission and not user.can(permission):
                await console.call(_refused, console.service, user, permission)
                return _forbidden(console, request, user)
            try:
                return await view(request, console, user, form) if post else await view(request, console, user)
            except AccessDenied:
                return _forbidden(console, request, user)
            except NotAuthenticated:
                return RedirectResponse("/login", status_code=303)

        endpoint.__name__ = view.__name__
        return endpoint

    return wrap


def _refused(service, user, permission):
    """Let the service see (and audit) the refused attempt: it raises AccessDenied."""
    try:
        service.require(user, permission)
    except AccessDenied:
        pass


def _forbidden(console, request, user):
    return console.render(request, "error.html", 403, user=user, title="Not allowed",
                          message="Your role does not allow this page. Ask your administrator if you need it.")
