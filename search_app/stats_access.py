"""Who may read ``/stats`` (what people searched): maintainers only.

With ``STATS_TOKEN`` set (``SEARCH_STATS_TOKEN``), any client must give it as the
password of HTTP Basic authentication (any user name). Without it, only clients on
this machine (loopback addresses) may read the page. Behind ``make run``'s nginx
the address is the client's, not the proxy's: the app trusts one proxy hop
(``SEARCH_BEHIND_PROXY``, ``search_app/security.py``) and nginx overwrites
``X-Forwarded-For``. A deployment reachable from elsewhere, or behind another
proxy (whose requests come from loopback), sets the token.
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Request, current_app, g, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, Unauthorized

CHALLENGE = WWWAuthenticate("basic", {"realm": "Statistiques de recherche", "charset": "UTF-8"})


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def may_read_stats(request: Request, token: str | None) -> bool:
    """Whether ``request`` may read the analytics (the footer links to them only then)."""
    try:
        check_stats_access(request, token)
    except (Unauthorized, Forbidden):
        return False
    return True


def this_client_may_read_stats() -> bool:
    """:func:`may_read_stats` for the current request, decided once (the ETag and the footer ask)."""
    if "may_read_stats" not in g:
        g.may_read_stats = may_read_stats(request, current_app.config["STATS_TOKEN"])
    return bool(g.may_read_stats)


def check_stats_access(request: Request, token: str | None) -> None:
    """Return if ``request`` may read the analytics; raise 401 (token expected) or 403 otherwise."""
    if token:
        given = request.authorization.password if request.authorization else None
        if given is None or not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized(www_authenticate=CHALLENGE)
        return
    if not _is_loopback(request.remote_addr):
        raise Forbidden()
