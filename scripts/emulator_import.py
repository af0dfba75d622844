"""CloudFormation's import paths, which moto 5.2.5 lacks: IMPORT change sets, ImportExistingResources
on CREATE and UPDATE change sets, and ImportStacksToStackSet (with RetainStacks on
DeleteStackInstances, which moto ignores). Imported resources are the existing objects of moto's
own backends: nothing is created or changed, the stack only maps logical ids to them.

IMPORT change sets, "Import AWS resources into a CloudFormation stack" and "Resource import
validation" (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html) and the
API Reference's CreateChangeSet (.../APIReference/API_CreateChangeSet.html):
- the template describes the whole stack; every resource to import has a DeletionPolicy, and its
  ResourceIdentifier names exactly the type's identifier properties, its registry schema's
  `primaryIdentifier` (the schemas cfn-lint ships, as emulator_changeset_changes reads them);
- the other resources may not change: a resource added but not listed, or one modified or
  removed, refuses the change set; CreateChangeSet answers these with ValidationError;
- the type must support import ("Resource type support", .../UserGuide/resource-import-
  supported-resources.html): import reads the resource through the type's read handler, so a type
  whose schema has none cannot be imported;
- the resource must exist and belong to no other stack in the Region: CloudFormation accepts the
  request and fails the change set with the reason;
- executing it brings the resources under the stack, IMPORT_IN_PROGRESS then IMPORT_COMPLETE
  (on the clock when enabled), with an event per resource; a new stack waits in
  REVIEW_IN_PROGRESS until then.
The refusal messages are the ones AWS gives (seen in aws-cloudformation/cloudformation-coverage-
roadmap issue 1607, aws-quickstart/quickstart-awx issue 38 and others).

ImportExistingResources, "Import AWS resources into a CloudFormation stack automatically"
(.../UserGuide/import-resources-automatically.html): a resource the change set would add is
imported instead when a resource of that name exists, provided its name (the primary identifier,
not a read-only property) is written in the template as a literal, its DeletionPolicy is Retain or
RetainExceptOnCreate (else the change set FAILS with AWS's reason), it belongs to no other stack
and its type supports import.

ImportStacksToStackSet (.../APIReference/API_ImportStacksToStackSet.html, "Importing a stack into
CloudFormation StackSets", .../UserGuide/stacksets-import.html, and "Stack import operation fails"
in .../UserGuide/stacksets-troubleshooting.html): self-managed StackSets; up to 10 StackIds per
call; the StackSet and each stack must exist (StackSetNotFoundException, StackNotFoundException);
a stack belongs to one StackSet only, and an account and Region hold one instance of a set
(InvalidOperationException); a stack whose template differs from the StackSet's is not imported:
the operation FAILS and the instance is INOPERABLE with DetailedStatus FAILED_IMPORT until it is
deleted. The imported stack keeps its name and id: ListStackInstances gives its StackId.

Not emulated, and refused as such rather than accepted: StackIdsUrl, service-managed StackSets,
import of a type this module cannot look up in moto's backends (see LOOKUPS). Not checked: that
the template's properties match the resource's actual configuration (AWS does not check it either;
it recommends drift detection afterwards).
"""
import threading
from typing import Any, Callable

from moto.cloudformation import models as cfn
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.cognitoidp import models as idp
from moto.core.responses import ActionResult
from moto.dynamodb.models import dynamodb_backends
from moto.iam.models import iam_backends
from moto.kms import models as kms
from moto.moto_api._internal import mock_random
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response
from moto.ssm.models import ssm_backends
from moto.utilities.utils import get_partition

import emulator_changeset as changesets
import emulator_cognito_replica as replicas
import emulator_time
from emulator_cfn_cognito import UserPool
from emulator_cfn_cognito_replica import ReplicaKey, UserPoolReplica
from emulator_changeset_changes import _schema

RETAINING = ("Retain", "RetainExceptOnCreate")
MAX_STACK_IDS = 10


class InvalidOperation(CloudFormationError):
    code = "InvalidOperationException"


class LimitExceeded(CloudFormationError):
    code = "LimitExceededException"


class StackNotFound(CloudFormationError):
    code = "StackNotFoundException"


class OperationIdExists(CloudFormationError):
    code = "OperationIdAlreadyExistsException"


class NotFound(Exception):
    """The resource a ResourceIdentifier names does not exist; the text is AWS's reason."""


# ---- The resource types this emulator can import ---------------------------------------------
# Each returns the model CloudFormation's stack will hold for the existing resource (the same
# model a stack creating it would hold), or raises NotFound with the read handler's reason.

def _generic(kind: str, value: str) -> NotFound:
    return NotFound(f"Resource of type '{kind}' with identifier '{value}' was not found.")


def _bucket(account: str, region: str, ident: dict[str, str], props: dict[str, Any]) -> Any:
    bucket = s3_backends[account][get_partition(region)].buckets.get(ident["BucketName"])
    if bucket is None:
        raise NotFound("Bucket not found")
    return bucket


def _table(account: str, region: str, ident: dict[str, str], props: dict[str, Any]) -> Any:
    table = dynamodb_backends[account][region].tables.get(ident["TableName"])
    if table is None:
        raise NotFound(f"Table: {ident['TableName']} does not exist.")
    return table


def _role(account: str, region: str, ident: dict[str, str], props: dict[str, Any]) -> Any:
    backend = iam_backends[account][get_partition(region)]
    for role in backend.roles.values():
        if role.name == ident["RoleName"]:
            return role
    raise _generic("AWS::IAM::Role", ident["RoleName"])


def _pool(account: str, region: str, ident: dict[str, str], props: dict[str, Any]) -> Any:
    pool = idp.cognitoidp_backends[account][region].user_pools.get(ident["UserPoolId"])
    if pool is None or isinstance(pool, replicas.ReplicaPool):
        # A replica answers in its Region under the primary's id, but it is not a pool of its own.
        raise _generic("AWS::Cognito::UserPool", ident["UserPoolId"])
    return UserPool(account, region, pool.id, props)


def _pool_replica(account: str, region: str, ident: dict[str, str], props: dict[str, Any]) -> Any:
    replica = replicas.replica_of(account, ident["UserPoolId"])
    if replica is None or replica.region != ident["RegionName"] or (
            replica.primary.region != region):
        raise _generic("AWS::Cognito::UserPoolReplica",
                       f"{ident['UserPoolId']}|{ident['RegionName']}")
    return UserPoolReplica(account, region, f"{replica.id}|{replica.region}", props)


def _key(account: str, region: str, ident: dict[str, str], props: dict[str, Any]) -> Any:
    key = kms.kms_backends[account][region].keys.get(ident["KeyId"])
    if key is None or key.key_state == "PendingDeletion":
        raise _generic("AWS::KMS::Key", ident["KeyId"])
    return key


def _replica_key(account: str, region: str, ident: dict[str, str], props: dict[str, Any]) -> Any:
    key = kms.kms_backends[account][region].keys.get(ident["KeyId"])
    if key is None or key.key_state == "PendingDeletion" or not key.multi_region or (
            key.multi_region_configuration.get("MultiRegionKeyType") != "REPLICA"):
        raise _generic("AWS::KMS::ReplicaKey", ident["KeyId"])
    return ReplicaKey(account, region, key.id, props)


def _parameter(account: str, region: str, ident: dict[str, str], props: dict[str, Any]) -> Any:
    parameter = ssm_backends[account][region].get_parameter(ident["Name"])
    if parameter is None:
        raise _generic("AWS::SSM::Parameter", ident["Name"])
    return parameter


LOOKUPS: dict[str, Callable[[str, str, dict[str, str], dict[str, Any]], Any]] = {
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::IAM::Role": _role,
    "AWS::Cognito::UserPool": _pool,
    "AWS::Cognito::UserPoolReplica": _pool_replica,
    "AWS::KMS::Key": _key,
    "AWS::KMS::ReplicaKey": _replica_key,
    "AWS::SSM::Parameter": _parameter,
}


def identifier_properties(region: str, kind: str) -> list[str]:
    """The type's primaryIdentifier, as property names."""
    return [p.split("/")[2] for p in _schema(region, kind).get("primaryIdentifier") or []]


def supports_import(region: str, kind: str) -> bool:
    return "read" in (_schema(region, kind).get("handlers") or {})


def _physical_id(model: Any) -> str:
    return str(model.physical_resource_id)


def _owner(account: str, region: str, kind: str, physical_id: str) -> str | None:
    """The id of the stack in this Region that holds the resource, if one does."""
    for stack in cfn.cloudformation_backends[account][region].stacks.values():
        if stack.status == "DELETE_COMPLETE":
            continue
        for logical_id, definition in (stack.template_dict.get("Resources") or {}).items():
            held = stack.resource_map._parsed_resources.get(logical_id)
            if definition.get("Type") == kind and held is not None and not isinstance(
                    held, str) and _physical_id(held) == physical_id:
                return stack.stack_id
    return None


def _find(account: str, region: str, kind: str, ident: dict[str, str],
          props: dict[str, Any]) -> Any:
    """The existing resource's model; NotFound, or the stack that already holds it."""
    lookup = LOOKUPS.get(kind)
    if lookup is None:
        raise NotFound(f"emulator: importing {kind} is not emulated; add a lookup to "
                       "LOOKUPS in scripts/emulator_import.py")
    model = lookup(account, region, ident, props)
    owner = _owner(account, region, kind, _physical_id(model))
    if owner is not None:
        raise NotFound(f"{_physical_id(model)} already exists in stack {owner}")
    return model


def _names(ids: list[str]) -> str:
    return "[" + ", ".join(ids) + "]"


# ---- IMPORT change sets ----------------------------------------------------------------------

def _validate_import(region: str, stack: Any, template: dict[str, Any],
                     to_import: list[dict[str, Any]]) -> None:
    """CreateChangeSet's own refusals (ValidationError), in the order AWS reports them."""
    if not to_import:
        raise ValidationError(message="Must Provide at least one resource to import")
    declared = template.get("Resources") or {}
    logical_ids = [entry.get("LogicalResourceId") for entry in to_import]
    if len(set(logical_ids)) != len(logical_ids):
        raise ValidationError(
            message="Every resource to import must have unique LogicalResourceId")
    missing = [i for i in logical_ids if i not in declared]
    if missing:
        raise ValidationError(message=f"The logical resource ids {_names(missing)} provided in "
                              "ResourceToImport do not exist in the template.")
    for entry in to_import:
        kind, logical = entry.get("ResourceType"), entry["LogicalResourceId"]
        keys = identifier_properties(region, kind)
        if not supports_import(region, kind):
            raise ValidationError(message=f"ResourceType {kind} is not supported for import")
        if sorted(entry.get("ResourceIdentifier") or {}) != sorted(keys):
            raise ValidationError(message=f"Invalid resource identifier for resource type "
                                  f"{kind}. Expected {_names(keys)}")
        if kind != declared[logical].get("Type"):
            raise ValidationError(
                message=f"Resource type of [{logical}] passed in ResourceToImport does not match "
                "with resource type defined in the template. Resource type in ResourceToImport: "
                f"{kind}; Resource type in Template: {declared[logical].get('Type')}.")
    held = stack.template_dict.get("Resources") or {} if stack is not None else {}
    already = [i for i in logical_ids if i in held]
    if already:
        raise ValidationError(message=f"Resources {_names(already)} passed in ResourceToImport "
                              "are already in a stack and cannot be imported.")
    unlisted = [i for i in declared if i not in held and i not in logical_ids]
    if unlisted:
        raise ValidationError(
            message=f"Resources {_names(unlisted)} is missing from ResourceToImport list")
    changed = sorted(i for i in held if declared.get(i) != held[i])
    if changed:
        raise ValidationError(
            message=f"You have modified resources {_names(changed)} in your template that are "
            "not being imported. Update, create or delete operations cannot be executed during "
            "import operations.")
    without = [i for i in logical_ids if "DeletionPolicy" not in declared[i]]
    if without:
        raise ValidationError(message=f"The following resources to import {_names(without)} must "
                              "have DeletionPolicy attribute specified in the template.")


class ImportChangeSet(cfn.ChangeSet):
    """A change set whose changes are imports (IMPORT), or whose adds are partly imports
    (ImportExistingResources): `imports` maps logical id -> (type, identifier)."""

    __module__ = "emulator_import.cloudformation"  # moto's models name their service here
    imports: dict[str, tuple[str, dict[str, str]]] = {}

    def diff(self) -> list[cfn.Change]:
        if self.change_set_type == "IMPORT":
            return []  # set once the imports are known
        return super().diff()


def _import_change(logical: str, kind: str, physical_id: str) -> cfn.Change:
    change = cfn.Change("Import", logical, kind)
    change.physical_resource_id = physical_id
    change.scope, change.details = [], []
    return change


def _fail(change_set: Any, reason: str) -> None:
    change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
    change_set.status_reason = reason
    change_set.changes = []


def _resolve(backend: Any, change_set: ImportChangeSet) -> None:
    """AWS checks existence and ownership after accepting the request: a failure FAILS the
    change set with the reason."""
    declared = change_set.template_dict.get("Resources") or {}
    changes = [c for c in change_set.changes if c.logical_resource_id not in change_set.imports]
    for logical, (kind, ident) in change_set.imports.items():
        try:
            model = _find(backend.account_id, backend.region_name, kind, ident,
                          declared[logical].get("Properties") or {})
        except NotFound as reason:
            _fail(change_set, str(reason))
            return
        changes.append(_import_change(logical, kind, _physical_id(model)))
    change_set.changes = changes


def _new_change_set(backend: Any, stack: Any, kind: str, name: str, template: str,
                    parameters: dict[str, str], description: str | None,
                    imports: dict[str, tuple[str, dict[str, str]]]) -> ImportChangeSet:
    change_set = ImportChangeSet.__new__(ImportChangeSet)
    change_set.imports = imports
    change_set.__init__(kind, cfn.generate_changeset_id(name, backend.region_name,
                                                        backend.account_id),
                        name, stack, template, parameters, description)
    change_set.import_existing_resources = kind != "IMPORT"
    change_set.status, change_set.execution_status = "CREATE_COMPLETE", "AVAILABLE"
    _resolve(backend, change_set)
    backend.change_sets[change_set.change_set_id] = change_set
    return change_set


def _stack_named(backend: Any, name: str) -> Any:
    for stack in backend.stacks.values():
        if stack.name == name:
            return stack
    return None


def _review_stack(backend: Any, name: str, parameters: dict[str, str],
                  tags: dict[str, str] | None = None) -> Any:
    """A stack that does not exist yet waits in REVIEW_IN_PROGRESS, as for a CREATE change set;
    CreateChangeSet's Tags are the stack's ("Key-value pairs to associate with this stack",
    API_CreateChangeSet.html), an IMPORT's as a CREATE's."""
    stack = cfn.Stack(stack_id=cfn.generate_stack_id(name, backend.region_name,
                                                     backend.account_id),
                      name=name, template={}, parameters=parameters,
                      account_id=backend.account_id, region_name=backend.region_name,
                      tags=tags or {})
    backend.stacks[stack.stack_id] = stack
    stack.status = "REVIEW_IN_PROGRESS"
    stack._add_stack_event("REVIEW_IN_PROGRESS", resource_status_reason="User Initiated")
    return stack


def create_import_change_set(backend: Any, stack_name: str, name: str, template: str,
                             parameters: dict[str, str], description: str | None,
                             to_import: list[dict[str, Any]],
                             tags: dict[str, str] | None = None) -> tuple[str, str]:
    stack = _stack_named(backend, stack_name)
    if stack is not None and stack.status == "REVIEW_IN_PROGRESS":
        stack_for_checks = None  # nothing is held yet
    else:
        stack_for_checks = stack
    _validate_import(backend.region_name, stack_for_checks, cfn.Stack.parse_template(template),
                     to_import)
    if stack is None:
        stack = _review_stack(backend, stack_name, parameters, tags)
    imports = {e["LogicalResourceId"]: (e["ResourceType"], dict(e["ResourceIdentifier"]))
               for e in to_import}
    made = _new_change_set(backend, stack, "IMPORT", name, template, parameters, description,
                           imports)
    return made.change_set_id, stack.stack_id


def _static_identifier(region: str, kind: str, props: dict[str, Any]) -> dict[str, str] | None:
    """The identifier written as literals in the template, when auto-import can use it: every
    primaryIdentifier property set to a string, none of them read-only."""
    schema = _schema(region, kind)
    keys = identifier_properties(region, kind)
    read_only = {p.split("/")[2] for p in schema.get("readOnlyProperties") or []}
    if not keys or read_only & set(keys):
        return None
    values = {k: props.get(k) for k in keys}
    if not all(isinstance(v, str) for v in values.values()):
        return None
    return values  # type: ignore[return-value]


def _existing_named(backend: Any, template: dict[str, Any], stack: Any | None) -> dict[str, Any]:
    """Resources the change set would add that exist already, by their static names."""
    held = stack.template_dict.get("Resources") or {} if stack is not None else {}
    found: dict[str, Any] = {}
    for logical, definition in (template.get("Resources") or {}).items():
        kind = definition.get("Type", "")
        if logical in held or kind not in LOOKUPS or not supports_import(backend.region_name,
                                                                        kind):
            continue
        ident = _static_identifier(backend.region_name, kind,
                                   definition.get("Properties") or {})
        if ident is None:
            continue
        try:
            LOOKUPS[kind](backend.account_id, backend.region_name, ident,
                          definition.get("Properties") or {})
        except NotFound:
            continue
        found[logical] = (kind, ident)
    return found


def _auto_import(backend: Any, change_set_id: str) -> None:
    """ImportExistingResources on a CREATE or UPDATE change set moto has just made."""
    made = backend.change_sets[change_set_id]
    stack = made.stack if made.change_set_type == "UPDATE" else None
    imports = _existing_named(backend, made.template_dict, stack)
    made.__class__ = ImportChangeSet
    made.imports = imports
    made.import_existing_resources = True
    if not imports or made.status == "FAILED":
        return
    declared = made.template_dict["Resources"]
    loose = [logical for logical in imports
             if declared[logical].get("DeletionPolicy") not in RETAINING]
    if loose:
        listed = ", ".join(f"{logical} ({{{', '.join(f'{k}={v}' for k, v in imports[logical][1].items())}}})"
                           for logical in loose)
        _fail(made, "CloudFormation is attempting to import some resources because they already "
              "exist in your account. The resources must have the DeletionPolicy attribute set "
              "to 'Retain' or 'RetainExceptOnCreate' in the template for successful import. The "
              f"affected resources are {listed}")
        return
    _resolve(backend, made)


_moto_create_response = CloudFormationResponse.create_change_set


def create_change_set(response: CloudFormationResponse) -> Any:
    kind = response._get_param("ChangeSetType", "CREATE")
    backend = response.cloudformation_backend
    if kind == "IMPORT":
        body = response._get_param("TemplateBody")
        if response._get_param("TemplateURL"):
            body = response._get_stack_from_s3_url(response._get_param("TemplateURL"))
        stack = _stack_named(backend, response._get_param("StackName"))
        if body is None and response._get_bool_param("UsePreviousTemplate", False) and stack:
            body = stack.template
        parameters = {p["ParameterKey"]: (stack.parameters.get(p["ParameterKey"])
                                          if p.get("UsePreviousValue") and stack
                                          else p.get("ParameterValue"))
                      for p in response._get_param("Parameters", [])}
        if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
            parameters = {**stack.parameters, **parameters}
        change_set_id, stack_id = create_import_change_set(
            backend, response._get_param("StackName"), response._get_param("ChangeSetName"),
            body, parameters, response._get_param("Description"),
            response._get_param("ResourcesToImport", []),
            {t["Key"]: t["Value"] for t in response._get_param("Tags", [])})
        return ActionResult({"Id": change_set_id, "StackId": stack_id})
    if response._get_param("ResourcesToImport"):
        raise ValidationError(message="ResourcesToImport can only be specified with "
                              "ChangeSetType IMPORT")
    result = _moto_create_response(response)
    if response._get_bool_param("ImportExistingResources", False):
        _auto_import(backend, result.result["Id"])
    return result


# ---- Executing an import ---------------------------------------------------------------------

def _event(stack: Any, logical: str, physical: str, kind: str, status: str,
           reason: str | None = None) -> None:
    stack.events.append(cfn.Event(stack_id=stack.stack_id, stack_name=stack.name,
                                  logical_resource_id=logical, physical_resource_id=physical,
                                  resource_type=kind, resource_status=status,
                                  resource_status_reason=reason, resource_properties=None))


def _adopt(stack: Any, change_set: ImportChangeSet) -> dict[str, Any]:
    """Looks each resource up again (it may be gone, or taken, since the change set was made)."""
    declared = change_set.template_dict["Resources"]
    found = {}
    for logical, (kind, ident) in change_set.imports.items():
        model = _find(stack.account_id, stack.region_name, kind, ident,
                      declared[logical].get("Properties") or {})
        model.cf_resource_type, model.logical_resource_id = kind, logical
        found[logical] = model
    return found


def _execute_import(backend: Any, change_set: ImportChangeSet) -> None:
    stack = backend.stacks[change_set.stack_id]
    stack._add_stack_event("IMPORT_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        adopted = _adopt(stack, change_set)
    except NotFound as reason:
        for logical, (kind, _ident) in change_set.imports.items():
            _event(stack, logical, "", kind, "IMPORT_FAILED", str(reason))
        stack._add_stack_event("IMPORT_ROLLBACK_COMPLETE")
        stack.status = "IMPORT_ROLLBACK_COMPLETE"
        change_set.execution_status = "EXECUTE_FAILED"
        return
    held = {k: v for k, v in stack.resource_map._parsed_resources.items()
            if k in (stack.template_dict.get("Resources") or {})}
    stack.template = change_set.template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.parameters = change_set.parameters
    stack.resource_map = stack._create_resource_map()
    stack.resource_map._parsed_resources.update(held)
    for logical, model in adopted.items():
        _event(stack, logical, _physical_id(model), model.cf_resource_type, "IMPORT_IN_PROGRESS")
        stack.resource_map._parsed_resources[logical] = model
        _event(stack, logical, _physical_id(model), model.cf_resource_type, "IMPORT_COMPLETE")
    changesets.complete(backend, stack, change_set, "IMPORT")


_prior_execute = changesets.execute_change_set


def execute_change_set(backend: Any, change_set_name: str, stack_name: str | None = None) -> None:
    change_set = changesets._find(backend, change_set_name, stack_name)
    imports = getattr(change_set, "imports", None)
    if not imports or change_set.execution_status != "AVAILABLE":
        return _prior_execute(backend, change_set_name, stack_name)
    if change_set.change_set_type == "IMPORT":
        return _execute_import(backend, change_set)
    # ImportExistingResources: the existing resources stand in the stack's map before the
    # change runs, so moto's update finds them there instead of creating them.
    stack = backend.stacks[change_set.stack_id]
    adopted = _adopt(stack, change_set)
    stack.resource_map._parsed_resources.update(adopted)
    _prior_execute(backend, change_set_name, stack_name)
    for logical, model in adopted.items():
        _event(stack, logical, _physical_id(model), model.cf_resource_type, "IMPORT_COMPLETE")


# ---- ImportStacksToStackSet, and RetainStacks ------------------------------------------------

class ImportedInstance(cfn.StackInstance):
    """A StackSet instance made of an existing stack (moto's instances make their own)."""

    __module__ = "emulator_import.cloudformation"

    def __init__(self, stack_set: Any, stack: Any, reason: str | None):
        self.account_id, self.region_name = stack.account_id, stack.region_name
        self.stackset_id, self.name = stack_set.id, stack_set.name
        self.stack_name, self.stack = stack.name, stack
        self.template, self.permission_model = stack.template, stack_set.permission_model
        self.parameters = [{"ParameterKey": k, "ParameterValue": v}
                           for k, v in stack.parameters.items()
                           if stack_set.parameters.get(k) != v]
        self.failed_reason = reason

    def to_dict(self) -> dict[str, Any]:
        result = _moto_instance_dict(self)
        result["StackId"] = self.stack.stack_id
        if self.failed_reason is not None:
            result["Status"] = "INOPERABLE"
            result["StatusReason"] = self.failed_reason
            result["StackInstanceStatus"] = {"DetailedStatus": "FAILED_IMPORT"}
        return result


_moto_instance_dict = cfn.StackInstance.to_dict


def _stack_by_id(stack_id: str) -> Any:
    parts = stack_id.split(":")
    if len(parts) < 6 or not parts[5].startswith("stack/"):
        raise StackNotFound(f"Stack with id {stack_id} does not exist")
    region, account = parts[3], parts[4]
    stack = cfn.cloudformation_backends[account][region].stacks.get(stack_id)
    if stack is None:
        raise StackNotFound(f"Stack with id {stack_id} does not exist")
    return stack


def _set_holding(stack: Any) -> Any:
    for backend in cfn.cloudformation_backends[stack.account_id].values():
        for stack_set in backend.stacksets.values():
            if stack_set.status == "DELETED":
                continue
            for instance in stack_set.instances.stack_instances:
                if instance.stack is stack or instance.stack.stack_id == stack.stack_id:
                    return stack_set
    return None


def import_stacks_to_stack_set(backend: Any, name: str, stack_ids: list[str],
                               stack_ids_url: str | None, operation_id: str | None) -> str:
    stack_set = backend.describe_stack_set(name)  # StackSetNotFoundException
    if stack_set.permission_model != "SELF_MANAGED":
        raise InvalidOperation("emulator: ImportStacksToStackSet into a SERVICE_MANAGED "
                               "StackSet is not emulated")
    if stack_ids_url:
        raise ValidationError(message="emulator: StackIdsUrl is not emulated; pass StackIds")
    if not stack_ids:
        raise ValidationError(message="Specify either StackIds or StackIdsUrl")
    if len(stack_ids) > MAX_STACK_IDS:
        raise LimitExceeded(f"You can import up to {MAX_STACK_IDS} stacks per StackSet at a "
                            f"time; {len(stack_ids)} were given")
    operation_id = operation_id or str(mock_random.uuid4())
    if any(o["OperationId"] == operation_id for o in stack_set.operations):
        raise OperationIdExists(f"The operation id {operation_id} already exists")
    stacks = [_stack_by_id(i) for i in stack_ids]
    for stack in stacks:
        holder = _set_holding(stack)
        if holder is not None:
            raise InvalidOperation(f"Stack {stack.stack_id} already belongs to StackSet "
                                   f"{holder.name}; a stack can belong to one StackSet only")
        if stack_set.instances.get_instance(stack.account_id, stack.region_name) is not None:
            raise InvalidOperation(f"StackSet {stack_set.name} already has a stack instance in "
                                   f"account {stack.account_id}, Region {stack.region_name}")
        if not stack.status.endswith("_COMPLETE") or stack.status.startswith(
                ("DELETE", "REVIEW")) or "ROLLBACK" in stack.status and stack.status not in (
                "UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"):
            raise InvalidOperation(f"Stack {stack.stack_id} is in status {stack.status}, which "
                                   "cannot be imported")
    wanted = cfn.Stack.parse_template(stack_set.template)
    failed = False
    for stack in stacks:
        reason = None
        if stack.template_dict != wanted:
            failed = True
            reason = ("The template of the stack to import does not match the StackSet's "
                      "template")
        stack_set.instances.stack_instances.append(ImportedInstance(stack_set, stack, reason))
    operation = stack_set._create_operation(
        operation_id=operation_id, action="CREATE", status="FAILED" if failed else "SUCCEEDED",
        accounts=sorted({s.account_id for s in stacks}),
        regions=sorted({s.region_name for s in stacks}))
    # The stacks exist already: the operation takes time, their own status does not change.
    with emulator_time._lock:
        for stack in stacks:
            emulator_time._deadlines.pop(("stack", stack.stack_id), None)
    return operation["OperationId"]


def import_stacks_response(response: CloudFormationResponse) -> Any:
    operation_id = import_stacks_to_stack_set(
        response.cloudformation_backend, response._get_param("StackSetName"),
        response._get_param("StackIds", []), response._get_param("StackIdsUrl"),
        response._get_param("OperationId"))
    return ActionResult({"OperationId": operation_id})


# DeleteStackInstances' RetainStacks (API_DeleteStackInstances.html): "Removes the stack instances
# from the specified StackSet, but doesn't delete the stacks"; moto deletes them regardless.
_retaining = threading.local()
_moto_delete_instances = CloudFormationResponse.delete_stack_instances
_moto_instance_delete = cfn.StackInstance.delete


def delete_stack_instances(response: CloudFormationResponse) -> Any:
    _retaining.on = response._get_bool_param("RetainStacks", False)
    try:
        return _moto_delete_instances(response)
    finally:
        _retaining.on = False


def _instance_delete(instance: Any) -> None:
    if getattr(_retaining, "on", False):
        return  # the stack stays, outside any StackSet
    _moto_instance_delete(instance)


# GetBucketVersioning, which adoption reads to check a kept bucket: S3 answers a
# `VersioningConfiguration` document (S3 API Reference, GetBucketVersioning,
# docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html), with no Status while
# versioning was never enabled; moto 5.2.5 names its root `GetBucketVersioningResponse`, which
# SDKs that check the root element cannot read.
def get_bucket_versioning(response: S3Response) -> Any:
    status = response.backend.get_bucket_versioning(response.bucket_name)
    inner = f"<Status>{status}</Status>" if status else ""
    body = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"{inner}</VersioningConfiguration>")
    return 200, {"Content-Type": "application/xml"}, body


def install() -> None:
    """After emulator_changeset.install() and emulator_time.install(), whose hooks these wrap."""
    S3Response.get_bucket_versioning = get_bucket_versioning
    global _prior_execute
    _prior_execute = cfn.CloudFormationBackend.execute_change_set
    cfn.CloudFormationBackend.execute_change_set = execute_change_set
    global _moto_create_response, _moto_delete_instances
    _moto_create_response = CloudFormationResponse.create_change_set
    CloudFormationResponse.create_change_set = create_change_set
    CloudFormationResponse.import_stacks_to_stack_set = import_stacks_response
    _moto_delete_instances = CloudFormationResponse.delete_stack_instances
    CloudFormationResponse.delete_stack_instances = delete_stack_instances
    cfn.StackInstance.delete = _instance_delete
    # An import's status lags on the clock as a creation's does (emulator_time.py).
    emulator_time.IN_PROGRESS.setdefault("IMPORT_COMPLETE", "IMPORT_IN_PROGRESS")
