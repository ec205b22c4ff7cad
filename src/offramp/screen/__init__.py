"""Screen search queries against an operator's term list.

    from offramp.screen import Screener, screen_batch
    screener = Screener.from_file("terms.yaml")
    screener.check("some query").blocked
"""

from __future__ import annotations

from offramp.screen.batch import screen_batch
from offramp.screen.matcher import Screener
from offramp.screen.verdict import Verdict

__all__ = ["Screener", "Verdict", "screen_batch"]
