"""A minimal OpenID Connect provider for tests: discovery, authorise (auto-approves one user),
token (RS256 ID token signed with joserfc, the JOSE library Authlib now builds on), JWKS and
userinfo.  Not for anything else."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Form, Header, HTTPException, Request
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support.processes import free_port


@dataclass
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    email: str
    key: Any = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()
        kid = "k1"

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            public = self.key.as_dict(private=False)
            public.update(kid=kid, use="sig", alg="RS256")
            return {"keys": [public]}

        @app.get("/authorize")
        def authorize(request: Request) -> RedirectResponse:
            q = request.query_params
            if q.get("client_id") != self.client_id:
                raise HTTPException(400, "unknown client")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": q.get("nonce", ""), "redirect_uri": q["redirect_uri"]}
            target = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
            return RedirectResponse(target, status_code=302)

        @app.post("/token")
        def token(
            code: str = Form(...),
            redirect_uri: str = Form(...),
            client_id: str | None = Form(None),
            client_secret: str | None = Form(None),
            authorization: str | None = Header(None),
        ) -> dict[str, Any]:
            import base64

            if authorization and authorization.startswith("Basic "):
                cid, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            else:
                cid, secret = client_id or "", client_secret or ""
            if cid != self.client_id or secret != self.client_secret:
                raise HTTPException(401, "bad client")
            grant = self.codes.pop(code, None)
            if grant is None or grant["redirect_uri"] != redirect_uri:
                raise HTTPException(400, "bad code")
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "sub": "user-1",
                "aud": self.client_id,
                "iat": now,
                "exp": now + 300,
                "nonce": grant["nonce"],
                "email": self.email,
                "email_verified": True,
            }
            id_token = jwt.encode({"alg": "RS256", "kid": kid}, claims, self.key)
            return {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }

        @app.get("/userinfo")
        def userinfo() -> dict[str, Any]:
            return {"sub": "user-1", "email": self.email, "email_verified": True}

        return app


@contextmanager
def running_provider(email: str) -> Iterator[Provider]:
    """The provider on a free loopback port, in a thread, until the context ends."""
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}", "computeport", "s3cret-for-tests", email)
    server = uvicorn.Server(
        uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("OIDC test provider did not start")
        time.sleep(0.05)  # waiting for a server thread to bind, not synchronising test logic
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
