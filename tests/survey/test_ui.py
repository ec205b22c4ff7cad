"""The pages' own words exist in every shipped language, with the same placeholders."""

from __future__ import annotations

import re
import string

import pytest

from offramp.survey import ui

ENGLISH = ui.words("en")


@pytest.mark.parametrize("language", sorted(ui.shipped_languages()))
def test_every_language_has_every_text_and_placeholder(language: str) -> None:
    catalogue = ui._catalogue(language)
    assert set(catalogue) == set(ENGLISH), language
    for key, text in catalogue.items():
        wanted = {f for _, f, _, _ in string.Formatter().parse(ENGLISH[key]) if f}
        found = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        assert found == wanted, (language, key)
        assert not re.search(r"<|>|\{\{", text)


def test_languages_we_ship_and_fallbacks() -> None:
    assert {"en", "ar", "fr", "es", "de", "ru"} <= ui.shipped_languages()
    assert ui.text("ar-EG", "next") == "التالي"
    assert ui.text("sw", "next") == "Next"
    assert ui.has_language("pt-BR") is False
    assert ui.missing_label("refused", ("en", "ar")) == {"en": "Prefer not to say",
                                                        "ar": "أفضّل عدم الإجابة"}
