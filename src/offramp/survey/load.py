"""Load an instrument from whichever authoring format the file is in."""

from __future__ import annotations

from pathlib import Path

from offramp.errors import InputError
from offramp.survey.instrument import Instrument
from offramp.survey.yamlform import load_yaml_instrument


def load_instrument(path: Path) -> Instrument:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_yaml_instrument(path)
    if suffix in (".xlsx", ".xls"):
        from offramp.survey.xlsform import load_xlsform  # imported lazily: pyxform is heavy

        return load_xlsform(path)
    raise InputError(
        "unknown instrument format", file=str(path), hint="use an XLSForm (.xlsx) or YAML file"
    )
