"""AppConfig: validates settings.OFFRAMP once at start-up and builds the screen."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from offramp.intercept.integrations.core import LocalScreen, Policy, RemoteScreen, Screen


class OfframpConfig(AppConfig):  # type: ignore[misc]  # Django ships no type information
    name = "offramp.intercept.integrations.django"
    label = "offramp"
    verbose_name = "offramp search interception"
    screen: Screen
    policy: Policy
    routes: list[dict[str, Any]]

    def ready(self) -> None:
        config = getattr(settings, "OFFRAMP", None)
        if not isinstance(config, dict):
            raise ImproperlyConfigured("offramp: set OFFRAMP = {...} in settings (see the docs)")
        if bool(config.get("terms")) == bool(config.get("api_url")):
            raise ImproperlyConfigured("offramp: set exactly one of OFFRAMP['terms'] (in-process)"
                                       " or OFFRAMP['api_url'] (offramp's API)")
        self.screen = (LocalScreen(config["terms"]) if config.get("terms")
                       else RemoteScreen(config["api_url"],
                                         on_error=config.get("on_error", "open")))
        routes = config.get("routes") or []
        for route in routes:
            if not {"path", "view", "param"} <= set(route):
                raise ImproperlyConfigured(f"offramp: route {route!r} needs path, view, param")
            if route.get("kind", "search") not in ("search", "suggest"):
                raise ImproperlyConfigured("offramp: route kind must be search or suggest")
        self.routes = routes
        self.policy = Policy(
            intercept_url=config.get("intercept_url", "/intercept"),
            empty_suggestions=str(config.get("empty_suggestions", "[]")).encode(),
        )
