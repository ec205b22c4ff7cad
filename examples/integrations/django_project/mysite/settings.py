"""Minimal settings. The two offramp lines are marked."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
REPO = BASE_DIR.parents[2]
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "offramp.intercept.integrations.django",  # offramp (1 of 2)
    "search",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "mysite.urls"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
LOGGING = {"version": 1, "disable_existing_loggers": False}

OFFRAMP = {
    # Exactly one of: "terms" (screen in-process) or "api_url" (offramp's API).
    **({"api_url": os.environ["OFFRAMP_API"]} if os.environ.get("OFFRAMP_API") else
       {"terms": os.environ.get("OFFRAMP_TERMS",
                                str(REPO / "src/offramp/demo_assets/terms.txt"))}),
    "intercept_url": os.environ.get("OFFRAMP_INTERCEPT_URL", "/intercept"),
    "routes": [
        {"path": "search/", "view": "search.views.results", "param": "q", "name": "results"},
        {"path": "suggest/", "view": "search.views.suggest", "param": "q", "kind": "suggest"},
    ],
}
