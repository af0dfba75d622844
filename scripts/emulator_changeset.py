"""CloudFormation change sets executed as AWS executes them (moto's ExecuteChangeSet applies the
resources but leaves the stack's parsed template, outputs and exports as they were before, so a
stack made through a change set has no outputs, and the clock sees no resources in it).

"Update CloudFormation stacks using change sets" (docs.aws.amazon.com/AWSCloudFormation/latest/
UserGuide/using-cfn-updating-stacks-changesets.html) and the API Reference's ExecuteChangeSet,
CreateChangeSet and ChangeSetSummary (docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/
API_ExecuteChangeSet.html):
- executing a change set gives the stack the change set's template and parameters; its outputs
  and exports are those of that template, read back through DescribeStacks, GetTemplate and
  ListExports; export names stay unique in the region;
- only a change set whose ExecutionStatus is AVAILABLE can be executed, else
  InvalidChangeSetStatus (a change set with no changes is FAILED, "The submitted information
  didn't contain changes", and UNAVAILABLE); an unknown one is ChangeSetNotFound;
- once a change set is executed, the stack's other change sets are OBSOLETE;
- CreateChangeSet with no changes succeeds and leaves that FAILED change set (moto refuses the
  request itself with "No updates are to be performed", which is UpdateStack's answer).

A StackSet's update reaches its instances' stacks (moto stores the new template and parameters on
the set and leaves every instance stack as it was): "UpdateStackSet" (docs.aws.amazon.com/
AWSCloudFormation/latest/APIReference/API_UpdateStackSet.html) updates "the stack set and
associated stack instances in the specified accounts and Regions", and, without Accounts and
Regions, every instance of the set; each instance stack is updated as an UpdateStack of the new
template with the set's parameters and the instance's overrides, so its resources change by the
resolved template (emulator_changeset_changes).
"""
from typing import Any

from moto.cloudformation import models as cfn
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.responses import CloudFormationResponse


# The codes are the API model's shape names; moto's serializer sends their wire codes
# (ChangeSetNotFound, 404; InvalidChangeSetStatus, 400).
class ChangeSetNotFound(CloudFormationError):
    code = "ChangeSetNotFoundException"

    def __init__(self, name: str):
        super().__init__(f"ChangeSet [{name}] does not exist")


class InvalidChangeSetStatus(CloudFormationError):
    code = "InvalidChangeSetStatusException"


def _find(backend: Any, change_set_name: str, stack_name: str | None) -> Any:
    if change_set_name in backend.change_sets:  # an ARN
        return backend.change_sets[change_set_name]
    for change_set in backend.change_sets.values():
        if change_set.change_set_name == change_set_name and stack_name in (
                None, change_set.stack_name, change_set.stack_id):
            return change_set
    raise ChangeSetNotFound(change_set_name)


def _register_exports(backend: Any, stack: Any) -> None:
    """The stack's exports become those of its new template; another stack's name is refused."""
    own = {name for name, export in backend.exports.items()
           if export.exporting_stack_id == stack.stack_id}
    for export in stack.exports:
        if export.name in backend.exports and export.name not in own:
            raise ValidationError(
                stack.stack_id, message="Export names must be unique across a given region")
    for name in own:
        del backend.exports[name]
    for export in stack.exports:
        backend.exports[export.name] = export


def execute_change_set(backend: Any, change_set_name: str, stack_name: str | None = None) -> None:
    change_set = _find(backend, change_set_name, stack_name)
    if change_set.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatus(
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current status "
            f"of [{change_set.status}] (execution status {change_set.execution_status})")
    stack = backend.stacks[change_set.stack_id]
    kind = change_set.change_set_type
    stack._add_stack_event(f"{kind}_IN_PROGRESS", resource_status_reason="User Initiated")
    change_set.apply()
    stack.template = change_set.template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.parameters = change_set.parameters
    complete(backend, stack, change_set, kind)


def complete(backend: Any, stack: Any, change_set: Any, kind: str) -> None:
    """The stack's outputs and exports follow its new template; the other change sets are
    OBSOLETE."""
    stack.output_map = stack._create_output_map()
    _register_exports(backend, stack)
    stack._add_stack_event(f"{kind}_COMPLETE")
    # Set last: with the clock on, the status starts the stack's time from its template.
    stack.status = f"{kind}_COMPLETE"
    change_set.execution_status = "EXECUTE_COMPLETE"
    for other in backend.change_sets.values():
        if other is not change_set and other.stack_id == stack.stack_id and (
                other.execution_status == "AVAILABLE"):
            other.execution_status = "OBSOLETE"


_moto_create = CloudFormationResponse.create_change_set
_moto_update_stack_set = cfn.StackSet.update


def _overrides(instance: Any) -> dict[str, str]:
    # moto keeps a copy of the set's parameters (a dict) on an instance made without overrides,
    # and the overrides given to CreateStackInstances or UpdateStackInstances as a list.
    given = instance.parameters or []
    if isinstance(given, dict):
        return {}
    return {p["ParameterKey"]: p["ParameterValue"] for p in given if "ParameterValue" in p}


def update_stack_set(stack_set: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    operation = _moto_update_stack_set(stack_set, *args, **kwargs)
    accounts, regions = kwargs.get("accounts") or [], kwargs.get("regions") or []
    # Instances made later take the set's template and parameters as they are now.
    stack_set.instances.template = stack_set.template
    stack_set.instances.parameters = stack_set.parameters
    for instance in stack_set.instances.stack_instances:
        if accounts and regions and (instance.account_id not in accounts
                                     or instance.region_name not in regions):
            continue
        values = {**(stack_set.parameters or {}), **_overrides(instance)}
        instance.template = stack_set.template
        instance.stack.update(stack_set.template, parameters=values)
    return operation


def create_change_set(response: CloudFormationResponse) -> Any:
    # Skip moto's UpdateStack check: the backend marks a change set without changes FAILED.
    response._validate_different_update = lambda *args, **kwargs: None  # type: ignore
    return _moto_create(response)


def install() -> None:
    cfn.CloudFormationBackend.execute_change_set = execute_change_set
    CloudFormationResponse.create_change_set = create_change_set
    cfn.StackSet.update = update_stack_set
