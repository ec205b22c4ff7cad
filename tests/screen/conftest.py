from __future__ import annotations

from pathlib import Path

import pytest

from offramp.screen import Screener

EXAMPLES = Path(__file__).parents[2] / "examples" / "terms"


@pytest.fixture(scope="session")
def demo() -> Screener:
    """The rich demo list: categories, all_of, unless, prefix/substring, age helper."""
    return Screener.from_file(EXAMPLES / "demo-terms.yaml")
