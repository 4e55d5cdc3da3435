"""The console's web application: routes, security headers, sessions, CSRF, serving over HTTPS.

Routes are thin (:mod:`.views`): parse the request, call one method of the
disclosure service, render a template. Here is only the web plumbing:

- every response carries a strict Content-Security-Policy (no script at all,
  styles and images from this origin only, forms post only here, no framing),
  ``nosniff``, ``no-referrer``, ``no-store`` and HSTS;
- the session is the service's (server side); the browser holds only a random
  token in a ``__Host-`` cookie named for the area, Secure, HttpOnly and
  SameSite=Strict, so one area's console never sees another's cookie;
- every form carries the session's CSRF token (the login form a pre-session
  token of its own), checked before any action;
- the service is one object behind one lock: SQLite work is short, and a
  console has a handful of users.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from fedalert.node.console import views
from fedalert.node.console._web import HERE, Console
from fedalert.node.disclosure import DisclosureService, ServiceConfig

log = logging.getLogger(__name__)
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "strict-transport-security": "max-age=31536000",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(service: DisclosureService) -> Starlette:
    console = Console(service)
    routes = [*views.routes(), Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={404: _not_found, 405: _not_found})
    app.state.console = console
    return app


async def _not_found(request, exc):
    console: Console = request.app.state.console
    return console.render(request, "error.html", getattr(exc, "status_code", 404), title="Not found",
                          message="There is no such page.")


class ConsoleServer:
    """uvicorn serving the console over HTTPS on a socket bound here (port 0 for tests), in a thread."""

    def __init__(self, app, address: str, certfile: Path, keyfile: Path):
        import uvicorn

        host, _, port = address.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, int(port or 0)))
        self.host, self.port = host, self.sock.getsockname()[1]
        self.area = app.state.console.area
        config = uvicorn.Config(app, ssl_certfile=str(certfile), ssl_keyfile=str(keyfile), log_level="warning",
                                access_log=False, server_header=False, proxy_headers=False, lifespan="off")
        config.load()  # imports and the TLS context here, not in the serving thread
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="console", daemon=True)

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}/"

    def _run(self):
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self) -> "ConsoleServer":
        self.thread.start()
        for _ in range(200):  # bounded: 10 s
            if self.server.started or not self.thread.is_alive():
                break
            threading.Event().wait(0.05)
        if not self.server.started:
            raise RuntimeError(f"the console did not start on {self.host}:{self.port}; see the log")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def open_console(config: ServiceConfig, address: str, certfile: Path, keyfile: Path) -> ConsoleServer:
    """The service over *config*, its console app, served on *address* (started)."""
    service = DisclosureService(config)
    return ConsoleServer(create_app(service), address, certfile, keyfile).start()
