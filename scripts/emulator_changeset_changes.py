"""What a change set would do to each resource, as CloudFormation says it (moto lists Add/Modify/
Remove by comparing template text only, never resolves parameters, and gives no Replacement,
Scope or Details).

The rules followed:
- "Update behaviors of stack resources" (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
  using-cfn-updating-stacks-update-behaviors.html): a change to a property whose update requires
  replacement replaces the resource; the resource types' registry schemas
  (docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html) list those
  properties as `createOnlyProperties`, and as `conditionalCreateOnlyProperties` where replacement
  depends on the change ("Replacement: Conditional");
- the API's ResourceChange and ResourceChangeDetail (docs.aws.amazon.com/AWSCloudFormation/latest/
  APIReference/API_ResourceChange.html, API_ResourceChangeDetail.html): Replacement is True, False
  or Conditional; each changed property is a detail with its RequiresRecreation (Always,
  Conditionally, Never) and what caused it (DirectModification, ParameterReference);
- a resource whose template text is unchanged is still modified when a parameter it references
  changes its resolved value ("Modify: Conditional" with ChangeSource ParameterReference).
Properties are compared with parameters and intrinsic functions resolved, the new template's with
the change set's parameters. A value that cannot be known before the change runs (an attribute of
a resource the change set adds) makes a create-only property's replacement Conditional, as AWS
reports it. The schemas are AWS's own, as the pinned cfn-lint ships them.
"""
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import cfnlint
from moto.cloudformation import models as cfn
from moto.cloudformation.parsing import clean_json

SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas"
UNKNOWN = "{{resolved after the change}}"


@lru_cache(maxsize=None)
def _schema(region: str, kind: str) -> dict[str, Any]:
    index_file = SCHEMAS / "providers" / f"{region}.json"
    if not index_file.exists():
        index_file = SCHEMAS / "providers" / "us-east-1.json"
    index = json.loads(index_file.read_text())
    name = index.get(kind)
    if name is None:
        return {}
    return json.loads((SCHEMAS / "resources" / f"{name}.json").read_text())


def _top(paths: list[str] | None) -> set[str]:
    # "/properties/KeySchema" -> "KeySchema"
    return {p.split("/")[2] for p in paths or [] if p.startswith("/properties/")}


def recreation(region: str, kind: str, prop: str) -> str:
    schema = _schema(region, kind)
    if prop in _top(schema.get("createOnlyProperties")):
        return "Always"
    if prop in _top(schema.get("conditionalCreateOnlyProperties")):
        return "Conditionally"
    return "Never"


class _NewValues:
    """The stack's resource map as the change set's template sees it: the change set's
    parameters (or the new template's defaults) in place of the stack's; a resource the stack
    does not hold yet has no value before the change runs."""

    def __init__(self, stack: Any, template: dict[str, Any], parameters: dict[str, str]):
        self._map = stack.resource_map
        self._params = {
            name: parameters.get(name, spec.get("Default"))
            for name, spec in (template.get("Parameters") or {}).items()
        }
        self._resources = template.get("Resources") or {}

    def __getitem__(self, key: str) -> Any:
        if key in self._params:
            return self._params[key]
        if key in self._resources and self._map._parsed_resources.get(key) is None:
            return UNKNOWN
        return self._map[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __getattr__(self, name: str) -> Any:
        return getattr(self._map, name)


def _resolved(properties: Any, values: Any) -> Any:
    try:
        return clean_json(properties or {}, values)
    except Exception:  # noqa: BLE001 - a value moto cannot resolve is compared as written
        return properties or {}


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def resource_change(stack: Any, template: dict[str, Any], parameters: dict[str, str],
                    logical_id: str) -> dict[str, Any] | None:
    """Replacement, Scope and Details of a resource in both templates; None when it does not
    change."""
    old = stack.resource_map._resource_json_map[logical_id]
    new = template["Resources"][logical_id]
    before = _resolved(old.get("Properties"), stack.resource_map)
    after = _resolved(new.get("Properties"), _NewValues(stack, template, parameters))
    referenced = _referenced_parameters(new.get("Properties"))
    changed_params = {p for p in referenced
                      if str(stack.resource_map.input_parameters.get(p)) != str(parameters.get(p))}
    details = []
    for prop in sorted(set(before) | set(after)):
        if _text(before.get(prop)) == _text(after.get(prop)):
            continue
        requires = recreation(stack.region_name, new["Type"], prop)
        if requires == "Always" and UNKNOWN in _text(after.get(prop)):
            requires = "Conditionally"
        source = ("ParameterReference"
                  if _text(old.get("Properties", {}).get(prop))
                  == _text(new.get("Properties", {}).get(prop)) and changed_params
                  else "DirectModification")
        details.append({
            "Target": {"Attribute": "Properties", "Name": prop, "RequiresRecreation": requires},
            "Evaluation": "Static", "ChangeSource": source,
        })
    other = [k for k in set(old) | set(new) if k not in ("Properties", "Type")
             and _text(old.get(k)) != _text(new.get(k))]
    if not details and not other:
        return None
    needs = {d["Target"]["RequiresRecreation"] for d in details}
    replacement = ("True" if "Always" in needs
                   else "Conditional" if "Conditionally" in needs else "False")
    return {"replacement": replacement, "scope": ["Properties"] if details else [],
            "details": details}


def _referenced_parameters(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = set()
        if isinstance(value.get("Ref"), str):
            found.add(value["Ref"])
        for item in value.values():
            found |= _referenced_parameters(item)
        return found
    if isinstance(value, list):
        return set().union(*(_referenced_parameters(v) for v in value)) if value else set()
    return set()


def _diff(self: cfn.ChangeSet) -> list[cfn.Change]:
    if self.change_set_type != "UPDATE":
        return _moto_diff(self)
    changes = [c for c in _moto_diff(self) if c.action != "Modify"]
    old = self.stack.resource_map._resource_json_map
    for logical_id, definition in (self.template_dict.get("Resources") or {}).items():
        if logical_id not in old:
            continue
        found = resource_change(self.stack, self.template_dict, self.parameters or {}, logical_id)
        if found is None:
            continue
        change = cfn.Change("Modify", logical_id, definition["Type"])
        change.replacement = found["replacement"]
        change.scope = found["scope"]
        change.details = found["details"]
        resource = self.stack.resource_map._parsed_resources.get(logical_id)
        change.physical_resource_id = getattr(resource, "physical_resource_id", None)
        changes.append(change)
    return changes


def _create_change_set(self: cfn.CloudFormationBackend, *args: Any, **kwargs: Any) -> Any:
    # A change set that changes nothing is FAILED with this reason on AWS (moto decides by the
    # parameters' text, which differs when a default is passed explicitly or left out).
    change_set_id, stack_id = _moto_create(self, *args, **kwargs)
    made = self.change_sets[change_set_id]
    if made.change_set_type == "UPDATE" and not made.changes:
        made.status = "FAILED"
        made.execution_status = "UNAVAILABLE"
        made.status_reason = ("The submitted information didn't contain changes. Submit "
                              "different information to create a change set.")
    return change_set_id, stack_id


_moto_diff = cfn.ChangeSet.diff
_moto_create = cfn.CloudFormationBackend.create_change_set


def install() -> None:
    cfn.ChangeSet.diff = _diff
    cfn.CloudFormationBackend.create_change_set = _create_change_set
