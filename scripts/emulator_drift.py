"""CloudFormation drift detection in the emulator (moto has none): DetectStackDrift,
DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts, DetectStackResourceDrift, a
stack's DriftInformation in DescribeStacks, and DetectStackSetDrift.

The rules are those of "Detect unmanaged configuration changes to stacks and resources with drift
detection" (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-drift.html)
and of the API's StackResourceDrift and PropertyDifference (docs.aws.amazon.com/
AWSCloudFormation/latest/APIReference/API_StackResourceDrift.html):
- only properties set explicitly in the template (with parameters and intrinsics resolved) are
  compared with the resource's actual configuration, read through moto's service backends;
- a resource of a type without a reader here is NOT_CHECKED; one that no longer exists DELETED;
- each difference names its property path, the expected and actual values and ADD, REMOVE or
  NOT_EQUAL;
- the stack is DRIFTED if any resource is MODIFIED or DELETED, else IN_SYNC.
Detection completes within the request (AWS takes seconds to minutes): the status reads
DETECTION_COMPLETE at once.
"""
import datetime
import json
import uuid
from typing import Any, Callable

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.utils import get_backend
from moto.cloudformation import models as cfn
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.parsing import clean_json
from moto.cloudformation.responses import CloudFormationResponse, StackSetOperationDTO
from moto.core.responses import ActionResult
from moto.dynamodb.models import dynamodb_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

# "Detect drift on an entire CloudFormation stack": drift detection runs on stacks in these
# statuses only.
DETECTABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
              "UPDATE_ROLLBACK_FAILED"}

# stack id -> {"status": ..., "time": ..., "resources": {logical id: drift}}
_stacks: dict[str, dict[str, Any]] = {}
# detection id -> (stack id, drifted resource count)
_detections: dict[str, tuple[str, int]] = {}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# ---- actual state, per type: the template's property names, or None when the resource is gone --

def _lambda(account: str, region: str, name: str) -> dict[str, Any] | None:
    try:
        # The backend Lambda's API uses (without Docker, moto's "simple" one).
        fn = get_backend(account, region).get_function(name)
    except UnknownFunctionException:
        return None
    return {
        "Timeout": fn.timeout, "MemorySize": fn.memory_size, "Description": fn.description,
        "Runtime": fn.run_time, "Handler": fn.handler,
        "Environment": {"Variables": dict(fn.environment_vars or {})},
    }


def _user_tags(tags: list[dict[str, str]]) -> list[dict[str, str]]:
    # CloudFormation's own aws:cloudformation:* tags are not template properties.
    return [t for t in tags if not t["Key"].startswith("aws:")]


def _table(account: str, region: str, name: str) -> dict[str, Any] | None:
    table = dynamodb_backends[account][region].tables.get(name)
    if table is None:
        return None
    actual: dict[str, Any] = {
        "BillingMode": table.billing_mode or "PROVISIONED",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": (
            table.continuous_backups["PointInTimeRecoveryDescription"][
                "PointInTimeRecoveryStatus"] == "ENABLED")},
        "DeletionProtectionEnabled": bool(table.deletion_protection_enabled),
        "Tags": _user_tags(table.tags or []),
    }
    stream = table.stream_specification or {}
    if stream.get("StreamEnabled"):
        actual["StreamSpecification"] = {"StreamViewType": stream.get("StreamViewType")}
    return actual


def _bucket(account: str, region: str, name: str) -> dict[str, Any] | None:
    backend = s3_backends[account][get_partition(region)]
    bucket = backend.buckets.get(name)
    if bucket is None:
        return None
    actual: dict[str, Any] = {
        "Tags": _user_tags(backend.get_bucket_tagging(name)["Tags"]),
    }
    if bucket.versioning_status:
        actual["VersioningConfiguration"] = {"Status": bucket.versioning_status}
    return actual


READERS: dict[str, Callable[[str, str, str], dict[str, Any] | None]] = {
    "AWS::Lambda::Function": _lambda,
    "AWS::DynamoDB::Table": _table,
    "AWS::S3::Bucket": _bucket,
}
# The properties each reader reports: others set in the template are not compared (AWS compares
# them all; a property missing here would otherwise read as removed).
COMPARED = {
    "AWS::Lambda::Function": {"Timeout", "MemorySize", "Environment", "Description", "Runtime",
                              "Handler"},
    "AWS::DynamoDB::Table": {"BillingMode", "StreamSpecification",
                             "PointInTimeRecoverySpecification", "DeletionProtectionEnabled",
                             "Tags"},
    "AWS::S3::Bucket": {"VersioningConfiguration", "Tags"},
}
# Lists whose order carries no meaning: compared as sets keyed by this member.
KEYED_LISTS = {"Tags": "Key"}


# ---- comparison ------------------------------------------------------------------------------

def _scalar(value: Any) -> str:
    # Templates give numbers and booleans as strings ("30", "true"); the schema's type decides.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _differences(path: str, expected: Any, actual: Any) -> list[dict[str, str]]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            sub = f"{path}/{key}"
            if key not in actual:
                found.append(_difference(sub, expected[key], None, "REMOVE"))
            elif key not in expected:
                found.append(_difference(sub, None, actual[key], "ADD"))
            else:
                found.extend(_differences(sub, expected[key], actual[key]))
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        key = KEYED_LISTS.get(path.rsplit("/", 1)[-1])
        if key:
            expected = sorted(expected, key=lambda item: str(item.get(key)))
            actual = sorted(actual, key=lambda item: str(item.get(key)))
        found = []
        for i in range(max(len(expected), len(actual))):
            sub = f"{path}/{i}"
            if i >= len(actual):
                found.append(_difference(sub, expected[i], None, "REMOVE"))
            elif i >= len(expected):
                found.append(_difference(sub, None, actual[i], "ADD"))
            else:
                found.extend(_differences(sub, expected[i], actual[i]))
        return found
    if isinstance(expected, (dict, list)) or isinstance(actual, (dict, list)) or (
            _scalar(expected) != _scalar(actual)):
        return [_difference(path, expected, actual, "NOT_EQUAL")]
    return []


def _difference(path: str, expected: Any, actual: Any, kind: str) -> dict[str, str]:
    def text(value: Any) -> str:
        return "null" if value is None else (
            json.dumps(value) if isinstance(value, (dict, list)) else _scalar(value))

    return {"PropertyPath": path, "ExpectedValue": text(expected), "ActualValue": text(actual),
            "DifferenceType": kind}


def _check(stack: Any, logical_id: str) -> dict[str, Any]:
    definition = stack.resource_map._resource_json_map[logical_id]
    kind = definition["Type"]
    resource = stack.resource_map._parsed_resources.get(logical_id)
    physical = getattr(resource, "physical_resource_id", None)
    drift: dict[str, Any] = {
        "StackId": stack.stack_id, "LogicalResourceId": logical_id, "ResourceType": kind,
        "StackResourceDriftStatus": "NOT_CHECKED", "Timestamp": _now(),
    }
    if physical:
        drift["PhysicalResourceId"] = physical
    reader = READERS.get(kind)
    if reader is None or physical is None:
        return drift
    actual = reader(stack.account_id, stack.region_name, physical)
    if actual is None:
        drift["StackResourceDriftStatus"] = "DELETED"
        return drift
    props = clean_json(definition.get("Properties") or {}, stack.resource_map)
    expected = {k: v for k, v in props.items() if k in COMPARED[kind] and v is not None}
    actual = {k: v for k, v in actual.items() if k in expected}
    differences = _differences("", expected, actual)
    drift.update({
        "ExpectedProperties": json.dumps(expected, sort_keys=True, default=str),
        "ActualProperties": json.dumps(actual, sort_keys=True, default=str),
        "PropertyDifferences": differences,
        "StackResourceDriftStatus": "MODIFIED" if differences else "IN_SYNC",
    })
    return drift


def _record(stack: Any, drifts: list[dict[str, Any]]) -> int:
    state = _stacks.setdefault(stack.stack_id, {"resources": {}})
    for drift in drifts:
        state["resources"][drift["LogicalResourceId"]] = drift
    drifted = sum(d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED")
                  for d in state["resources"].values())
    state.update(status="DRIFTED" if drifted else "IN_SYNC", time=_now())
    return drifted


def _stack(backend: Any, name: str) -> Any:
    stack = backend.get_stack(name)  # ValidationError "Stack with id ... does not exist"
    if stack.status not in DETECTABLE:
        raise ValidationError(name, message=(
            f"Drift detection cannot be performed on stack [{name}] in status {stack.status}"))
    return stack


def _present(stack: Any) -> list[str]:
    # Resources that the stack made: skipped conditions and types moto lacks are not there.
    return [lid for lid in stack.resource_map._resource_json_map
            if stack.resource_map._parsed_resources.get(lid) is not None]


def detect_stack(stack: Any, logical_ids: list[str] | None = None) -> str:
    ids = _present(stack)
    if logical_ids:
        unknown = sorted(set(logical_ids) - set(ids))
        if unknown:
            raise ValidationError(stack.name, message=(
                f"Resources {unknown} do not exist in stack [{stack.name}]"))
        ids = [lid for lid in ids if lid in logical_ids]
    drifted = _record(stack, [_check(stack, lid) for lid in ids])
    detection = str(uuid.uuid4())
    _detections[detection] = (stack.stack_id, drifted)
    return detection


# ---- the API ---------------------------------------------------------------------------------

def _detect_stack_drift(self: CloudFormationResponse) -> ActionResult:
    stack = _stack(self.cloudformation_backend, self._get_param("StackName"))
    detection = detect_stack(stack, self._get_param("LogicalResourceIds") or None)
    return ActionResult({"StackDriftDetectionId": detection})


def _describe_stack_drift_detection_status(self: CloudFormationResponse) -> ActionResult:
    detection = self._get_param("StackDriftDetectionId")
    if detection not in _detections:
        raise ValidationError(detection, message=(
            f"Drift detection ID [{detection}] does not exist"))
    stack_id, drifted = _detections[detection]
    state = _stacks[stack_id]
    return ActionResult({
        "StackId": stack_id, "StackDriftDetectionId": detection,
        "StackDriftStatus": "DRIFTED" if drifted else "IN_SYNC",
        "DetectionStatus": "DETECTION_COMPLETE", "DriftedStackResourceCount": drifted,
        "Timestamp": state["time"],
    })


def _describe_stack_resource_drifts(self: CloudFormationResponse) -> ActionResult:
    name = self._get_param("StackName")
    stack = self.cloudformation_backend.get_stack(name)
    wanted = set(self._get_param("StackResourceDriftStatusFilters") or [])
    drifts = [d for d in _stacks.get(stack.stack_id, {}).get("resources", {}).values()
              if not wanted or d["StackResourceDriftStatus"] in wanted]
    return ActionResult({"StackResourceDrifts": drifts})


def _detect_stack_resource_drift(self: CloudFormationResponse) -> ActionResult:
    stack = _stack(self.cloudformation_backend, self._get_param("StackName"))
    logical_id = self._get_param("LogicalResourceId")
    if logical_id not in _present(stack):
        raise ValidationError(logical_id, message=(
            f"Resource [{logical_id}] does not exist in stack [{stack.name}]"))
    drift = _check(stack, logical_id)
    _record(stack, [drift])
    return ActionResult({"StackResourceDrift": drift})


def _drift_information(stack: Any) -> dict[str, Any]:
    state = _stacks.get(stack.stack_id)
    if state is None:
        return {"StackDriftStatus": "NOT_CHECKED"}
    return {"StackDriftStatus": state["status"], "LastCheckTimestamp": state["time"]}


# ---- StackSets: "Detecting unmanaged configuration changes in stack sets" (docs.aws.amazon.com/
# AWSCloudFormation/latest/UserGuide/stacksets-drift.html): each instance's stack is checked in
# its own account and region; the set is DRIFTED if any instance is.

def _detect_stack_set_drift(self: CloudFormationResponse) -> ActionResult:
    backend = self.cloudformation_backend
    stack_set = backend.describe_stack_set(self._get_param("StackSetName"))
    drifted = 0
    for instance in stack_set.instances.stack_instances:
        # The instance's stack, in its own account and region.
        detect_stack(instance.stack)
        drifted += _stacks[instance.stack.stack_id]["status"] == "DRIFTED"
    operation_id = str(uuid.uuid4())
    now = _now()
    stack_set.operations.append({
        "OperationId": operation_id, "Action": "DETECT_DRIFT", "Status": "SUCCEEDED",
        "CreationTimestamp": now, "EndTimestamp": now, "Instances": [],
        "StackSetDriftDetectionDetails": {
            "DriftStatus": "DRIFTED" if drifted else "IN_SYNC",
            "DriftDetectionStatus": "COMPLETED", "LastDriftCheckTimestamp": now,
            "TotalStackInstancesCount": len(stack_set.instances.stack_instances),
            "DriftedStackInstancesCount": drifted,
            "InSyncStackInstancesCount": len(stack_set.instances.stack_instances) - drifted,
            "InProgressStackInstancesCount": 0, "FailedStackInstancesCount": 0,
        },
    })
    return ActionResult({"OperationId": operation_id})


def install() -> None:
    CloudFormationResponse.detect_stack_drift = _detect_stack_drift
    CloudFormationResponse.describe_stack_drift_detection_status = (
        _describe_stack_drift_detection_status)
    CloudFormationResponse.describe_stack_resource_drifts = _describe_stack_resource_drifts
    CloudFormationResponse.detect_stack_resource_drift = _detect_stack_resource_drift
    CloudFormationResponse.detect_stack_set_drift = _detect_stack_set_drift
    cfn.Stack.drift_information = property(_drift_information)
    moto_dto = StackSetOperationDTO.__init__

    def dto(self: StackSetOperationDTO, operation: dict[str, Any], stack_set: Any) -> None:
        moto_dto(self, operation, stack_set)
        self.stack_set_drift_detection_details = operation.get("StackSetDriftDetectionDetails")

    StackSetOperationDTO.__init__ = dto
