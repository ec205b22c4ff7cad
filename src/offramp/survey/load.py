"""Load an instrument from whichever authoring format the file is in, and check it.

`read_form` returns everything a reader found (for `survey check`); `load_instrument` is what the
server, `survey publish` and `survey preview` use: it refuses a form with any error.
"""

from __future__ import annotations

from pathlib import Path

from offramp.survey.instrument import Instrument
from offramp.survey.problems import FormInvalid, FormRead, Location, Problem, errors


def read_form(path: Path) -> FormRead:
    """Read and check a form: the instrument (None if it could not be built) and every problem."""
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        from offramp.survey.yamlform import read_yaml

        result = read_yaml(path)
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        from offramp.survey.xlsform import read_xlsform  # imported lazily: pyxform is heavy

        result = read_xlsform(path)
    else:
        problem = Problem(Location(str(path)), "unknown instrument format",
                          hint="use an XLSForm (.xlsx) or a YAML file (.yaml)")
        from offramp.survey.problems import SourceMap

        return FormRead(None, [problem], SourceMap(str(path)))
    if result.instrument is not None:
        from offramp.survey.check import check_instrument

        result.problems.extend(check_instrument(result.instrument, result.sources))
    return result


def load_instrument(path: Path) -> Instrument:
    """The instrument in `path`; FormInvalid (an InputError) naming the first error otherwise."""
    result = read_form(path)
    if result.instrument is None or errors(result.problems):
        raise FormInvalid(result.problems or [Problem(Location(str(path)), "no instrument")])
    return result.instrument
