"""manifest.yml (the platform-neutral description adapters are generated from) is valid and in step with the code:
the click CLI (both ways), the configuration schemas, the shipped playbook's inputs and the output documents."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import yaml
from case_fixtures import ASSESSMENT, SHA, T0, action, context, decision
from click.testing import CliRunner

import sigtriage
from sigtriage import cli as cli_module
from sigtriage.cli import cli
from sigtriage.errors import SigtriageError
from sigtriage.model.documents import DOCUMENTS, SCHEMA_DIR, generated_schema
from sigtriage.store.cases import CaseStore
from sigtriage.store.db import connect

from conftest import REPO

# Click commands a SOAR never calls, deliberately absent from the manifest.
EXCLUDED_COMMANDS = {
    "schema": "developer command: prints the JSON Schema of a document",
    "findings": "documentation command: prints the findings catalogue",
}

# Configuration paths under these prefixes continue in another packaged schema.
SUBSCHEMAS = {"triage.connectors": "connectors"}

JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object", list: "array"}


# --- loading ---------------------------------------------------------------------------------------------------


@cache
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))
    return loaded


@cache
def packaged_schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    return loaded


@cache
def document_schema(name: str) -> dict[str, Any]:
    return generated_schema(name)


def commands() -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in manifest()["commands"]}


def parameters() -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in manifest()["configuration"]}


def click_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Every leaf command, by dotted name (groups are walked, not listed)."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from click_commands(command, (*prefix, name))
        else:
            yield ".".join((*prefix, name)), command


def click_command(argv: list[str]) -> click.Command | None:
    command: click.Command = cli
    for word in argv:
        if not isinstance(command, click.Group) or word not in command.commands:
            return None
        command = command.commands[word]
    return None if isinstance(command, click.Group) else command


# --- JSON Schema walking -----------------------------------------------------------------------------------------


def deref(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and set(node) <= {"$ref", "description", "default"}:
        ref = node["$ref"]
        assert ref.startswith("#/$defs/"), f"unexpected $ref {ref}"
        node = root["$defs"][ref.removeprefix("#/$defs/")]
    return node


def is_union(node: dict[str, Any]) -> bool:
    """anyOf as a union of types (a nullable field), not as a constraint beside properties ('one of these keys')."""
    return "anyOf" in node and not {"type", "properties", "enum", "const"} & set(node)


def branches(root: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a node (anyOf with null), each dereferenced."""
    node = deref(root, node)
    if is_union(node):
        return [b for alt in node["anyOf"] for b in branches(root, alt) if b.get("type") != "null"]
    return [node]


def schema_types(root: dict[str, Any], node: dict[str, Any]) -> set[str]:
    """JSON types a node admits ('null' included); enum and const count by their values' types."""
    node = deref(root, node)
    if is_union(node):
        return set().union(*(schema_types(root, alt) for alt in node["anyOf"]))
    types: set[str] = set()
    if "type" in node:
        types |= {node["type"]} if isinstance(node["type"], str) else set(node["type"])
    for value in node.get("enum", []) + ([node["const"]] if "const" in node else []):
        types.add("null" if value is None else JSON_TYPES[type(value)])
    if not types and "$ref" in node:
        types = schema_types(root, {"$ref": node["$ref"]})
    return types


def enum_values(root: dict[str, Any], node: dict[str, Any]) -> list[Any] | None:
    for branch in branches(root, node):
        if "enum" in branch:
            return list(branch["enum"])
        if "$ref" in branch:
            return enum_values(root, {"$ref": branch["$ref"]})
    return None


def child(root: dict[str, Any], node: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The schema of property `key` of an object node: its own properties, those of a $ref it extends, allOf, or
    additionalProperties when that is a schema (a map)."""
    for branch in branches(root, node):
        if key in branch.get("properties", {}):
            return dict(branch["properties"][key])
        for extended in ([{"$ref": branch["$ref"]}] if "$ref" in branch else []) + branch.get("allOf", []):
            found = child(root, extended, key)
            if found is not None:
                return found
        if isinstance(branch.get("additionalProperties"), dict):
            return dict(branch["additionalProperties"])
    return None


def items(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any] | None:
    for branch in branches(root, node):
        if "items" in branch:
            return dict(branch["items"])
    return None


def walk_output(root: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The schema of an output path: '.' descends into properties, '[]' into array items."""
    node: dict[str, Any] | None = root
    for segment in path.split("."):
        name, array = (segment[:-2], True) if segment.endswith("[]") else (segment, False)
        if name:
            node = child(root, node, name) if node is not None else None
        if array and node is not None:
            node = items(root, node)
        if node is None:
            return None
    return node


def walk_config(path: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(root schema, leaf schema) of a dotted configuration path, switching to connectors.schema.json under
    triage.connectors."""
    root = packaged_schema("config")
    node: dict[str, Any] | None = root
    done: list[str] = []
    for key in path.split("."):
        done.append(key)
        sub = SUBSCHEMAS.get(".".join(done[:-1]))
        if sub is not None:
            root = node = packaged_schema(sub)
        node = child(root, node, key) if node is not None else None
        if node is None:
            return None
    assert node is not None
    return root, node


# --- the manifest itself -----------------------------------------------------------------------------------------


def test_manifest_validates_against_its_schema() -> None:
    schema = packaged_schema("manifest")
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
              for e in jsonschema.Draft202012Validator(schema).iter_errors(manifest())]
    assert not errors, "\n".join(errors)


def test_identity_matches_the_package() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert manifest()["version"] == sigtriage.__version__ == project["version"]
    assert manifest()["runtime"]["python_requires"] == project["requires-python"]
    assert manifest()["runtime"]["package"] == project["name"]
    assert manifest()["runtime"]["executable"] in project["scripts"]
    assert manifest()["license"] == project["license"]


def test_names_are_unique() -> None:
    names = [c["name"] for c in manifest()["commands"]]
    assert len(names) == len(set(names))
    params = [p["name"] for p in manifest()["configuration"]]
    assert len(params) == len(set(params))
    for command in manifest()["commands"]:
        args = [a["name"] for a in command["arguments"]]
        assert len(args) == len(set(args)), command["name"]


def test_exit_codes_cover_the_cli() -> None:
    declared = {e["code"] for e in manifest()["exit_codes"]}
    constants = {v for k, v in vars(cli_module).items() if k.startswith("EXIT_") and isinstance(v, int)}

    def subclasses(cls: type[SigtriageError]) -> Iterator[type[SigtriageError]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    from_errors = {SigtriageError.exit_code, *(c.exit_code for c in subclasses(SigtriageError))}
    assert constants | from_errors <= declared, f"undeclared exit codes: {sorted((constants | from_errors) - declared)}"


# --- completeness against the click CLI, both ways --------------------------------------------------------------


def test_every_manifest_command_is_a_cli_command() -> None:
    for command in manifest()["commands"]:
        assert command["cli"] == ["sigtriage", *command["name"].split(".")], command["name"]
        assert click_command(command["cli"][1:]) is not None, f"{command['name']}: no such click command"


def test_every_cli_command_is_in_the_manifest() -> None:
    cli_names = {name for name, _ in click_commands()}
    assert set(EXCLUDED_COMMANDS) <= cli_names, "an exclusion names a command the CLI no longer has"
    missing = cli_names - set(EXCLUDED_COMMANDS) - set(commands())
    assert not missing, f"click commands missing from manifest.yml: {sorted(missing)}"
    assert not set(EXCLUDED_COMMANDS) & set(commands())


def _manifest_type(param: click.Parameter) -> str:
    if isinstance(param, click.Option) and param.is_flag:
        return "boolean"
    kind = param.type
    if isinstance(kind, click.Path):
        return "path"
    if isinstance(kind, click.Choice):
        return "enum"
    if isinstance(kind, click.types.IntParamType):
        return "integer"
    if isinstance(kind, click.types.FloatParamType):
        return "number"
    if isinstance(kind, click.types.BoolParamType):
        return "boolean"
    return "string"


def _click_default(command: click.Command, param: click.Parameter) -> Any:
    value = param.get_default(click.Context(command))
    if isinstance(value, tuple):
        value = list(value) or None
    return value if isinstance(value, str | int | float | bool | list) else None


@pytest.mark.parametrize("name", sorted(commands()))
def test_arguments_match_the_click_command(name: str) -> None:
    spec = commands()[name]
    command = click_command(spec["cli"][1:])
    assert command is not None
    declared = spec["arguments"]
    by_flag = {a["cli"]: a for a in declared if a["cli"]}
    by_positional = {a["name"]: a for a in declared if a["cli"] is None}
    covered: set[str] = set()
    problems: list[str] = []
    for param in command.params:
        assert param.name is not None
        if isinstance(param, click.Argument):
            arg = by_positional.get(param.name)
            is_array = param.nargs == -1 or param.nargs > 1
            if arg is None:
                problems.append(f"positional argument {param.name} is not in the manifest")
                continue
        else:
            assert isinstance(param, click.Option)
            long_flags = [o for o in param.opts if o.startswith("--")]
            if "--help" in long_flags:
                continue
            arg = next((by_flag[o] for o in param.opts if o in by_flag), None)
            is_array = param.multiple or param.nargs == -1 or param.nargs > 1
            if arg is None:
                problems.append(f"option {'/'.join(param.opts)} is not in the manifest")
                continue
            if arg["name"] != arg["cli"].removeprefix("--").replace("-", "_"):
                problems.append(f"{arg['cli']}: name should be {arg['cli'].removeprefix('--').replace('-', '_')}")
        covered.add(arg["name"])
        where = arg["cli"] or arg["name"]
        if arg["type"] != _manifest_type(param):
            problems.append(f"{where}: type {arg['type']}, the CLI's is {_manifest_type(param)}")
        if arg["is_array"] != is_array:
            problems.append(f"{where}: is_array {arg['is_array']}, the CLI's is {is_array}")
        if arg["required"] != param.required:
            problems.append(f"{where}: required {arg['required']}, the CLI's is {param.required}")
        if isinstance(param.type, click.Choice) and arg.get("options") != list(param.type.choices):
            problems.append(f"{where}: options {arg.get('options')}, the CLI's are {list(param.type.choices)}")
        for bound in ("min", "max"):
            if getattr(param.type, bound, None) != arg.get(f"{bound}imum"):
                problems.append(f"{where}: {bound}imum {arg.get(f'{bound}imum')}, "
                                f"the CLI's is {getattr(param.type, bound, None)}")
        if not arg.get("dynamic_default") and arg.get("default") != _click_default(command, param):
            problems.append(f"{where}: default {arg.get('default')!r}, the CLI's is {_click_default(command, param)!r}")
    stale = {a["name"] for a in declared} - covered
    if stale:
        problems.append(f"manifest arguments the CLI does not have: {sorted(stale)}")
    positional_order = [p.name for p in command.params if isinstance(p, click.Argument)]
    if [a["name"] for a in declared if a["cli"] is None] != positional_order:
        problems.append(f"positional arguments must be in CLI order {positional_order}")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def test_adapter_supplied_arguments() -> None:
    config_flag = manifest()["config_file"]["flag"]
    for command in manifest()["commands"]:
        for arg in command["arguments"]:
            if arg["cli"] is not None and arg["cli"] in (config_flag, command["outputs"].get("json_flag")):
                assert arg.get("supplied_by") == "adapter", f"{command['name']} {arg['cli']}"


def test_side_effects() -> None:
    spec = commands()
    for name in ("triage", "outbox.flush", "outbox.approve"):
        assert spec[name]["side_effects"], name
    for name in ("analyze", "assess", "cases.list", "cases.show", "baseline.check"):
        assert not spec[name]["side_effects"], name
    assert any("prevalence" in w for w in spec["assess"]["local_writes"]), "assess records prevalence: say so"
    for command in spec.values():
        if "connectors" in command.get("network", []):
            assert command["side_effects"], command["name"]


# --- configuration ---------------------------------------------------------------------------------------------


def _expected_json_type(kind: str) -> str:
    return {"path": "string", "secret": "string", "enum": "string"}.get(kind, kind)


def test_configuration_maps_to_real_settings() -> None:
    problems: list[str] = []
    for param in manifest()["configuration"]:
        where = f"{param['name']} -> {param['maps_to']}"
        found = walk_config(param["maps_to"])
        if found is None:
            problems.append(f"{where}: no such setting in config.schema.json / connectors.schema.json")
            continue
        root, leaf = found
        value = leaf
        if param.get("is_array"):
            if "array" not in schema_types(root, leaf) or items(root, leaf) is None:
                problems.append(f"{where}: is_array, but the setting is not an array")
                continue
            value = items(root, leaf) or {}
        expected = _expected_json_type(param["type"])
        types = schema_types(root, value)
        if expected not in types and not (expected == "number" and "integer" in types):
            problems.append(f"{where}: type {param['type']}, the schema admits {sorted(types)}")
        if param["type"] == "enum" and param["options"] != enum_values(root, value):
            problems.append(f"{where}: options {param['options']}, the schema's enum is {enum_values(root, value)}")
        if "default" in deref(root, leaf) or "default" in leaf:
            schema_default = leaf.get("default", deref(root, leaf).get("default"))
            if param.get("default") != schema_default:
                problems.append(f"{where}: default {param.get('default')!r}, the schema's is {schema_default!r}")
        if param.get("depends_on") and param["depends_on"] not in parameters():
            problems.append(f"{where}: depends_on {param['depends_on']} is not a parameter")
    assert not problems, "\n".join(problems)


def test_playbook_inputs_match_the_shipped_playbook() -> None:
    shipped = yaml.safe_load((REPO / "playbooks" / "code_signing_triage.yml").read_text())["inputs"]
    for param in manifest()["configuration"]:
        if param["maps_to"].startswith("triage.inputs."):
            name = param["maps_to"].removeprefix("triage.inputs.")
            assert name in shipped, f"{param['name']}: the shipped playbook has no input {name}"
            assert param["type"] == shipped[name]["type"], param["name"]
            assert param.get("default") == shipped[name].get("default"), param["name"]


def test_argument_config_keys_are_real_settings() -> None:
    for command in manifest()["commands"]:
        for arg in command["arguments"]:
            if "config_key" in arg:
                assert walk_config(arg["config_key"]) is not None, f"{command['name']} {arg['name']}"


def _sample(param: dict[str, Any]) -> Any:
    if "default" in param:
        return param["default"]
    if "example" in param:
        return param["example"]
    if param["type"] == "secret":
        return param["env"]
    one = {"string": "x", "path": "some/file", "integer": 1, "number": 1.5, "boolean": True}.get(param["type"])
    if one is None:
        one = param["options"][0]
    return [one] if param.get("is_array") else one


def test_an_instance_with_every_parameter_set_is_a_valid_configuration() -> None:
    """What an adapter writes (every parameter at its default, example or a sample value) passes the schemas."""
    doc: dict[str, Any] = {}
    for param in manifest()["configuration"]:
        *parents, last = param["maps_to"].split(".")
        node = doc
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = _sample(param)
    jsonschema.validate(doc, packaged_schema("config"))
    jsonschema.validate(doc["triage"]["connectors"], packaged_schema("connectors"))


# --- outputs ----------------------------------------------------------------------------------------------------


def _check_paths(root: dict[str, Any], paths: list[dict[str, Any]], where: str) -> list[str]:
    problems = []
    for out in paths:
        node = walk_output(root, out["path"])
        if node is None:
            problems.append(f"{where}: {out['path']} is not in the schema")
            continue
        types = schema_types(root, node)
        if out["type"] not in types:
            problems.append(f"{where}: {out['path']} declared {out['type']}, the schema admits {sorted(types)}")
        if out.get("nullable", False) != ("null" in types):
            problems.append(f"{where}: {out['path']} nullable is {out.get('nullable', False)}, schema: {sorted(types)}")
    return problems


def test_output_documents_and_paths_exist() -> None:
    problems: list[str] = []
    for command in manifest()["commands"]:
        outputs, name = command["outputs"], command["name"]
        if "key_path" in outputs and outputs["key_path"] not in [p["path"] for p in outputs.get("paths", [])]:
            problems.append(f"{name}: key_path {outputs['key_path']} is not one of its paths")
        if "document" in outputs:
            if outputs["document"] not in DOCUMENTS:
                problems.append(f"{name}: document {outputs['document']} is not in DOCUMENTS {sorted(DOCUMENTS)}")
            else:
                problems += _check_paths(document_schema(outputs["document"]), outputs.get("paths", []), name)
        if "schema_file" in outputs:
            path = SCHEMA_DIR / outputs["schema_file"]
            if not path.is_file():
                problems.append(f"{name}: no packaged schema {outputs['schema_file']}")
            else:
                problems += _check_paths(json.loads(path.read_text()), outputs.get("paths", []), name)
        for alt in outputs.get("alternatives", []):
            if alt["document"] not in DOCUMENTS:
                problems.append(f"{name}: alternative document {alt['document']} is not in DOCUMENTS")
            else:
                problems += _check_paths(document_schema(alt["document"]), alt.get("paths", []), name)
    assert not problems, "\n".join(problems)


def test_json_flag_matches_the_cli() -> None:
    for command in manifest()["commands"]:
        click_cmd = click_command(command["cli"][1:])
        assert click_cmd is not None
        has_json = any("--json" in getattr(p, "opts", []) for p in click_cmd.params)
        outputs = command["outputs"]
        if has_json:
            assert outputs.get("json_flag") == "--json", command["name"]
            assert outputs["format"] in ("json", "json-lines"), command["name"]
        else:
            assert outputs.get("json_flag") is None, command["name"]
        if outputs["format"] in ("json", "json-lines"):
            assert has_json, f"{command['name']}: JSON output, but no --json option"


def _at(value: Any, path: str) -> Iterator[tuple[bool, Any]]:
    """Every value a path reaches in real output: (present, value)."""
    if not path:
        yield True, value
        return
    segment, _, rest = path.partition(".")
    name, array = (segment[:-2], True) if segment.endswith("[]") else (segment, False)
    if name:
        if not isinstance(value, dict) or name not in value:
            yield False, None
            return
        value = value[name]
    if array:
        assert isinstance(value, list) and value, f"{path}: not a non-empty list in the fixture output"
        for element in value:
            yield from _at(element, rest)
    else:
        yield from _at(value, rest)


def test_case_store_outputs_match_real_output(tmp_path: Path) -> None:
    """cases list/show emit store rows, not a DOCUMENTS document: their paths are checked against real output."""
    db = tmp_path / "store.db"
    conn = connect(db)
    store = CaseStore(conn)
    key = str(store.open_case(context(), sha256=SHA, baseline="golden@1", playbook="default@1", now=T0)[0]["key"])
    store.record_decision(key, decision(actions=(action("act-1"),)), ASSESSMENT, "the note", now=T0)
    store.enqueue(key, [action("act-1")], dry_run=False, now=T0)
    conn.close()
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump({"store": {"path": str(db)}}))
    runner = CliRunner()
    for name, extra in (("cases.list", []), ("cases.show", [key[:12]])):
        spec = commands()[name]
        result = runner.invoke(cli, [*spec["cli"][1:], *extra, "--config", str(config), "--json"])
        assert result.exit_code == 0, result.output
        output = json.loads(result.stdout)
        for out in spec["outputs"]["paths"]:
            for present, value in _at(output, out["path"]):
                assert present, f"{name}: {out['path']} is not in the output"
                if value is None:
                    assert out.get("nullable"), f"{name}: {out['path']} is null but not declared nullable"
                else:
                    assert JSON_TYPES[type(value)] == out["type"], f"{name}: {out['path']} is {type(value).__name__}"
