"""The keys of the browser session the portal writes and the API's authentication reads.

One place for both sides (``computeport.web.security`` signs people in, ``identity.auth``
accepts the cookie on the API), importable by the portal without pulling in the API.
"""

from __future__ import annotations

SESSION_USER_KEY = "user_id"
"""The signed-in user's id in the session cookie."""
SESSION_CSRF_KEY = "csrf"
"""The session's CSRF token: portal forms post it, cookie-authenticated API writes send it."""
CSRF_HEADER = "X-CSRF-Token"
"""The header a cookie-authenticated POST/PUT/PATCH/DELETE to the API carries the token in."""
