"""HTTP infrastructure under every router: the request's session and clock, paging, the app's
lifetime state and RFC 9457 problem rendering.

Below the domains on purpose: a domain's endpoints import this package, and only
``computeport.api.app`` (an edge) imports the domains' routers, so no domain imports the edge
that assembles it.
"""
