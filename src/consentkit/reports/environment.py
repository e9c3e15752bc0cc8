"""The one Jinja2 environment factory of consentkit.

* HTML (and XML) templates are autoescaped, so a name like ``<script>`` is inert; plain-text
  templates are not escaped (their output is never interpreted as markup).
* ``StrictUndefined``: a misspelt variable fails the render instead of printing nothing.
* Templates are looked up first in the user folder (``Settings.templates_dir``, env
  ``CONSENTKIT_TEMPLATES``), which overrides shipped templates by file name, then in the
  shipped ``templates/`` folder.
* With a user folder, the environment is Jinja2's ``ImmutableSandboxedEnvironment``: a
  user-supplied template cannot reach Python internals or mutate the view-models
  (Jinja2 docs, "Sandbox").
* Markdown templates (``*.md.j2``) render in an environment whose every ``{{ ... }}``
  output is Markdown-escaped (``finalize``), so a value like ``<script>`` or ``[x](y)``
  stays text when the Markdown is later turned into HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib.resources.abc import Traversable
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from consentkit.config import shipped_dir
from consentkit.errors import ConfigurationError, NotFoundError

__all__ = ["TraversableLoader", "autoescape_for", "environment", "escape_markdown", "get_template", "is_markdown",
           "render"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_MARKUP = (".html", ".htm", ".xml", ".xhtml")
# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that can
# start markup inside a line (emphasis, code, links, images, raw HTML, tables, headings).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~&])")


def autoescape_for(name: str | None) -> bool:
    """Escape by the output type in the name: ``receipt.html.j2`` yes, ``receipt.txt.j2`` no."""
    if name is None:
        return True  # templates from strings: escape, to be safe
    base = name[: -len(".j2")] if name.endswith(".j2") else name
    return base.lower().endswith(_MARKUP)


class TraversableLoader(jinja2.BaseLoader):
    """Loads flat template names from folders (paths or package resources), first folder first."""

    def __init__(self, folders: list[Traversable]) -> None:
        self.folders = folders

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        """Return the source of ``template`` from the first folder that has it."""
        if not _NAME.fullmatch(template) or ".." in template:
            raise jinja2.TemplateNotFound(template)
        for folder in self.folders:
            candidate = folder.joinpath(template)
            if candidate.is_file():
                source = candidate.read_text("utf-8")
                filename = str(candidate) if isinstance(candidate, Path) else None
                return source, filename, (lambda: True) if filename is None else _unchanged(Path(str(candidate)))
        raise jinja2.TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        """Every template name any folder holds."""
        return sorted({item.name for folder in self.folders for item in folder.iterdir()
                       if item.is_file() and item.name.endswith(".j2")})


def _unchanged(path: Path) -> Callable[[], bool]:
    stamp = path.stat().st_mtime_ns

    def uptodate() -> bool:
        try:
            return path.stat().st_mtime_ns == stamp
        except OSError:
            return False

    return uptodate


def escape_markdown(value: object) -> str:
    """Text that Markdown shows as it is: specials backslash-escaped, line breaks as spaces."""
    text = "" if value is None else str(value)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def is_markdown(name: str) -> bool:
    """Whether a template renders Markdown (by its name: ``report-subject.md.j2``)."""
    return name.removesuffix(".j2").lower().endswith(".md")


@cache
def environment(templates_dir: Path | None = None, *, markdown: bool = False) -> jinja2.Environment:
    """The environment for shipped templates, or (sandboxed) for a user folder over them."""
    folders: list[Traversable] = [shipped_dir("templates")]
    cls: type[jinja2.Environment] = jinja2.Environment
    if templates_dir is not None:
        if not templates_dir.is_dir():
            raise ConfigurationError(f"CONSENTKIT_TEMPLATES: {templates_dir} is not a folder")
        folders.insert(0, templates_dir)
        cls = ImmutableSandboxedEnvironment
    return cls(
        loader=TraversableLoader(folders),
        autoescape=autoescape_for,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        finalize=escape_markdown if markdown else None,
    )


def get_template(name: str, templates_dir: Path | None = None) -> jinja2.Template:
    """A template by file name; a missing one is a :class:`NotFoundError` naming it."""
    try:
        return environment(templates_dir, markdown=is_markdown(name)).get_template(name)
    except jinja2.TemplateSyntaxError as error:
        raise ConfigurationError(f"template {name}: syntax error on line {error.lineno}") from None
    except jinja2.TemplateNotFound:
        raise NotFoundError(f"template {name} not found (shipped templates or CONSENTKIT_TEMPLATES)") from None


def render(name: str, context: dict[str, object], templates_dir: Path | None = None) -> str:
    """Render template ``name``; a broken (user) template is a one-line error, never a traceback."""
    template = get_template(name, templates_dir)
    try:
        return template.render(context)
    except jinja2.TemplateError as error:
        # The message could quote the data being rendered: name only the template and the kind.
        raise ConfigurationError(f"template {name} failed to render ({type(error).__name__}); "
                                 "compare it with the shipped one") from None
