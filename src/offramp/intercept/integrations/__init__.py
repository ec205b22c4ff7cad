"""Put offramp in front of a search engine: ASGI, WSGI, Django, nginx (auth_request).

Every integration shares one decision (`core.decide`): on a configured search path a blocked
query is answered with a 303 to the interstitial; on a suggestion path a blocked prefix gets an
empty suggestion list. Screening runs in-process (`LocalScreen`, a term-list file) or through
offramp's API (`RemoteScreen`), as the operator chooses. `filter_results` drops result items whose
title, description or URL the same screen blocks.

    from offramp.intercept.integrations import LocalScreen, Policy
    from offramp.intercept.integrations.asgi import OfframpMiddleware
    app = OfframpMiddleware(app, LocalScreen("terms.txt"), Policy(search={"/search": "q"}))
"""

from __future__ import annotations

from offramp.intercept.integrations.core import (
    Decision,
    LocalScreen,
    Policy,
    RemoteScreen,
    Screen,
    decide,
    filter_results,
)

__all__ = ["Decision", "LocalScreen", "Policy", "RemoteScreen", "Screen", "decide",
           "filter_results"]
