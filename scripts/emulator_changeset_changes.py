"""What a change set would do to each resource, as CloudFormation says it, and the update that
executing it makes (moto lists Add/Modify/Remove by comparing template text only, evaluates
`Fn::If` with the stack's old conditions, never adds or removes a resource whose Condition flips,
and gives no Replacement, Scope or Details).

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
  changes its resolved value ("Modify: Conditional" with ChangeSource ParameterReference);
- "Conditions syntax" (docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
  conditions-section-structure.html): conditions are evaluated from the parameters given with
  the create or update; "When you update a stack, CloudFormation creates resources whose
  conditions evaluate to true and deletes resources whose conditions evaluate to false" (so a
  Condition that flips is an Add or a Remove), and `Fn::If` ("Condition functions",
  intrinsic-function-reference-conditions.html) takes its branch from the new evaluation.
Properties are compared with parameters, conditions and intrinsic functions resolved, the new
template's with the change set's parameters (or the new template's defaults). A value that cannot
be known before the change runs (an attribute of a resource the change set adds) makes a
create-only property's replacement Conditional, as AWS reports it. The schemas are AWS's own, as
the pinned cfn-lint ships them.
"""
import functools
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import cfnlint
from moto.cloudformation import models as cfn
from moto.cloudformation import parsing
from moto.cloudformation.parsing import LazyDict, parse_and_update_resource, parse_condition

SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas"
UNKNOWN = "{{resolved after the change}}"
# moto's own bound on passes over resources that depend on each other.
ATTEMPTS = parsing.MAX_UPDATE_ATTEMPTS
# `${Name}` or `${Resource.Attribute}` in Fn::Sub; `${!Literal}` is text.
SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


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
    """The stack's resource map as the new template sees it: the change set's parameters (or the
    new template's defaults) in place of the stack's, the new template's mappings, and its
    conditions evaluated from those parameters; a resource the stack does not hold yet has no
    value before the change runs."""

    def __init__(self, resource_map: Any, template: dict[str, Any], parameters: dict[str, Any]):
        self._map = resource_map
        specs = template.get("Parameters") or {}
        self.parameters = {name: _typed(spec, parameters.get(name, spec.get("Default")))
                           for name, spec in specs.items()}
        self._mappings = template.get("Mappings") or {}
        self._resources = template.get("Resources") or {}
        self.cross_stack_resources = getattr(resource_map, "cross_stack_resources", None)
        self.lazy_condition_map = LazyDict()
        for name, condition in (template.get("Conditions") or {}).items():
            self.lazy_condition_map[name] = functools.partial(
                parse_condition, condition, self, self.lazy_condition_map)

    def creates(self, logical_id: str) -> bool:
        condition = self._resources[logical_id].get("Condition")
        return not condition or bool(self.lazy_condition_map[condition])

    def __getitem__(self, key: str) -> Any:
        if key in self.parameters:
            return self.parameters[key]
        if key in self._mappings:
            return self._mappings[key]
        if key in self._resources:
            held = self._map._parsed_resources.get(key)
            if held is None or not self.creates(key):
                # Not there before the change, or removed by it.
                return UNKNOWN if self.creates(key) else None
            return held
        if key in self._map._resource_json_map:
            return None  # gone from the new template
        return self._map[key]  # pseudo parameters

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


def _typed(spec: dict[str, Any], value: Any) -> Any:
    # As moto's load_parameters reads a value of each parameter type.
    kind = spec.get("Type", "String")
    if isinstance(value, str) and (kind == "CommaDelimitedList" or kind.startswith("List")):
        return value.split(",")
    return value


def _resolved(properties: Any, values: Any) -> Any:
    try:
        return parsing.clean_json(properties or {}, values)
    except Exception:  # noqa: BLE001 - a value moto cannot resolve is compared as written
        return properties or {}


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _held(resource_map: Any) -> set[str]:
    """The resources the stack holds now (a resource whose condition was false is not made)."""
    return {logical_id for logical_id in resource_map._resource_json_map
            if resource_map._parsed_resources.get(logical_id) is not None}


def resource_change(resource_map: Any, new_values: _NewValues, template: dict[str, Any],
                    logical_id: str) -> dict[str, Any] | None:
    """Replacement, Scope and Details of a resource held before and after; None when it does
    not change."""
    old = resource_map._resource_json_map[logical_id]
    new = template["Resources"][logical_id]
    before = _resolved(old.get("Properties"), resource_map)
    after = _resolved(new.get("Properties"), new_values)
    old_values = getattr(resource_map, "resolved_parameters", {}) or {}
    changed_params = {p for p in _referenced_parameters(new.get("Properties"), template)
                      if p in new_values.parameters
                      and _text(old_values.get(p)) != _text(new_values.parameters[p])}
    details = []
    for prop in sorted(set(before) | set(after)):
        if _text(before.get(prop)) == _text(after.get(prop)):
            continue
        requires = recreation(resource_map._region_name, new["Type"], prop)
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
    # The Condition attribute itself is no change while the resource stays.
    other = [k for k in set(old) | set(new) if k not in ("Properties", "Type", "Condition")
             and _text(old.get(k)) != _text(new.get(k))]
    if not details and not other:
        return None
    needs = {d["Target"]["RequiresRecreation"] for d in details}
    replacement = ("True" if "Always" in needs
                   else "Conditional" if "Conditionally" in needs else "False")
    return {"replacement": replacement, "scope": ["Properties"] if details else [],
            "details": details}


def _referenced_parameters(value: Any, template: dict[str, Any]) -> set[str]:
    """Names a value reads: `Ref`, `${Name}` in `Fn::Sub`, and through `Fn::If` the parameters
    of its condition."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            found.add(value["Ref"])
        sub = value.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str):
            found |= {name.split(".")[0] for name in SUB_NAME.findall(text)}
        branch = value.get("Fn::If")
        if isinstance(branch, list) and branch and isinstance(branch[0], str):
            found |= _condition_parameters(branch[0], template, set())
        for item in value.values():
            found |= _referenced_parameters(item, template)
    elif isinstance(value, list):
        for item in value:
            found |= _referenced_parameters(item, template)
    return found


def _condition_parameters(name: str, template: dict[str, Any], seen: set[str]) -> set[str]:
    if name in seen:
        return set()
    seen.add(name)
    condition = (template.get("Conditions") or {}).get(name)

    def walk(value: Any) -> set[str]:
        if isinstance(value, dict):
            if isinstance(value.get("Condition"), str):
                return _condition_parameters(value["Condition"], template, seen)
            if isinstance(value.get("Ref"), str):
                return {value["Ref"]}
            return set().union(*(walk(v) for v in value.values())) if value else set()
        if isinstance(value, list):
            return set().union(*(walk(v) for v in value)) if value else set()
        return set()

    return walk(condition)


def actions(resource_map: Any, template: dict[str, Any],
            parameters: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Add, Modify and Remove as CloudFormation decides them for an update: by the resources
    each template creates under its own parameters and conditions, and by resolved properties.
    Modify maps each logical id to its resource_change."""
    new_values = _NewValues(resource_map, template, parameters)
    resources = template.get("Resources") or {}
    before = _held(resource_map)
    after = {logical_id for logical_id in resources if new_values.creates(logical_id)}
    modify = {}
    for logical_id in sorted(before & after):
        if resource_map._resource_json_map[logical_id].get("Type") != resources[logical_id].get(
                "Type"):
            modify[logical_id] = {"replacement": "True", "scope": [], "details": []}
            continue
        found = resource_change(resource_map, new_values, template, logical_id)
        if found is not None:
            modify[logical_id] = found
    return {"Add": {k: None for k in sorted(after - before)}, "Modify": modify,
            "Remove": {k: None for k in sorted(before - after)}}


def _diff(self: cfn.ChangeSet) -> list[cfn.Change]:
    if self.change_set_type != "UPDATE":
        return _moto_diff(self)
    resource_map = self.stack.resource_map
    planned = actions(resource_map, self.template_dict, self.parameters or {})
    changes = []
    for logical_id in planned["Add"]:
        changes.append(cfn.Change("Add", logical_id,
                                  self.template_dict["Resources"][logical_id]["Type"]))
    for logical_id, found in planned["Modify"].items():
        change = cfn.Change("Modify", logical_id,
                            self.template_dict["Resources"][logical_id]["Type"])
        change.replacement = found["replacement"]
        change.scope = found["scope"]
        change.details = found["details"]
        resource = resource_map._parsed_resources.get(logical_id)
        change.physical_resource_id = getattr(resource, "physical_resource_id", None)
        changes.append(change)
    for logical_id in planned["Remove"]:
        change = cfn.Change("Remove", logical_id,
                            resource_map._resource_json_map[logical_id]["Type"])
        resource = resource_map._parsed_resources.get(logical_id)
        change.physical_resource_id = getattr(resource, "physical_resource_id", None)
        changes.append(change)
    return changes


def _update(self: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
    """ResourceMap.update (UpdateStack, ExecuteChangeSet, a StackSet's instance stacks): the
    resources the plan above names are removed, added and updated, each by its own handler."""
    parameters = parameters if parameters else dict(self.input_parameters or {})
    planned = actions(self, template, parameters)
    failure: Exception | None = None
    remove = list(planned["Remove"])
    for _ in range(ATTEMPTS):
        for logical_id in list(remove):
            try:
                self._delete_resource(self._parsed_resources[logical_id],
                                      self._resource_json_map[logical_id])
            except Exception as e:  # noqa: BLE001 - a dependency: tried again on the next pass
                failure = e
            else:
                self._parsed_resources.pop(logical_id, None)
                remove.remove(logical_id)
        if not remove:
            break
    if remove and failure is not None:
        raise failure
    for logical_id in self._resource_json_map:
        if logical_id not in (template.get("Resources") or {}):
            self._parsed_resources.pop(logical_id, None)
    self._template = template
    self.input_parameters = parameters
    self.load_mapping()
    self.load_parameters()
    self.load_conditions()
    self._resource_json_map = template["Resources"]
    for logical_id in planned["Add"]:
        _ = self[logical_id]  # the map creates a resource on first use
    modify = list(planned["Modify"])
    for _ in range(ATTEMPTS):
        for logical_id in list(modify):
            try:
                changed = parse_and_update_resource(
                    logical_id, self._resource_json_map[logical_id], self,
                    account_id=self._account_id, region_name=self._region_name)
            except Exception as e:  # noqa: BLE001 - a dependency: tried again on the next pass
                failure = e
            else:
                # A type without an update handler keeps its resource (moto would drop it).
                if changed is not None:
                    self._parsed_resources[logical_id] = changed
                modify.remove(logical_id)
        if not modify:
            break
    if modify and failure is not None:
        raise failure


def _outputs(values: Any, template: dict[str, Any]) -> dict[str, str]:
    """Each output's value, resolved from `values` (an output whose condition is false has
    none); a value that cannot be resolved is compared as written."""
    found = {}
    for key, spec in (template.get("Outputs") or {}).items():
        try:
            output = parsing.parse_output(key, spec, values)
        except Exception:  # noqa: BLE001 - compared as written
            found[key] = _text(spec.get("Value"))
            continue
        if output is not None:
            found[key] = _text(output.value)
    return found


def outputs_change(stack: Any, template: dict[str, Any], parameters: dict[str, Any]) -> bool:
    """Whether an update adds, removes or changes an output's value. AWS makes such a change
    set, executable, with no resource change listed ("If only stack Outputs are changed,
    CloudFormation generates a ChangeSet that is executable but has 0 changes": aws-cdk pull
    request 2029, github.com/aws/aws-cdk/pull/2029; cloudformation-coverage-roadmap issue 2027),
    and executing it updates the outputs."""
    resource_map = stack.resource_map
    before = _outputs(resource_map, stack.template_dict)
    after = _outputs(_NewValues(resource_map, template, parameters), template)
    return before != after


def _create_change_set(self: cfn.CloudFormationBackend, *args: Any, **kwargs: Any) -> Any:
    # A change set that changes nothing (no resource, no output) is FAILED with this reason on
    # AWS (moto decides by the parameters' text, which differs when a default is passed
    # explicitly or left out).
    change_set_id, stack_id = _moto_create(self, *args, **kwargs)
    made = self.change_sets[change_set_id]
    if made.change_set_type == "UPDATE" and not made.changes and not outputs_change(
            made.stack, made.template_dict, made.parameters or {}):
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
    parsing.ResourceMap.update = _update
