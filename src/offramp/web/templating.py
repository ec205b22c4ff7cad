"""One Jinja2 environment for all pages, autoescaping everything respondents or operators wrote."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [
    _ROOT / "web" / "templates",
    _ROOT / "intercept" / "templates",
    _ROOT / "survey" / "templates",
    _ROOT / "report" / "templates",
]
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "yi"})


def make_environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in TEMPLATE_DIRS]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship inside the package and never change while a server runs; checking their
        # modification times on every render cost a stat() per template per page.
        auto_reload=False,
    )
    env.globals["text_direction"] = lambda lang: (
        "rtl" if lang.split("-")[0] in RTL_LANGUAGES else "ltr"
    )
    return env


environment = make_environment()


def render(template: str, **context: object) -> str:
    return environment.get_template(template).render(**context)
