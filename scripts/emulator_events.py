"""A resource that fails inside a StackSet instance's stack, reported as AWS reports it.

moto creates an instance's stack inside the CreateStackInstances request, so a resource that
cannot be created (a bucket name already taken) fails the request itself, and leaves behind a
half-made stack that no instance owns: the next CreateStackInstances then answers
`AlreadyExistsException: Stack StackSet:<set> already exists`. AWS runs the operation on its own
and records the failure where a client reads it:

- the instance's stack: the resource CREATE_FAILED with its status reason, then
  ROLLBACK_IN_PROGRESS, the resources already made deleted, ROLLBACK_COMPLETE ("Stack status
  codes", docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#
  cfn-console-view-stack-data-resources-status-codes); StackSets then deletes that stack: "view
  the events for the stack, which will have a status of DELETED (for failed create operations)"
  ("Troubleshooting CloudFormation StackSets", docs.aws.amazon.com/AWSCloudFormation/latest/
  UserGuide/stacksets-troubleshooting.html). The stack is still read by its id, events and all;
- the reason, in the resource handler's words: `Resource handler returned message: "..."
  (RequestToken: ..., HandlerErrorCode: AlreadyExists)` ("Handler error codes", docs.aws.amazon.
  com/cloudformation-cli/latest/userguide/resource-type-test-contract-errors.html), the physical
  id being the name the template gave (a bucket's);
- the operation ends FAILED once more regions failed than its FailureToleranceCount allows, and
  ListStackSetOperationResults gives each region its own Status and StatusReason
  (API_StackSetOperationResultSummary: `ResourceLogicalId:..., ResourceType:...,
  ResourceStatusReason:...`);
- the instance stays, OUTDATED, its StackInstanceStatus FAILED with the reason
  (API_StackInstanceSummary, API_StackInstanceComprehensiveStatus: "FAILED: The operation in the
  specified account and Region failed"); its StackId names the stack that failed;
- a later operation on that instance (UpdateStackInstances, or UpdateStackSet) is the retry the
  troubleshooting page describes: it creates the instance's stack again, from the set's current
  template and parameters.

Not modelled: with SEQUENTIAL regions, AWS cancels the regions after a failed one (CANCELLED);
here they still run.
"""
import threading
import uuid
from typing import Any

from moto.cloudformation import models as cfn
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

import emulator_time

# Per request (moto serves one at a time per thread): the first resource that failed in the
# stack being made, the names templates gave, and the instances the operation failed in.
_local = threading.local()


class Failure:
    def __init__(self, logical: str, kind: str, physical: str, reason: str):
        self.logical, self.kind, self.physical, self.reason = logical, kind, physical, reason

    def result_reason(self) -> str:
        """An operation result's StatusReason for a resource that failed in the stack."""
        return (f"ResourceLogicalId:{self.logical}, ResourceType:{self.kind}, "
                f"ResourceStatusReason:{self.reason}")


def handler_reason(error: BaseException, physical: str) -> str:
    """The resource handler's message for `error`, with its handler error code."""
    code = str(getattr(error, "code", "") or getattr(error, "error_type", "") or "")
    message = str(getattr(error, "message", "") or error)
    if "AlreadyExists" in code or "AlreadyOwnedByYou" in code:
        # The S3 handler names the bucket, not S3's generic namespace sentence.
        handler, message = "AlreadyExists", (f"{physical} already exists" if physical else message)
    else:
        handler = "GeneralServiceException"
    return (f'Resource handler returned message: "{message}" '
            f"(RequestToken: {uuid.uuid4()}, HandlerErrorCode: {handler})")


def _names() -> dict[str, str]:
    if not hasattr(_local, "names"):
        _local.names = {}
    return _local.names


def _resources() -> None:
    moto_name = cfn_parsing.parse_resource_and_generate_name
    moto_create = cfn_parsing.parse_and_create_resource

    def name(logical_id: str, resource_json: dict[str, Any], resources_map: Any) -> Any:
        found = moto_name(logical_id, resource_json, resources_map)
        if found:
            kind = resource_json.get("Type", "")
            prop = cfn_parsing.resource_name_property_from_type(kind)
            if prop and prop in (found[1].get("Properties") or {}):
                _names()[logical_id] = str(found[2])
        return found

    def create(logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return moto_create(logical_id, resource_json, *args, **kwargs)
        except Exception as error:
            # The innermost resource fails first (a Ref resolves its target before the referrer).
            if getattr(_local, "failure", None) is None:
                physical = _names().get(logical_id, "")
                _local.failure = Failure(logical_id, resource_json.get("Type", "?"), physical,
                                         handler_reason(error, physical))
            raise

    cfn_parsing.parse_resource_and_generate_name = name
    cfn_parsing.parse_and_create_resource = create


def _event(stack: Any, logical: str, physical: str, kind: str, status: str,
           reason: str | None = None) -> None:
    event = cfn.Event(stack_id=stack.stack_id, stack_name=stack.name,
                      logical_resource_id=logical, physical_resource_id=physical,
                      resource_type=kind, resource_status=status,
                      resource_status_reason=reason, resource_properties=None)
    stack.events.append(event)


def _fail_creation(backend: Any, stack: Any, failure: Failure) -> None:
    """The failed resource's events, the rollback, then StackSets' deletion of the stack."""
    _event(stack, failure.logical, failure.physical, failure.kind, "CREATE_IN_PROGRESS")
    _event(stack, failure.logical, failure.physical, failure.kind, "CREATE_FAILED",
           failure.reason)
    stack._add_stack_event(
        "ROLLBACK_IN_PROGRESS",
        resource_status_reason=f"The following resource(s) failed to create: "
        f"[{failure.logical}]. Rollback requested by user.")
    made = [r for r in stack.resource_map._parsed_resources.values()
            if hasattr(r, "logical_resource_id") and hasattr(r, "cf_resource_type")]
    for resource in made:
        _event(stack, resource.logical_resource_id, resource.physical_resource_id,
               resource.cf_resource_type, "DELETE_IN_PROGRESS")
    # Resources with DeletionPolicy Retain stay, as AWS keeps them on a rollback unless
    # RetainExceptOnCreate (API_RollbackStack).
    stack.resource_map.delete()
    for resource in made:
        _event(stack, resource.logical_resource_id, resource.physical_resource_id,
               resource.cf_resource_type, "DELETE_COMPLETE")
    stack._add_stack_event("ROLLBACK_COMPLETE")
    stack.rolled_back = True
    stack.status = "ROLLBACK_COMPLETE"
    backend.delete_stack(stack.stack_id)


def _make_stack(instance: Any, account: str, region: str, set_name: str, create: Any) -> None:
    """Runs `create` (which makes the instance's stack); on a resource's failure, records it
    as AWS does and keeps the failed stack on the instance."""
    _local.failure, _local.names = None, {}
    name = f"StackSet:{set_name}"
    backend = cfn.cloudformation_backends[account][region]
    try:
        create()
        instance.failure = None
        return
    except Exception:
        failure = _local.failure
        stack = next((s for s in backend.stacks.values() if s.name == name), None)
        if failure is None or stack is None:
            raise  # not a resource's failure (a template error): refused as before
    finally:
        _local.failure = None
    _fail_creation(backend, stack, failure)
    instance.stack = stack
    instance.failure = failure
    failed = getattr(_local, "failed", None)
    if failed is not None:
        failed[(account, region)] = failure.result_reason()


def _instances() -> None:
    moto_init = cfn.StackInstance.__init__

    def init(instance: Any, *args: Any, **kwargs: Any) -> None:
        # moto makes its instances with keyword arguments only.
        if args or kwargs.get("permission_model") != "SELF_MANAGED":
            moto_init(instance, *args, **kwargs)
            return
        _make_stack(instance, kwargs["account_id"], kwargs["region_name"], kwargs["name"],
                    lambda: moto_init(instance, *args, **kwargs))

    cfn.StackInstance.__init__ = init

    prior_outputs = cfn.Stack.outputs

    def outputs(stack: Any) -> Any:
        # A rolled-back stack has no outputs (moto would make their resources again to read
        # them: DescribeStacks, Outputs).
        if getattr(stack, "rolled_back", False):
            return []
        return prior_outputs.fget(stack)

    cfn.Stack.outputs = property(outputs)

    def retry(instances: Any, instance: Any) -> None:
        """The instance's stack made again: the set's template, parameters and overrides."""
        params = dict(instances.parameters or {})
        if isinstance(instance.parameters, list):
            params.update({p["ParameterKey"]: p["ParameterValue"]
                           for p in instance.parameters if "ParameterValue" in p})
        backend = cfn.cloudformation_backends[instance.account_id][instance.region_name]

        def create() -> None:
            instance.template = instances.template
            instance.stack = backend.create_stack(
                name=f"StackSet:{instance.name}", template=instances.template,
                parameters=params)

        _make_stack(instance, instance.account_id, instance.region_name, instance.name, create)

    moto_update = cfn.StackInstances.update

    def update(instances: Any, accounts: list[str], regions: list[str], *args: Any,
               **kwargs: Any) -> Any:
        result = moto_update(instances, accounts, regions, *args, **kwargs)
        for instance in list(instances.stack_instances):
            if (instance.account_id in accounts and instance.region_name in regions
                    and getattr(instance, "failure", None) is not None):
                retry(instances, instance)
        return result

    cfn.StackInstances.update = update

    prior_set_update = cfn.StackSet.update

    def set_update(stack_set: Any, *args: Any, **kwargs: Any) -> Any:
        # UpdateStackSet without Accounts and Regions reaches every instance: a failed one is
        # made again rather than updated (its stack is gone). With them, StackInstances.update
        # above retries it.
        if kwargs.get("accounts") and kwargs.get("regions"):
            return prior_set_update(stack_set, *args, **kwargs)
        failed = [i for i in stack_set.instances.stack_instances
                  if getattr(i, "failure", None) is not None]
        for instance in failed:
            stack_set.instances.stack_instances.remove(instance)
        try:
            operation = prior_set_update(stack_set, *args, **kwargs)
        finally:
            stack_set.instances.stack_instances.extend(failed)
        for instance in failed:
            retry(stack_set.instances, instance)
        # The operation reaches every instance; a failed retry fails it.
        if not operation["Instances"]:
            operation["Instances"] = [{i.account_id: i.region_name}
                                      for i in stack_set.instances.stack_instances]
        _settle(operation)
        return operation

    cfn.StackSet.update = set_update

    prior_dict = cfn.StackInstance.to_dict

    def instance_dict(instance: Any) -> dict[str, Any]:
        result = prior_dict(instance)
        stack = getattr(instance, "stack", None)
        if stack is not None:
            result["StackId"] = stack.stack_id
        failure = getattr(instance, "failure", None)
        running = result.get("StackInstanceStatus", {}).get("DetailedStatus") in (
            "PENDING", "RUNNING")
        if failure is not None and not running:
            result["Status"] = "OUTDATED"
            result["StatusReason"] = failure.result_reason()
            result["StackInstanceStatus"] = {"DetailedStatus": "FAILED"}
        return result

    cfn.StackInstance.to_dict = instance_dict


def _settle(operation: dict[str, Any]) -> None:
    """The regions this request failed in: the operation's results, and FAILED past the
    failure tolerance."""
    failed = getattr(_local, "failed", None) or {}
    if failed:
        operation.setdefault("Results", {}).update(failed)
        if len(operation["Results"]) > getattr(_local, "tolerance", 0):
            operation["Status"] = "FAILED"


def _operations() -> None:
    """The operations that made or updated instances end FAILED past the failure tolerance,
    with each region's result."""
    for name in ("create_stack_instances", "update_stack_instances", "update_stack_set"):
        prior = getattr(CloudFormationResponse, name)

        def handler(response: Any, _prior: Any = prior) -> Any:
            _local.failed = {}
            _local.tolerance = int(response._get_param(
                "OperationPreferences.FailureToleranceCount") or 0)
            try:
                return _prior(response)
            finally:
                _local.failed = None

        setattr(CloudFormationResponse, name, handler)

    prior_create = cfn.StackSet._create_operation

    def create_operation(stack_set: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        operation = prior_create(stack_set, *args, **kwargs)
        if operation["Action"] in ("CREATE", "UPDATE"):
            _settle(operation)
        return operation

    cfn.StackSet._create_operation = create_operation

    def results(response: Any) -> ActionResult:
        operation = response.cloudformation_backend.list_stack_set_operation_results(
            response._get_param("StackSetName"), response._get_param("OperationId"))
        running = emulator_time.pending(("stack-set-operation", operation["OperationId"]))
        failed = operation.get("Results", {})
        summaries = []
        for instance in operation["Instances"]:
            for account, region in instance.items():
                summary: dict[str, Any] = {
                    "AccountGateResult": {
                        "StatusReason": "Function not found: arn:aws:lambda:"
                        f"{region}:{account}:function:AWSCloudFormationStackSetAccountGate",
                        "Status": "SKIPPED",
                    },
                    "Region": region,
                    "Account": account,
                    "Status": "SUCCEEDED",
                }
                if running:
                    summary["Status"] = "RUNNING"
                elif (account, region) in failed:
                    summary["Status"] = "FAILED"
                    summary["StatusReason"] = failed[(account, region)]
                elif operation["Status"] in ("STOPPED",):
                    summary["Status"] = "CANCELLED"
                summaries.append(summary)
        return ActionResult({"Summaries": summaries})

    CloudFormationResponse.list_stack_set_operation_results = results


def install() -> None:
    """After emulator_changeset.install(), emulator_time.install() and emulator_import.install(),
    whose StackSet hooks these wrap."""
    _resources()
    _instances()
    _operations()
