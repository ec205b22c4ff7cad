"""How every example picks its screen: OFFRAMP_API (call offramp) or OFFRAMP_TERMS (in-process)."""

from __future__ import annotations

import os
from pathlib import Path

from offramp.intercept.integrations import LocalScreen, RemoteScreen, Screen

DEMO_TERMS = Path(__file__).resolve().parents[2] / "src" / "offramp" / "demo_assets" / "terms.txt"


def screen_from_environment() -> Screen:
    api = os.environ.get("OFFRAMP_API")
    if api:
        return RemoteScreen(api)
    return LocalScreen(os.environ.get("OFFRAMP_TERMS", str(DEMO_TERMS)))


def intercept_url() -> str:
    """Where the interstitial lives: offramp's own server unless a proxy serves it here."""
    return os.environ.get("OFFRAMP_INTERCEPT_URL", "/intercept")
