"""The Django app: add it to INSTALLED_APPS and include its URLs before your own.

    INSTALLED_APPS = [..., "offramp.intercept.integrations.django"]
    OFFRAMP = {
        "terms": "/etc/offramp/terms.txt",          # screen in-process, or
        # "api_url": "http://127.0.0.1:8000",       # screen through offramp's API
        "intercept_url": "/intercept",              # where offramp's page is served
        "routes": [
            {"path": "search/", "view": "search.views.results", "param": "q"},
            {"path": "suggest/", "view": "search.views.suggest", "param": "q", "kind": "suggest"},
        ],
    }
    urlpatterns = [path("", include("offramp.intercept.integrations.django.urls")), ...]

Each route wraps your own view: the query is screened first, and a blocked one never reaches it.
"""
