"""The message catalogue: shipped languages, schema errors, `offramp messages check`, selection."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from offramp.errors import InputError
from offramp.intercept.cli import messages
from offramp.intercept.messages import (
    CATALOGUE_DIR,
    REQUIRED_KEYS,
    check_catalogue,
    load_catalogue,
)


def test_shipped_catalogue_is_complete_with_rtl_and_cyrillic() -> None:
    catalogue = load_catalogue()
    assert len(catalogue.languages) >= 6
    assert {"en", "ar", "ru"} <= set(catalogue.languages)
    assert {"control", "supportive"} <= set(catalogue.variants())
    assert check_catalogue(catalogue) == []
    assert catalogue.direction("ar") == "rtl" and catalogue.direction("ru") == "ltr"
    assert re.search("[\u0600-\u06ff]", catalogue.messages("ar", "control")["title"])
    assert re.search("[\u0400-\u04ff]", catalogue.messages("ru", "supportive")["title"])
    # Machine-drafted translations are flagged for review; the reviewed default is not.
    assert not catalogue.languages["en"].draft
    assert all(catalogue.languages[c].draft for c in catalogue.languages if c != "en")
    # Arms differ in wording, or the experiment compares nothing.
    for code in catalogue.languages:
        assert catalogue.messages(code, "control") != catalogue.messages(code, "supportive")


def _copy_catalogue(tmp_path: Path) -> Path:
    folder = tmp_path / "messages"
    shutil.copytree(CATALOGUE_DIR, folder)
    return folder


def test_check_names_missing_translations_per_variant(tmp_path: Path) -> None:
    folder = _copy_catalogue(tmp_path)
    ru = folder / "ru.yaml"
    text = ru.read_text(encoding="utf-8")
    # Drop two keys from the supportive variant only.
    head, supportive = text.split("  supportive:\n")
    supportive = "\n".join(
        line for line in supportive.splitlines()
        if not line.startswith(("    help_link:", "    survey_link:"))
    )
    ru.write_text(head + "  supportive:\n" + supportive + "\n", encoding="utf-8")
    (folder / "de.yaml").write_text(
        (folder / "de.yaml").read_text(encoding="utf-8").split("  supportive:\n")[0],
        encoding="utf-8",
    )
    gaps = check_catalogue(load_catalogue(folder))
    assert [str(g) for g in gaps] == [
        "de / supportive: variant missing (falls back to the default language)",
        "ru / supportive: missing translation: help_link, survey_link",
    ]
    result = CliRunner().invoke(messages, ["check", "--dir", str(folder)])
    assert result.exit_code == 1
    assert "ru / supportive: missing translation: help_link, survey_link" in result.output
    assert "de / supportive: variant missing" in result.output
    # A gap falls back to the default language, key by key.
    catalogue = load_catalogue(folder)
    assert catalogue.messages("ru", "supportive")["help_link"] == (
        catalogue.messages("en", "supportive")["help_link"]
    )


def test_check_passes_on_shipped_catalogue_and_strict_flags_drafts() -> None:
    ok = CliRunner().invoke(messages, ["check"])
    assert ok.exit_code == 0, ok.output
    assert "0 gaps" in ok.output and "ar\tالعربية\trtl\tdraft" in ok.output
    strict = CliRunner().invoke(messages, ["check", "--strict"])
    assert strict.exit_code == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("language: en\nvariants: [\n", "not valid YAML"),
        ("language: en\nname: x\n", "needs `language`"),
        ("language: fr\nname: x\nvariants: {}\n", "does not match the file name"),
        ("language: en\nname: x\nvariants:\n  control:\n    titel: typo\n", "unknown key 'titel'"),
        ("language: en\nname: x\ncolour: red\nvariants: {}\n", "unknown top-level key"),
        ("language: en\nname: x\nvariants:\n  control:\n    title: only\n", "lacks lead"),
    ],
)
def test_malformed_files_are_named(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "en.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_catalogue(tmp_path)
    assert message in str(info.value)
    assert "en.yaml" in str(info.value)


def test_cli_reports_malformed_catalogue_as_error(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text("language: en\nvariants: [\n", encoding="utf-8")
    from offramp.cli import cli

    result = CliRunner().invoke(cli, ["messages", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "offramp: error:" in result.output and "en.yaml" in result.output


def test_every_required_key_is_in_the_template() -> None:
    template = (CATALOGUE_DIR.parent / "templates" / "intercept.html").read_text()
    for key in REQUIRED_KEYS:
        assert f"t.{key}" in template
