"""The approved reply templates: the catalog, strict sandboxed rendering, and which are offered when.

Every text is Jinja2 made only of plain placeholders from PLACEHOLDERS: a tag, a filter, an
attribute or any other name is rejected when the catalog loads, and rendering with a value
outside PLACEHOLDERS (or without one the text needs) fails.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from cases.errors import InvalidRequest, NotFound

FOLDER = Path(__file__).with_name("templates")
PLACEHOLDERS = ("customer_name", "tracking_number", "deposit_amount", "deposit_asset", "deposit_date",
                "next_update_date", "support_contact", "survey_link")
LOCALES = ("en", "it", "fr", "es", "de", "pt")
CHANNELS = ("email", "chat")
CUSTOMER_STATES = ("under_review", "awaiting_your_information", "released", "closed")
CHAT_LIMIT = 400
TEXT_KEYS = {"subject", "email", "chat", "reviewed"}
INFO_KEYS = {"id", "title", "purpose", "customer_states", "sanctions", "resolves", "status_update"}


@dataclass(frozen=True)
class TemplateInfo:
    """What a template is for and when it may be sent."""

    id: str
    title: str
    purpose: str
    customer_states: tuple[str, ...]
    sanctions: bool = False
    """Only for a case blocked under sanctions; the only template that may mention sanctions."""
    resolves: bool = False
    """Sending it answers the customer's open inquiries on the case."""
    status_update: bool = False
    """Sending it is the status update the NY-STATUS deadline waits for."""


@dataclass(frozen=True)
class Rendered:
    """A template rendered for one customer, language and channel."""

    template_id: str
    locale: str
    channel: str
    subject: str | None
    body: str


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters, env.tests, env.globals = {}, {}, {}
    return env


def _plain_placeholders(env: ImmutableSandboxedEnvironment, source: str, where: str) -> set[str]:
    """The placeholders of a text made only of text and {{ name }}; InvalidRequest for anything else."""
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as error:
        raise InvalidRequest(f"{where}: not a valid template: {error.message}") from None
    names = set()
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            raise InvalidRequest(f"{where}: only text and {{{{ placeholders }}}} are allowed, not tags")
        for part in node.nodes:
            if isinstance(part, nodes.TemplateData):
                continue
            if not isinstance(part, nodes.Name) or part.name not in PLACEHOLDERS:
                shown = part.name if isinstance(part, nodes.Name) else type(part).__name__.lower()
                raise InvalidRequest(f"{where}: {shown!r} is not an allowed placeholder "
                                     f"(allowed: {', '.join(PLACEHOLDERS)})")
            names.add(part.name)
    return names


class Catalog:
    """The templates of a folder (catalog.toml + <locale>/<id>.toml), checked as a whole when loaded."""

    def __init__(self, folder: Path = FOLDER) -> None:
        self.env = _environment()
        with (folder / "catalog.toml").open("rb") as handle:
            raw = tomllib.load(handle)
        problems: list[str] = []
        self.infos: dict[str, TemplateInfo] = {}
        for entry in raw.get("template", []):
            unknown = set(entry) - INFO_KEYS
            states = [s for s in entry.get("customer_states", []) if s not in CUSTOMER_STATES]
            if unknown or states or "id" not in entry:
                problems.append(f"catalog.toml: template {entry.get('id')!r}: unknown keys or states "
                                f"{sorted(unknown) + states}")
                continue
            self.infos[entry["id"]] = TemplateInfo(entry["id"], entry["title"], entry["purpose"],
                                                   tuple(entry["customer_states"]), entry.get("sanctions", False),
                                                   entry.get("resolves", False), entry.get("status_update", False))
        self.sources: dict[tuple[str, str, str], str] = {}
        self.needs: dict[tuple[str, str, str], set[str]] = {}
        self.reviewed: dict[tuple[str, str], str] = {}
        for template_id in self.infos:
            for locale in LOCALES:
                problems += self._load_text(folder, template_id, locale)
        if problems:
            raise InvalidRequest("the reply templates were rejected: " + "; ".join(problems))

    def _load_text(self, folder: Path, template_id: str, locale: str) -> list[str]:
        path = folder / locale / f"{template_id}.toml"
        where = f"{locale}/{template_id}.toml"
        if not path.exists():
            return [f"{where}: missing (every template exists in every language)"]
        try:
            with path.open("rb") as handle:
                texts = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            return [f"{where}: {error}"]
        if set(texts) != TEXT_KEYS:
            return [f"{where}: needs exactly the keys {', '.join(sorted(TEXT_KEYS))}"]
        problems = []
        for part in ("subject", "email", "chat"):
            try:
                self.needs[(template_id, locale, part)] = _plain_placeholders(self.env, texts[part], f"{where} {part}")
            except InvalidRequest as error:
                problems.append(str(error))
                continue
            self.sources[(template_id, locale, part)] = texts[part].strip()
        self.reviewed[(template_id, locale)] = texts["reviewed"]
        if len(texts["chat"]) > CHAT_LIMIT:
            problems.append(f"{where}: the chat text is longer than {CHAT_LIMIT} characters")
        return problems

    def info(self, template_id: str) -> TemplateInfo:
        """The catalog entry of a template (NotFound for an unknown id)."""
        if template_id not in self.infos:
            raise NotFound(f"no reply template {template_id!r} (templates: {', '.join(self.infos)})")
        return self.infos[template_id]

    def placeholders(self, template_id: str, locale: str, channel: str) -> set[str]:
        """The placeholders a template needs in a language and channel."""
        parts = ("subject", "email") if channel == "email" else ("chat",)
        return set().union(*(self.needs[(template_id, locale, part)] for part in parts))

    def render(self, template_id: str, locale: str, channel: str, *, values: dict[str, str]) -> Rendered:
        """The template filled with `values` (only placeholders; every one the text needs)."""
        self.info(template_id)
        if locale not in LOCALES:
            raise InvalidRequest(f"no language {locale!r} (languages: {', '.join(LOCALES)})")
        if channel not in CHANNELS:
            raise InvalidRequest(f"no channel {channel!r} (channels: {', '.join(CHANNELS)})")
        extra = sorted(set(values) - set(PLACEHOLDERS))
        if extra:
            raise InvalidRequest(f"templates may use only {', '.join(PLACEHOLDERS)}; not {', '.join(extra)}")

        def fill(part: str) -> str:
            try:
                return self.env.from_string(self.sources[(template_id, locale, part)]).render(**values)
            except UndefinedError as error:
                raise InvalidRequest(f"{template_id} ({locale}, {channel}) needs a value: {error.message}") from None

        if channel == "email":
            return Rendered(template_id, locale, channel, fill("subject"), fill("email"))
        return Rendered(template_id, locale, channel, None, fill("chat"))

    def offered(self, customer_status: str, sanctions_block: bool, available: set[str]) -> list[TemplateInfo]:
        """The templates support may send now: right for the status the customer knows, with every value at hand."""
        out = []
        for info in self.infos.values():
            if customer_status not in info.customer_states or (info.sanctions and not sanctions_block):
                continue
            needed = set().union(*(self.placeholders(info.id, locale, channel)
                                   for locale in LOCALES for channel in CHANNELS))
            if needed <= available:
                out.append(info)
        return out


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The shipped templates, loaded and checked once."""
    return Catalog()
