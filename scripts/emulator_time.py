"""AWS's clock, scaled down (opt-in): `MRAA_EMULATOR_TIME_SCALE=60` (or emulator.py
--time-scale 60) makes each long AWS operation report its in-progress status for its AWS
duration divided by the scale. Off (0, the default), every operation completes at once.

moto does an operation's work inside the request; what lags here is the *reported* status, and
the reads that depend on it (a stack's outputs appear with CREATE_COMPLETE), so that a client's
waiters and backoff meet AWS's timing. Durations (seconds, before scaling), with their sources:
"""
import os
import threading
import time
from typing import Any, Hashable

# A stack: a fixed part, plus each resource's provisioning and stabilization. AWS's CloudFormation
# team describes both phases and their cost per resource in "How we sped up AWS CloudFormation
# deployments with optimistic stabilization" (aws.amazon.com/blogs/devops/how-we-sped-up-aws-
# cloudformation-deployments-with-optimistic-stabilization/); a small stack takes under a minute.
STACK_BASE = 30
STACK_PER_RESOURCE = 3
# A StackSet operation: each region's stack instance is a stack run by the StackSet service, about
# 1–2 minutes per region with its own overhead ("StackSets concepts", docs.aws.amazon.com/
# AWSCloudFormation/latest/UserGuide/stacksets-concepts.html: regions run one at a time unless
# RegionConcurrencyType is PARALLEL; aws-solutions/aws-control-tower-customizations issue #12
# reports the per-region cost). The instance's own stack time comes on top of this overhead.
STACK_SET_PER_REGION = 60
# A CloudFront distribution stays InProgress while its configuration propagates, "reliably ...
# within 5 minutes" ("Slashing CloudFront change propagation times in 2020", aws.amazon.com/blogs/
# networking-and-content-delivery/slashing-cloudfront-change-propagation-times-in-2020-recent-
# changes-and-looking-forward/), for a creation, an update and a disable alike.
DISTRIBUTION_DEPLOY = 270
# A global-table replica is CREATING while DynamoDB copies the table to the new region; for a
# small table, minutes ("Adding a new Region to a global table", docs.aws.amazon.com/
# amazondynamodb/latest/developerguide/V2globaltables.tutorial.html; hashicorp/terraform-
# provider-aws issue #40531 waits on it).
REPLICA_CREATE = 300
# A DNS-validated ACM certificate stays PENDING_VALIDATION until ACM sees the CNAME, usually a
# minute or two once the record exists ("DNS validation", docs.aws.amazon.com/acm/latest/
# userguide/dns-validation.html; aws/aws-cdk issue #2914 measured waits of a few minutes).
CERTIFICATE_VALIDATION = 90
# S3 replicates most objects within seconds and 99.99% within 15 minutes with Replication Time
# Control ("Meeting compliance requirements with S3 RTC", docs.aws.amazon.com/AmazonS3/latest/
# userguide/replication-time-control.html); the source reads PENDING until then.
OBJECT_REPLICATION = 15
# A KMS multi-Region replica key is Creating until KMS has copied the key, "after a few seconds"
# by the developer guide ("Create multi-Region replica keys", docs.aws.amazon.com/kms/latest/
# developerguide/multi-region-keys-replicate.html); hashicorp/terraform-provider-aws waits 2
# minutes for it, and its issues #49491 and #49915 report that wait exceeded right after the
# primary key's creation (as here: the bootstrap makes it minutes before). The provider's wait.
REPLICA_KEY_CREATE = 120
# A Cognito replica pool is CREATING while Cognito copies the pool's directory and configuration
# to the replica's region ("Multi-Region replication for user pools", docs.aws.amazon.com/cognito/
# latest/developerguide/user-pool-multi-region.html; UserPoolReplicaType: CREATING, then
# INACTIVE). AWS publishes no duration; its registry schema lets the handler take up to 2,160
# minutes. Charged like a global-table replica, the other copy of a regional store into a new
# region (REPLICA_CREATE).
USER_POOL_REPLICA_CREATE = REPLICA_CREATE
# CloudFormation's own waits on the resources that take the longest (it waits for a distribution
# to deploy, a certificate to be issued and a replica key or pool to exist before the resource is
# CREATE_COMPLETE).
SLOW_RESOURCES = {
    "AWS::CloudFront::Distribution": DISTRIBUTION_DEPLOY,
    "AWS::CertificateManager::Certificate": CERTIFICATE_VALIDATION,
    "AWS::KMS::ReplicaKey": REPLICA_KEY_CREATE,
    "AWS::Cognito::UserPoolReplica": USER_POOL_REPLICA_CREATE,
}


def _scale() -> float:
    try:
        return max(float(os.environ.get("MRAA_EMULATOR_TIME_SCALE") or 0), 0.0)
    except ValueError:
        return 0.0


SCALE = _scale()
_deadlines: dict[Hashable, float] = {}
# (stack set, account, region) -> when its operation reaches it, ends its overhead, completes it
_windows: dict[tuple[str, str, str], tuple[float, float, float]] = {}
_lock = threading.Lock()


def enabled() -> bool:
    return SCALE > 0


def start(key: Hashable, aws_seconds: float) -> None:
    """The operation named `key` takes `aws_seconds` of AWS time from now."""
    if enabled():
        with _lock:
            _deadlines[key] = time.monotonic() + aws_seconds / SCALE


def pending(key: Hashable) -> bool:
    with _lock:
        deadline = _deadlines.get(key)
    return deadline is not None and time.monotonic() < deadline


def created_types(template: dict[str, Any], parameters: dict[str, str],
                  region: str) -> list[str]:
    """The types of the resources a stack creates (created_resources)."""
    return [r.get("Type", "") for r in created_resources(template, parameters, region).values()]


def created_resources(template: dict[str, Any], parameters: dict[str, str],
                      region: str) -> dict[str, Any]:
    """The resources a stack creates, by logical id: those without a Condition, and those whose
    condition holds for the stack's parameters and region ("Conditions syntax", docs.aws.amazon.
    com/AWSCloudFormation/latest/TemplateReference/conditions-section-structure.html). A
    condition this cannot evaluate counts as true: the resource is charged rather than skipped."""
    values = {name: str(spec.get("Default", "")) for name, spec in
              (template.get("Parameters") or {}).items() if isinstance(spec, dict)}
    values.update({k: str(v) for k, v in parameters.items()})
    values["AWS::Region"] = region
    conditions = template.get("Conditions") or {}
    known: dict[str, bool] = {}

    def value(node: Any) -> Any:
        if isinstance(node, dict) and set(node) == {"Ref"}:
            return values.get(node["Ref"], node)
        return node

    def holds(node: Any) -> bool:
        if not isinstance(node, dict) or len(node) != 1:
            return True
        (op, args), = node.items()
        if op in ("Condition", "Fn::Condition"):  # `!Condition` parses to either
            return condition(args)
        if op == "Fn::Equals" and isinstance(args, list) and len(args) == 2:
            left, right = value(args[0]), value(args[1])
            return str(left) == str(right) if not isinstance(left, dict) and not isinstance(
                right, dict) else True
        if op == "Fn::Not" and isinstance(args, list) and len(args) == 1:
            return not holds(args[0])
        if op == "Fn::And" and isinstance(args, list):
            return all(holds(a) for a in args)
        if op == "Fn::Or" and isinstance(args, list):
            return any(holds(a) for a in args)
        return True

    def condition(name: Any) -> bool:
        if not isinstance(name, str) or name not in conditions:
            return True
        if name not in known:
            known[name] = True  # a cycle is the template's error; charge it
            known[name] = holds(conditions[name])
        return known[name]

    return {name: r for name, r in (template.get("Resources") or {}).items()
            if isinstance(r, dict) and ("Condition" not in r or condition(r["Condition"]))}


def stack_seconds(resource_types: list[str]) -> float:
    """A stack operation: fixed part, per resource, plus its slowest resource's own wait."""
    slowest = max((SLOW_RESOURCES.get(t, 0) for t in resource_types), default=0)
    return STACK_BASE + STACK_PER_RESOURCE * len(resource_types) + slowest


def stack_set_seconds(regions: int, parallel: bool) -> float:
    return STACK_SET_PER_REGION * (1 if parallel else max(regions, 1))


def install() -> None:
    """Makes moto's statuses follow the clock. Called once, before the server starts."""
    if not enabled():
        return
    _stacks()
    _stack_sets()
    _distributions()
    _certificates()


def _stack_types(stack: Any) -> list[str]:
    """What the stack creates, by its template, parameters and region."""
    return created_types(getattr(stack, "template_dict", {}) or {},
                         dict(getattr(stack, "parameters", {}) or {}),
                         getattr(stack, "region_name", ""))


IN_PROGRESS = {"CREATE_COMPLETE": "CREATE_IN_PROGRESS", "UPDATE_COMPLETE": "UPDATE_IN_PROGRESS",
               "DELETE_COMPLETE": "DELETE_IN_PROGRESS"}


def _stacks() -> None:
    from moto.cloudformation import models as cfn

    def get_status(stack: Any) -> str:
        status = stack.__dict__.get("_status")
        if status in IN_PROGRESS and pending(("stack", stack.stack_id)):
            return IN_PROGRESS[status]
        return status

    def set_status(stack: Any, status: str) -> None:
        if status in IN_PROGRESS:
            start(("stack", stack.stack_id), stack_seconds(_stack_types(stack)))
        stack.__dict__["_status"] = status

    cfn.Stack.status = property(get_status, set_status)

    moto_outputs = cfn.Stack.outputs

    def lagging_outputs(stack: Any) -> Any:
        # Outputs exist once the stack is CREATE_COMPLETE (DescribeStacks, Outputs).
        if stack.status == "CREATE_IN_PROGRESS":
            return []
        return moto_outputs.fget(stack)

    cfn.Stack.outputs = property(lagging_outputs)

    moto_describe = cfn.CloudFormationBackend.describe_stacks

    def describe_stacks(backend: Any, name_or_stack_id: str) -> Any:
        try:
            return moto_describe(backend, name_or_stack_id)
        except Exception:
            # A stack being deleted is still found by its name until DELETE_COMPLETE.
            for stack in backend.deleted_stacks.values():
                if stack.name == name_or_stack_id and stack.status == "DELETE_IN_PROGRESS":
                    return [stack]
            raise

    cfn.CloudFormationBackend.describe_stacks = describe_stacks


_preferences = threading.local()


def _stack_sets() -> None:
    from moto.cloudformation import models as cfn
    from moto.cloudformation.responses import CloudFormationResponse

    for name in ("create_stack_instances", "update_stack_instances", "delete_stack_instances",
                 "update_stack_set"):
        moto_handler = getattr(CloudFormationResponse, name)

        def handler(response: Any, _moto: Any = moto_handler) -> Any:
            _preferences.parallel = response._get_param(
                "OperationPreferences.RegionConcurrencyType") == "PARALLEL"
            # AWS's operation starts with the call and runs on its own; moto makes the instance
            # stacks inside the request (a third of a second for a small template), so the clock
            # counts from the request's arrival, not from the end of moto's work.
            _preferences.received = time.monotonic()
            try:
                return _moto(response)
            finally:
                _preferences.received = None

        setattr(CloudFormationResponse, name, handler)

    moto_create = cfn.StackSet._create_operation

    def create_operation(stack_set: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        operation = moto_create(stack_set, *args, **kwargs)
        regions = list(kwargs.get("regions") or [])
        parallel = getattr(_preferences, "parallel", False)
        if operation["Action"] == "DELETE":
            start(("stack-set-operation", operation["OperationId"]),
                  stack_set_seconds(len(regions), parallel))
            return operation
        # Each region: its overhead, then its instances' stacks; one region after another
        # unless PARALLEL. The operation ends with the last region.
        begun = now = getattr(_preferences, "received", None) or time.monotonic()
        for region in regions:
            ends = [begun + STACK_SET_PER_REGION / SCALE]
            for account in kwargs.get("accounts") or []:
                instance = stack_set.instances.get_instance(account, region)
                if instance is None:
                    continue
                stack = instance.stack
                end = ends[0] + stack_seconds(_stack_types(stack)) / SCALE
                with _lock:
                    _windows[(stack_set.name, account, region)] = (begun, ends[0], end)
                    if operation["Action"] == "CREATE":
                        _deadlines[("stack", stack.stack_id)] = end
                ends.append(end)
            if not parallel:
                begun = max(ends)
            now = max(now, max(ends))
        with _lock:
            _deadlines[("stack-set-operation", operation["OperationId"])] = now
        return operation

    cfn.StackSet._create_operation = create_operation

    moto_instance = cfn.StackInstance.to_dict

    def instance_dict(instance: Any) -> dict[str, Any]:
        # StackInstanceSummary: OUTDATED while an operation has yet to reach it (PENDING) or
        # runs it (RUNNING); CURRENT and SUCCEEDED once its stack is complete.
        result = moto_instance(instance)
        with _lock:
            window = _windows.get((instance.name, instance.account_id, instance.region_name))
        clock = time.monotonic()
        if window is not None and clock < window[2]:
            result["Status"] = "OUTDATED"
            result["StackInstanceStatus"] = {
                "DetailedStatus": "PENDING" if clock < window[0] else "RUNNING"}
        return result

    cfn.StackInstance.to_dict = instance_dict

    def lagging(operation: dict[str, Any]) -> dict[str, Any]:
        if pending(("stack-set-operation", operation["OperationId"])):
            operation = {k: v for k, v in operation.items() if k != "EndTimestamp"}
            operation["Status"] = "RUNNING"
        return operation

    moto_describe = cfn.CloudFormationBackend.describe_stack_set_operation
    moto_list = cfn.CloudFormationBackend.list_stack_set_operations
    def describe(backend: Any, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        stack_set, operation = moto_describe(backend, *args, **kwargs)
        return stack_set, lagging(operation)

    cfn.CloudFormationBackend.describe_stack_set_operation = describe
    cfn.CloudFormationBackend.list_stack_set_operations = (
        lambda backend, *a, **k: [lagging(o) for o in moto_list(backend, *a, **k)])


def _distributions() -> None:
    from moto.cloudfront import models as cf

    def status(dist: Any) -> str:
        return "InProgress" if pending(("distribution", dist.id)) else "Deployed"

    cf.Distribution.status = property(status, lambda dist, value: None)

    for name in ("create_distribution_with_tags", "update_distribution"):
        moto_method = getattr(cf.CloudFrontBackend, name)

        def deploying(backend: Any, *args: Any, _moto: Any = moto_method, **kwargs: Any) -> Any:
            result = _moto(backend, *args, **kwargs)
            start(("distribution", result[0].id), DISTRIBUTION_DEPLOY)
            return result

        setattr(cf.CloudFrontBackend, name, deploying)


def _certificates() -> None:
    from moto.acm import models as acm

    moto_describe = acm.CertBundle.describe

    def describe(bundle: Any) -> dict[str, Any]:
        result = moto_describe(bundle)
        if pending(("certificate", bundle.arn)):
            result["Certificate"]["Status"] = "PENDING_VALIDATION"
        return result

    acm.CertBundle.describe = describe


# ---- Asynchronous replication, health checks and replica status ------------------------------
# These are not operations whose in-progress status lags: they are delays between a write and
# what another region (or Route 53, or Cognito) reports, applied with the clock off too.

# A global table replicates each write to the other replicas asynchronously; CloudWatch's
# ReplicationLatency is "the elapsed time between when an item is written to a replica table,
# and when that item appears in another replica" ("Monitoring global tables", docs.aws.amazon.com/
# amazondynamodb/latest/developerguide/V2globaltables_monitoring.html), in practice around a
# second between distant regions. Real seconds, not scaled: scaled down it would fall below one
# request's round trip and hide the asynchrony it stands for. Set with
# MRAA_EMULATOR_REPLICATION_LAG (emulator.py --replication-lag).
REPLICATION_LAG_CLOCK_OFF = 0.25
REPLICATION_LAG_CLOCK_ON = 1.0


# Per-account lags set through the emulator's control endpoint (emulator_metrics.py), so that a
# test can stall one account's replication; the figure CloudWatch publishes is the same one.
_lag_overrides: dict[str, float] = {}


def set_replication_lag(account: str, seconds: float) -> None:
    with _lock:
        _lag_overrides[account] = seconds


def replication_lag(account: str | None = None) -> float:
    """Real seconds between a write to one replica and its copy in the others."""
    with _lock:
        if account in _lag_overrides:
            return _lag_overrides[account]
    try:
        given = os.environ.get("MRAA_EMULATOR_REPLICATION_LAG")
        if given not in (None, ""):
            return max(float(given), 0.0)
    except ValueError:
        pass
    return REPLICATION_LAG_CLOCK_ON if enabled() else REPLICATION_LAG_CLOCK_OFF


# Route 53 health checks: each checker probes every RequestInterval seconds (10 or 30, default
# 30) and changes its verdict after FailureThreshold consecutive probes that disagree with it
# (1-10, default 3) (HealthCheckConfig, Route 53 API Reference; "How Amazon Route 53 determines
# whether a health check is healthy", docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-
# failover-determining-health-of-endpoints.html). With the clock on a round comes every
# RequestInterval / SCALE real seconds; with it off, each read of the check is one round.
HEALTH_CHECK_INTERVAL = 30
HEALTH_CHECK_FAILURE_THRESHOLD = 3

# A Cognito user pool replica: CREATING, then INACTIVE (USER_POOL_REPLICA_CREATE above); ACTIVE
# <-> INACTIVE on UpdateUserPoolReplica, asynchronously (UserPoolReplicaType, Cognito API
# Reference). AWS publishes no duration for the status change; this is an assumption of the order
# of a configuration change, marked as such. With the clock off, a change lands once a read has
# reported the old status (emulator_cognito_replica.py).
USER_POOL_REPLICA_STATUS_CHANGE = 30  # assumption, no AWS figure
