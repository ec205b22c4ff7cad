"""One respondent's way through examples/forms/help_seeking.yaml, shared by the in-process and the
browser tests: what they answer on each page, and what the sealed record must then hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FORM = Path(__file__).resolve().parents[2] / "examples" / "forms" / "help_seeking.yaml"

# page id -> field -> value(s), as a form posts them
PAGES: list[tuple[str, dict[str, str | list[str]]]] = [
    ("about", {"age_years": "34", "gender": "woman", "region": "south",
               "education": "university", "employment": "working"}),
    ("place", {"area": "s_coast", "household": ["partner", "family"]}),
    ("message", {"saw_message": "yes", "message_clear": "4",
                 "message_feel": ["worried", "relieved"], "message_action": "help",
                 "message_words": "It said that help is available."}),
    ("message_before", {"times_seen": "3", "first_seen": "month", "changed_search": "yes"}),
    ("attitudes", {"view_harm": "5", "view_illegal": "5", "view_stop": "4", "view_help": "4",
                   "view_anon": "3", "view_trust": "dk"}),
    ("help", {"sought_help": "yes", "help_kinds": ["chat", "selfhelp"],
              "barriers__shame": "1", "barriers__privacy": "2"}),
    ("help_detail", {"help_where": ["online"], "help_useful": "3",
                     "help_wait_days__missing": "-98"}),
    ("wellbeing", {"wb_calm": "1", "wb_tired": "2", "wb_lonely": "0", "wb_hopeful": "pnts",
                   "wb_stressed": "1", "sleep_hours": "7.5", "stress_score": "6"}),
    ("future", {"would_chat": "yes", "would_phone": "dk", "contact_pref": "text_chat",
                "ideas": "Shorter waiting times."}),
    ("final", {"survey_ease": "easy", "anything_else": "No."}),
]

EXPECTED: dict[str, Any] = {
    "age_years": 34, "gender": "woman", "region": "south", "education": "university",
    "employment": "working", "area": "s_coast", "household": ["partner", "family"],
    "saw_message": "yes", "message_clear": "4", "message_feel": ["worried", "relieved"],
    "message_action": "help", "message_words": "It said that help is available.",
    "times_seen": 3, "first_seen": "month", "changed_search": "yes",
    "view_harm": "5", "view_illegal": "5", "view_stop": "4", "view_help": "4", "view_anon": "3",
    "view_trust": "dk", "sought_help": "yes", "help_kinds": ["chat", "selfhelp"],
    "barriers": ["shame", "privacy"], "help_where": ["online"], "help_useful": "3",
    "help_wait_days": "-98", "wb_calm": "1", "wb_tired": "2", "wb_lonely": "0",
    "wb_hopeful": "pnts", "wb_stressed": "1", "sleep_hours": 7.5, "stress_score": 6,
    "would_chat": "yes", "would_phone": "dk", "contact_pref": "text_chat",
    "ideas": "Shorter waiting times.", "survey_ease": "easy", "anything_else": "No.",
    "help_kinds_n": "2",
}
"""The sealed answers (help_comment was shown but left empty, so it is absent)."""

# Dataset columns (CSV, read as text) -> expected cell, for the export check.
EXPECTED_CSV: dict[str, str] = {
    "age_years": "34", "gender": "woman", "region": "south", "area": "s_coast",
    "household__partner": "1", "household__family": "1", "household__alone": "0",
    "household__pnts": "0", "message_feel__worried": "1", "message_feel__angry": "0",
    "message_words": "It said that help is available.", "times_seen": "3",
    "view_trust": "-98", "wb_hopeful": "-97", "help_wait_days": "-98", "sleep_hours": "7.5",
    "stress_score": "6", "would_phone": "-98", "help_comment": "", "ideas":
    "Shorter waiting times.", "help_kinds__chat": "1", "help_kinds__phone": "0",
    "help_kinds_n": "2", "survey_ease": "easy",
}
