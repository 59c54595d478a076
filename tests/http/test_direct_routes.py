"""Direct routes: answered by path ahead of the framework's stack, everything else through it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from computeport.http.direct_routes import install_direct_routes


class Stamp:
    """A middleware of the stack: every answer that went through it says so."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"x-stack", b"yes")]
            await send(message)

        await self.app(scope, receive, stamped)


async def echo(request: Request) -> Response:
    body = await request.body()
    return PlainTextResponse(f"direct {request.method} {body.decode()}")


def _client(root_path: str = "") -> TestClient:
    app = FastAPI()
    app.add_middleware(Stamp)

    @app.post("/v1/echo")
    def shadowed() -> str:  # the direct route answers first: never reached
        return "stack"

    @app.get("/v1/other")
    def other() -> str:
        return "stack"

    install_direct_routes(app, {"/v1/echo": echo})
    return TestClient(app, root_path=root_path)


def test_a_direct_path_skips_the_stack_and_gets_the_request() -> None:
    answer = _client().post("/v1/echo", content=b"hello")
    assert answer.text == "direct POST hello"
    assert "x-stack" not in answer.headers


def test_every_method_of_a_direct_path_reaches_its_handler() -> None:
    assert _client().get("/v1/echo").text == "direct GET "


def test_other_paths_go_through_the_stack() -> None:
    client = _client()
    answer = client.get("/v1/other")
    assert answer.json() == "stack"
    assert answer.headers["x-stack"] == "yes"
    missing = client.get("/v1/echo/more")
    assert missing.status_code == 404
    assert missing.headers["x-stack"] == "yes"


def test_a_direct_path_is_matched_below_the_root_path_a_proxy_mounts_it_at() -> None:
    answer = _client(root_path="/compute").post("/compute/v1/echo", content=b"x")
    assert answer.text == "direct POST x"
