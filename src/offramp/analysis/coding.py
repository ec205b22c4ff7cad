"""The open-text coding workflow: a codebook of codes, coders, their assignments and codings.

A coding project is one YAML file beside a CSV of codings, so that it can be versioned, reviewed
and re-run; nothing lives in a database:

```yaml
question: why_stopped          # dataset column holding the free text
id: respondent_id              # dataset column identifying respondents (default: row number)
exclusive: false               # true when each response gets exactly one code
coders: [coder_a, coder_b]
codes:
  - {code: cost, label: "Cost of help"}
  - {code: stigma, label: "Fear of stigma", description: "mentions shame or being judged"}
codings: codings.csv           # columns unit, coder, code (blank code = read, nothing applied)
```

``assign_units`` shares the responses among coders with an overlap coded by everyone, which is
what agreement is measured on; ``coding_agreement`` reports Cohen's kappa (two coders) and
Krippendorff's alpha per code; ``coded_dataset`` turns the codings into ``question_code__<code>``
0/1 columns that multiple_response can tabulate.
"""

from __future__ import annotations

import csv
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from offramp.analysis._result import Result
from offramp.analysis._yamlfile import load_yaml
from offramp.analysis.agreement import cohen_kappa, krippendorff_alpha
from offramp.errors import InputError

_KEYS = {"question", "id", "exclusive", "coders", "codes", "codings"}


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class Coding:
    unit: str
    coder: str
    code: str | None
    line: int


@dataclass
class CodingProject:
    question: str
    codes: list[Code]
    coders: list[str]
    codings: list[Coding]
    id: str | None = None
    exclusive: bool = False
    path: str = "<memory>"
    codings_path: str = "<memory>"
    extra: dict[str, Any] = field(default_factory=dict)

    def code_ids(self) -> list[str]:
        return [c.code for c in self.codes]

    def units(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.codings:
            seen.setdefault(c.unit, None)
        return list(seen)

    def applied(self) -> dict[str, dict[str, set[str]]]:
        """unit -> coder -> set of codes (empty set = read, no code applied)."""
        out: dict[str, dict[str, set[str]]] = defaultdict(dict)
        for c in self.codings:
            codes = out[c.unit].setdefault(c.coder, set())
            if c.code:
                codes.add(c.code)
        return out


def load_coding(path: str | Path) -> CodingProject:
    """Read and check a coding project (YAML) and its codings CSV; errors name file and line."""
    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "a coding project must be a YAML mapping")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise doc.error((unknown[0],), f"unknown key {unknown[0]!r}; allowed keys: {sorted(_KEYS)}")
    for key in ("question", "codes", "coders", "codings"):
        if key not in data:
            raise doc.error((), f"the coding project needs {key!r}")
    codes: list[Code] = []
    if not isinstance(data["codes"], list) or not data["codes"]:
        raise doc.error(("codes",), "codes must be a non-empty list")
    for i, item in enumerate(data["codes"]):
        if isinstance(item, str):
            item = {"code": item}
        if not isinstance(item, dict) or "code" not in item:
            raise doc.error(("codes", i), "each code needs at least 'code'")
        code = str(item["code"])
        if code in {c.code for c in codes}:
            raise doc.error(("codes", i), f"code {code!r} is defined twice")
        codes.append(Code(code, str(item.get("label", code)), str(item.get("description", ""))))
    coders = data["coders"]
    if not isinstance(coders, list) or not coders:
        raise doc.error(("coders",), "coders must be a non-empty list of names")
    coders = [str(c) for c in coders]
    csv_path = Path(doc.file).parent / str(data["codings"])
    project = CodingProject(
        question=str(data["question"]),
        id=None if data.get("id") is None else str(data["id"]),
        exclusive=bool(data.get("exclusive", False)),
        codes=codes,
        coders=coders,
        codings=read_codings(csv_path, codes=[c.code for c in codes], coders=coders),
        path=doc.file,
        codings_path=str(csv_path),
    )
    return project


def read_codings(path: str | Path, *, codes: Sequence[str], coders: Sequence[str]) -> list[Coding]:
    """Read unit,coder,code rows, rejecting codes and coders the project does not define."""
    p = Path(path)
    try:
        handle = p.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read codings file {p}: {exc.strerror}") from None
    out: list[Coding] = []
    known_codes, known_coders = set(codes), set(coders)
    with handle:
        reader = csv.DictReader(handle)
        missing = {"unit", "coder", "code"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(f"missing column(s) {sorted(missing)}", file=str(p), line=1)
        for row in reader:
            line = reader.line_num
            unit, coder, code = (
                (row["unit"] or "").strip(),
                (row["coder"] or "").strip(),
                (row["code"] or "").strip(),
            )
            if not unit or not coder:
                raise InputError("every coding needs a unit and a coder", file=str(p), line=line)
            if coder not in known_coders:
                raise InputError(
                    f"coder {coder!r} is not listed in the project's coders {sorted(known_coders)}",
                    file=str(p),
                    line=line,
                )
            if code and code not in known_codes:
                raise InputError(
                    f"code {code!r} is not in the codebook {sorted(known_codes)}",
                    file=str(p),
                    line=line,
                )
            out.append(Coding(unit, coder, code or None, line))
    return out


def assign_units(
    units: Sequence[str], coders: Sequence[str], *, overlap: float = 0.2, seed: int = 0
) -> pl.DataFrame:
    """Share units among coders: a random ``overlap`` share goes to every coder (for agreement),
    the rest round-robin to one coder each. Returns columns unit, coder."""
    if not coders:
        raise InputError("assign_units needs at least one coder")
    if not 0 <= overlap <= 1:
        raise InputError(f"overlap must be between 0 and 1, not {overlap}")
    order = list(units)
    random.Random(seed).shuffle(order)  # noqa: S311 -- assignment order, not a secret
    n_shared = math.ceil(overlap * len(order))
    rows = [(u, c) for u in order[:n_shared] for c in coders]
    rows += [(u, coders[i % len(coders)]) for i, u in enumerate(order[n_shared:])]
    return pl.DataFrame(rows, schema={"unit": pl.String, "coder": pl.String}, orient="row")


@dataclass(kw_only=True)
class AgreementResult(Result):
    """Intercoder agreement. ``table`` columns: code, label, n_units, n_applied,
    percent_agreement, cohen_kappa, kappa_ci_low, kappa_ci_high, krippendorff_alpha."""

    KIND = "agreement"

    coders: list[str]
    n_double_coded: int
    overall_alpha: float | None

    def statistics(self) -> dict[str, Any]:
        return {
            "coders": self.coders,
            "n_double_coded": self.n_double_coded,
            "overall_alpha": self.overall_alpha,
        }


def coding_agreement(project: CodingProject, *, title: str | None = None) -> AgreementResult:
    """Agreement per code (presence/absence) over units read by at least two coders."""
    applied = project.applied()
    shared = [u for u, by in applied.items() if len(by) >= 2]
    if not shared:
        raise InputError(
            "no response was coded by two or more coders, so agreement cannot be measured",
            file=project.codings_path,
            hint="assign an overlap to every coder (assign_units(..., overlap=0.2))",
        )
    coders = project.coders
    rows = []
    for code in project.codes:
        matrix: list[list[object]] = []
        for coder in coders:
            matrix.append(
                [
                    (1 if code.code in applied[u][coder] else 0) if coder in applied[u] else None
                    for u in shared
                ]
            )
        pairs = [[row[i] for row in matrix if row[i] is not None] for i in range(len(shared))]
        agree = sum(1 for p in pairs if len(p) >= 2 and len(set(p)) == 1)
        pairable = sum(1 for p in pairs if len(p) >= 2)
        kappa = lo = hi = None
        if len(coders) == 2:
            both = [
                (a, b)
                for a, b in zip(matrix[0], matrix[1], strict=True)
                if a is not None and b is not None
            ]
            if both:
                k = cohen_kappa([a for a, _ in both], [b for _, b in both], categories=[0, 1])
                kappa, lo, hi = k.kappa, k.ci_low, k.ci_high
        rows.append(
            {
                "code": code.code,
                "label": code.label,
                "n_units": pairable,
                "n_applied": sum(
                    1 for u in shared if any(code.code in s for s in applied[u].values())
                ),
                "percent_agreement": 100 * agree / pairable if pairable else None,
                "cohen_kappa": kappa,
                "kappa_ci_low": lo,
                "kappa_ci_high": hi,
                "krippendorff_alpha": krippendorff_alpha(matrix, "nominal"),
            }
        )
    overall = None
    if project.exclusive:
        matrix = []
        for coder in coders:
            row: list[object] = []
            for u in shared:
                got = applied[u].get(coder)
                row.append(None if not got else sorted(got)[0])
            matrix.append(row)
        overall = krippendorff_alpha(matrix, "nominal")
    schema = {
        "code": pl.String,
        "label": pl.String,
        "n_units": pl.Int64,
        "n_applied": pl.Int64,
        "percent_agreement": pl.Float64,
        "cohen_kappa": pl.Float64,
        "kappa_ci_low": pl.Float64,
        "kappa_ci_high": pl.Float64,
        "krippendorff_alpha": pl.Float64,
    }
    return AgreementResult(
        table=pl.DataFrame(rows, schema=schema, orient="row"),
        variables=[project.question],
        n=len(shared),
        title=title or f"Coder agreement on {project.question}",
        notes=[]
        if len(coders) == 2
        else ["Cohen's kappa is for two coders; see Krippendorff's alpha"],
        coders=list(coders),
        n_double_coded=len(shared),
        overall_alpha=overall,
    )


def coded_dataset(project: CodingProject, *, rule: str = "any") -> pl.DataFrame:
    """One row per coded unit, one ``<question>_code__<code>`` 0/1 column per code.

    ``rule``: "any" (a code counts when any coder applied it) or "majority" (more than half of
    the coders who read the unit applied it). The ``unit`` column holds the unit ids as text."""
    if rule not in ("any", "majority"):
        raise InputError(f"rule must be 'any' or 'majority', not {rule!r}")
    applied = project.applied()
    prefix = f"{project.question}_code__"
    records: dict[str, list[Any]] = {"unit": []}
    for code in project.codes:
        records[prefix + code.code] = []
    for unit, by in applied.items():
        records["unit"].append(unit)
        for code in project.codes:
            votes = sum(1 for s in by.values() if code.code in s)
            hit = votes > 0 if rule == "any" else votes * 2 > len(by)
            records[prefix + code.code].append(int(hit))
    return pl.DataFrame(
        records, schema={k: pl.String if k == "unit" else pl.Int64 for k in records}
    )
