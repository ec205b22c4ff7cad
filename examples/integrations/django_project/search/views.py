"""The engine's own views; offramp wraps results and suggest through OFFRAMP['routes']."""

from __future__ import annotations

import sys
from pathlib import Path

from django.apps import apps
from django.http import HttpRequest, JsonResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from _engine import search
from _engine import suggest as complete

from offramp.intercept.integrations import filter_results


def _screen():  # type: ignore[no-untyped-def]
    return apps.get_app_config("offramp").screen


def home(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"engine": "example"})


def results(request: HttpRequest) -> JsonResponse:
    found = search(request.GET.get("q", ""))
    return JsonResponse({"results": filter_results(_screen(), found)})


def suggest(request: HttpRequest) -> JsonResponse:
    return JsonResponse(filter_results(_screen(), complete(request.GET.get("q", ""))), safe=False)
