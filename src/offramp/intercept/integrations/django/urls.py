"""URL patterns built from OFFRAMP['routes']: each wraps the operator's own view."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.module_loading import import_string

from offramp.intercept.integrations.core import Policy, decide


def screened(view: Any, param: str, kind: str) -> Any:
    """The operator's view, behind the screen."""
    config = apps.get_app_config("offramp")

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        base: Policy = config.policy  # type: ignore[attr-defined]
        policy = Policy(
            search={request.path: param} if kind == "search" else {},
            suggest={request.path: param} if kind == "suggest" else {},
            intercept_url=base.intercept_url, empty_suggestions=base.empty_suggestions,
        )
        decision = decide(policy, config.screen, request.path,  # type: ignore[attr-defined]
                          request.GET.getlist)
        if decision is None:
            return view(request, *args, **kwargs)
        response = HttpResponse(decision.body, status=decision.status)
        for name, value in decision.headers:
            response[name] = value
        return response

    wrapper.__name__ = getattr(view, "__name__", "view")
    wrapper.__doc__ = getattr(view, "__doc__", None)
    return wrapper


def _patterns() -> list[URLPattern]:
    config = apps.get_app_config("offramp")
    return [
        path(route["path"], screened(import_string(route["view"]), route["param"],
                                     route.get("kind", "search")), name=route.get("name"))
        for route in config.routes  # type: ignore[attr-defined]
    ]


app_name = "offramp"
urlpatterns = _patterns()
