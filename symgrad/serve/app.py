"""The Starlette app and `run`, which serves it with uvicorn on loopback unless told otherwise."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import FileResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import limits
from .api import Api

STATIC = Path(__file__).resolve().parent / "static"
#: Headers on every answer: the page loads nothing from elsewhere (KaTeX is vendored), and no other site
#: may frame it.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "font-src 'self' data:; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def create_app(spec_path: str | None = None, time_limit: float = limits.DERIVE_SECONDS, runner=None) -> Starlette:
    api = Api(spec_path, time_limit, runner)

    async def index(request):
        return FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)

    routes = [
        Route("/", index),
        Route("/api/start", api.start),
        Route("/api/status", api.status),
        Route("/api/examples", api.example_list),
        Route("/api/examples/{name}", api.example),
        Route("/api/derive", api.derive, methods=["POST"]),
        Route("/api/check", api.check, methods=["POST"]),
        Route("/api/export/{format}", api.export, methods=["POST"]),
        Route("/api/practice/kinds", api.practice_kinds),
        Route("/api/practice", api.practice),
        Route("/api/practice/grade", api.grade, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(Headers)])
    app.state.api = api
    return app


class Headers:
    """ASGI middleware: SECURITY_HEADERS on every HTTP answer (those a handler set itself are kept)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in have]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, sending)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts, so that --port 0 prints the port it got."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run(spec_path: str | None, host: str, port: int, time_limit: float = limits.DERIVE_SECONDS) -> None:
    import uvicorn

    sock = bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"symgrad serve: listening on {host}: other machines can reach this page", file=sys.stderr, flush=True)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            # printed once the server accepts requests and handles Ctrl+C: a script may wait for this line
            print(f"symgrad serve: {url}  (Ctrl+C stops it)", flush=True)

    config = uvicorn.Config(create_app(spec_path, time_limit), log_level="warning", lifespan="off")
    Server(config).run(sockets=[sock])
