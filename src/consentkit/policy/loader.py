"""Finding, validating and merging policy packs.

Packs are read from one or more folders (the shipped ones first, then a user folder that
may add packs or replace shipped ones by id). A pack may ``extends:`` another: sections
merge key by key, vocabularies are unions, overrides merge by id, listed rules merge by
their ``id``. The merged pack is validated again (every id it uses must be in its
vocabulary) and hashed; the hash goes into every decision.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any

from consentkit.errors import NotFoundError, ValidationError
from consentkit.policy.model import Pack
from consentkit.policy.source import PackSource, field_path, parse_source

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError as JsonSchemaError

__all__ = ["PackLibrary", "load_schema", "validate_source"]

_MAX_DEPTH = 8
_ID_LISTS = ("never_by_consent", "obligations", "retention")


def load_schema(folder: Traversable) -> Draft202012Validator:
    """The pack JSON Schema shipped beside the packs.

    It is not checked against the meta-schema here (0.2 s, on every command that loads a
    pack): tests/policy/test_loader.py checks the shipped file once.
    """
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - deferred: ~70 ms of start-up for commands without packs

    return Draft202012Validator(json.loads(folder.joinpath("schema.json").read_text("utf-8")))


def validate_source(source: PackSource, validator: Draft202012Validator) -> None:
    """Schema-validate one file; every problem is reported with its line and field."""
    errors = sorted(validator.iter_errors(source.data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        problems = tuple(f"{source.where(_error_path(e))}: {_message(e.message)}" for e in errors[:20])
        raise ValidationError(f"{source.name} does not match the pack schema", problems)


def _error_path(error: JsonSchemaError) -> tuple[str | int, ...]:
    """The path of the offending value; for an unknown key, the key itself (its line, not its parent's)."""
    path = tuple(error.absolute_path)
    schema = error.schema
    if (error.validator == "additionalProperties" and isinstance(error.instance, Mapping)
            and isinstance(schema, Mapping)):
        known = set(schema.get("properties", {}))
        patterns = schema.get("patternProperties", {})
        extra = [key for key in error.instance
                 if key not in known and not any(re.search(pattern, str(key)) for pattern in patterns)]
        if extra:
            return (*path, str(extra[0]))
    return path


def _message(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."


class PackLibrary:
    """All packs visible to this installation, loaded on demand and cached."""

    def __init__(self, folders: Sequence[Traversable]) -> None:
        if not folders:
            raise ValidationError("no policy folder to read packs from")
        self._folders = list(folders)
        self._validator = load_schema(folders[0])
        self._cache: dict[str, Pack] = {}

    def ids(self) -> list[str]:
        """Every pack id, sorted."""
        found = {f.name.removesuffix(".yaml") for folder in self._folders for f in folder.iterdir()
                 if f.name.endswith(".yaml")}
        return sorted(found)

    def get(self, pack_id: str) -> Pack:
        """The merged pack ``pack_id``; unknown ids raise :class:`NotFoundError`."""
        pack = self._cache.get(pack_id)
        if pack is None:
            pack = self._build(pack_id)
            self._cache[pack_id] = pack
        return pack

    def load_file(self, name: str, text: str) -> Pack:
        """Validate a pack given as text (``policy validate FILE``), resolving ``extends`` here."""
        source = parse_source(name, text)
        validate_source(source, self._validator)
        return self._merge_and_check([source, *self._parents(source, 1)])

    def source(self, pack_id: str) -> PackSource:
        """The file of one pack (the last folder that has it wins)."""
        for folder in reversed(self._folders):
            candidate = folder.joinpath(f"{pack_id}.yaml")
            if candidate.is_file():
                name = f"policies/{pack_id}.yaml" if folder is self._folders[0] else str(candidate)
                try:
                    text = candidate.read_text("utf-8")
                except UnicodeDecodeError:
                    raise ValidationError(f"{name}: not UTF-8 text; save the pack as UTF-8") from None
                source = parse_source(name, text)
                validate_source(source, self._validator)
                if source.data["id"] != pack_id:
                    raise ValidationError(f"{source.where(('id',))}: the id must be {pack_id!r} (the file name)")
                return source
        known = ", ".join(self.ids())
        raise NotFoundError(f"no policy pack {pack_id!r}: known packs are {known}")

    def _build(self, pack_id: str) -> Pack:
        source = self.source(pack_id)
        return self._merge_and_check([source, *self._parents(source, 1)])

    def _parents(self, source: PackSource, depth: int) -> list[PackSource]:
        parent_id = source.data.get("extends")
        if parent_id is None:
            return []
        if depth > _MAX_DEPTH:
            raise ValidationError(f"{source.where(('extends',))}: extends is circular or too deep")
        try:
            parent = self.source(parent_id)
        except NotFoundError as missing:  # name the file, line and field that point to it
            raise ValidationError(f"{source.where(('extends',))}: {missing}") from None
        return [parent, *self._parents(parent, depth + 1)]

    def _merge_and_check(self, chain: list[PackSource]) -> Pack:
        ids = [s.data["id"] for s in chain]
        if len(set(ids)) != len(ids):
            raise ValidationError(f"{chain[0].where(('extends',))}: extends is circular ({' -> '.join(ids)})")
        merged: dict[str, Any] = {}
        for source in reversed(chain):
            merged = merge(merged, source.data)
        merged.pop("extends", None)
        _check_vocabulary(merged, chain)
        digest = hashlib.sha256(json.dumps(merged, sort_keys=True, ensure_ascii=False,
                                           separators=(",", ":")).encode()).hexdigest()
        return Pack.of(merged, tuple(ids), f"sha256:{digest}")


def merge(base: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a child pack over its parent (see the module docstring)."""
    result = copy.deepcopy(dict(base))
    for key, value in child.items():
        if key == "vocabulary":
            vocab = result.setdefault("vocabulary", {})
            for kind, items in value.items():
                vocab[kind] = list(dict.fromkeys([*vocab.get(kind, []), *items]))
        elif key in _ID_LISTS:
            by_id = {item["id"]: item for item in result.get(key, [])}
            by_id.update({item["id"]: copy.deepcopy(item) for item in value})
            result[key] = list(by_id.values())
        elif key in ("consent", "deadlines", "overrides") and isinstance(value, Mapping):
            section = result.setdefault(key, {})
            for name, item in value.items():
                if key == "consent" and name == "rules":
                    by_id = {r["id"]: r for r in section.get("rules", [])}
                    by_id.update({r["id"]: copy.deepcopy(r) for r in item})
                    section["rules"] = list(by_id.values())
                else:
                    section[name] = copy.deepcopy(item)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _check_vocabulary(merged: Mapping[str, Any], chain: Sequence[PackSource]) -> None:
    vocab = merged.get("vocabulary", {})
    problems = [
        f"{_where(chain, merged, path)}: {value!r} is not in the pack's vocabulary.{kind}"
        for path, kind, value in _references(merged)
        if value not in vocab.get(kind, ())
    ]
    if problems:
        raise ValidationError(f"{chain[0].name}: unknown vocabulary ids", tuple(problems[:20]))


def _where(chain: Sequence[PackSource], merged: Mapping[str, Any], path: tuple[str | int, ...]) -> str:
    for source in chain:
        local = _local_path(source.data, merged, path)
        if local is not None and local in source.lines:
            return source.where(local)
    return f"{chain[0].name}, {field_path(path)}"


def _local_path(data: Mapping[str, Any], merged: Mapping[str, Any],
                path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """Where the merged item at ``path`` sits in one file's own data.

    Listed rules merge by ``id``, so the merged index of an item is not its index in the file
    that defines it; find the item by id there (``None`` if that file does not define it).
    """
    if path[0] in _ID_LISTS:
        cut = 2
    elif path[:2] == ("consent", "rules"):
        cut = 3
    else:
        return path
    merged_list: Any = merged
    local_list: Any = data
    for key in path[:cut - 1]:
        merged_list = merged_list.get(key, {}) if isinstance(merged_list, Mapping) else {}
        local_list = local_list.get(key, {}) if isinstance(local_list, Mapping) else {}
    item_id = merged_list[path[cut - 1]]["id"]
    for index, item in enumerate(local_list if isinstance(local_list, list) else ()):
        if isinstance(item, Mapping) and item.get("id") == item_id:
            return (*path[:cut - 1], index, *path[cut:])
    return None


def _references(merged: Mapping[str, Any]) -> Iterable[tuple[tuple[str | int, ...], str, str]]:
    kinds = {"recipients": "recipients", "purposes": "purposes", "categories": "categories",
             "minimum_categories": "categories"}
    for override_id, override in merged.get("overrides", {}).items():
        yield from _list_refs(("overrides", override_id), override, kinds)
    for section in _ID_LISTS:
        for index, item in enumerate(merged.get(section, [])):
            yield from _list_refs((section, index), item, kinds)
    for index, rule in enumerate(merged.get("consent", {}).get("rules", [])):
        yield from _list_refs(("consent", "rules", index, "when"), rule["when"], kinds)
    irrevocable = merged.get("consent", {}).get("irrevocable")
    if isinstance(irrevocable, Mapping):
        yield from _list_refs(("consent", "irrevocable"), irrevocable, kinds)


def _list_refs(prefix: tuple[str | int, ...], item: Mapping[str, Any],
               kinds: Mapping[str, str]) -> Iterable[tuple[tuple[str | int, ...], str, str]]:
    for key, kind in kinds.items():
        for position, value in enumerate(item.get(key, ()) or ()):
            yield (*prefix, key, position), kind, value
