"""Single sign-on through OpenID Connect for staff and committee members (Authlib).

Enabled when ``Settings.oidc_issuer`` is set: ``/login/sso`` sends the browser to the
provider (authorisation-code flow, state and nonce kept in the signed session), and
``/login/sso/callback`` validates the ID token (signature from the provider's JWKS, issuer,
audience, nonce) and signs in the user whose e-mail it names.  Only existing users holding a
staff role may sign in this way: SSO never creates accounts or grants roles.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from computeport.identity.repository import user_by_email
from computeport.identity.service import subject_for
from computeport.kit.errors import NotFound, PermissionDenied
from computeport.settings import Settings
from computeport.web.deps import PageSession, portal_state
from computeport.web.security import sign_in

router = APIRouter(include_in_schema=False)

CLIENT = "sso"


def _client(request: Request) -> Any:
    """The app's OIDC client, registered once from the settings (404 when SSO is off)."""
    settings: Settings = portal_state(request).settings
    if not settings.oidc_issuer or not settings.oidc_client_id:
        raise NotFound("single sign-on is not configured")
    oauth: OAuth | None = getattr(request.app.state, "oidc", None)
    if oauth is None:
        oauth = OAuth()
        issuer = settings.oidc_issuer.rstrip("/")
        oauth.register(
            CLIENT,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile"},
        )
        request.app.state.oidc = oauth
    return oauth.create_client(CLIENT)


@router.get("/login/sso")
async def sso_start(request: Request) -> Response:
    client = _client(request)
    redirect_uri = str(request.url_for("sso_callback"))
    response: Response = await client.authorize_redirect(request, redirect_uri)
    return response


@router.get("/login/sso/callback", name="sso_callback")
async def sso_callback(request: Request, session: PageSession) -> Response:
    client = _client(request)
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as error:
        raise PermissionDenied(f"single sign-on failed: {error.error}") from None
    claims = token.get("userinfo") or {}
    email = str(claims.get("email") or "")
    if not email or claims.get("email_verified") is False:
        raise PermissionDenied("the identity provider gave no verified e-mail address")
    user = user_by_email(session, email)
    if user is None or not user.is_active or not subject_for(session, user).is_staff:
        raise PermissionDenied("single sign-on is for staff and committee members")
    sign_in(request, user.id)
    return RedirectResponse("/", status_code=303)
