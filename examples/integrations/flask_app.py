"""A Flask search app behind offramp's WSGI middleware.

Run:  OFFRAMP_TERMS=terms.txt flask --app flask_app run
      OFFRAMP_API=http://127.0.0.1:8000 flask --app flask_app run
"""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask, jsonify, request

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _engine import search, suggest
from _screen import intercept_url, screen_from_environment

from offramp.intercept.integrations import Policy, filter_results
from offramp.intercept.integrations.wsgi import OfframpWSGIMiddleware

screen = screen_from_environment()
app = Flask(__name__)


@app.get("/search")
def results():  # type: ignore[no-untyped-def]
    return jsonify({"results": filter_results(screen, search(request.args.get("q", "")))})


@app.get("/suggest")
def suggestions():  # type: ignore[no-untyped-def]
    return jsonify(filter_results(screen, suggest(request.args.get("q", ""))))


app.wsgi_app = OfframpWSGIMiddleware(  # type: ignore[method-assign]
    app.wsgi_app, screen,
    Policy(search={"/search": "q"}, suggest={"/suggest": "q"}, intercept_url=intercept_url()),
)
