"""Cognito's multi-Region replication of user pools, and the multi-Region KMS keys it needs, on
moto's own backends (moto 5.2.5 has neither the replica operations nor a faithful ReplicateKey).

The rules followed, from "Multi-Region replication for user pools" (docs.aws.amazon.com/cognito/
latest/developerguide/user-pool-multi-region.html) and the API Reference pages of
CreateUserPoolReplica, UpdateUserPoolReplica, ListUserPoolReplicas, DeleteUserPoolReplica and
UserPoolReplicaType (docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/):
- the replica is a user pool in another region with the same pool id; the user directory is
  shared (users, passwords, groups, app clients), so a user created in the primary signs in
  against the secondary with the same password;
- the pool needs the Essentials or Plus feature plan (FeatureUnavailableInTierException) and a
  multi-Region customer managed KMS key that is available in the replica's region;
- each pool has at most one secondary replica; a new one is CREATING, then INACTIVE; a status
  set by UpdateUserPoolReplica (ACTIVE <-> INACTIVE) lands later, the old status read until then
  (UserPoolReplicaType; durations: emulator_time on the clock; with it off, a change lands
  once a ListUserPoolReplicas has reported the old status);
- INACTIVE: no end-user requests (sign-in, tokens), administrator configuration only;
- SECONDARY: no user creation (AdminCreateUser, SignUp) and no change to a user (password reset,
  attributes); only regional settings (email, SMS, Lambda triggers, tags) can be set there, the
  rest comes from the primary. The API Reference names OperationNotEnabledException for
  "operations that are not supported in secondary replica regions": the emulator answers it for
  all of these refusals;
- the directory is written in the primary and read in the replica after replication, which is
  asynchronous ("replicates ... from the primary user pool to the secondary"): an attribute
  change (AdminUpdateUserAttributes) reads in the replica (AdminGetUser, GetUser) only after the
  users' lag (user_lag: set by the lag control of emulator_metrics.py, by default the emulator's
  replication lag, emulator_time.replication_lag), the old attributes until then;
- UpdateUserPoolReplica works from either region (so a failover can call only the secondary);
  DeleteUserPoolReplica only from the primary, and only for an INACTIVE replica.

KMS ReplicateKey ("ReplicateKey", docs.aws.amazon.com/kms/latest/APIReference/
API_ReplicateKey.html): only a multi-Region primary key can be replicated
(UnsupportedOperationException), into another region with no replica of it yet
(AlreadyExistsException). moto shares one MultiRegionConfiguration between primary and replica
and then reports both as REPLICA; the replica gets its own copy here.
"""
import copy
import time
from typing import Any

from moto.cognitoidp import models as idp
from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.kms import models as kms
from moto.kms.exceptions import AlreadyExistsException, NotFoundException

import emulator_time

# Settings a replica keeps for itself (the guide's list, as UpdateUserPool names them).
REGIONAL = ("EmailConfiguration", "SmsConfiguration", "LambdaConfig", "UserPoolTags")


class OperationNotEnabled(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("OperationNotEnabledException", message)


class FeatureUnavailableInTier(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("FeatureUnavailableInTierException", message)


class UnsupportedOperation(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("UnsupportedOperationException", message)


class ReplicaPool(idp.CognitoIdpUserPool):
    """The secondary's pool: moto's pool object with the primary's user directory (the same
    dictionaries), its own region, ARN, status and regional settings; every other setting is read
    through from the primary, as Cognito syncs it."""

    # moto files model classes under the service named by the module path's second part.
    __module__ = "emulator_cognito_replica.cognitoidp"

    def __init__(self, primary: idp.CognitoIdpUserPool, region: str, tags: dict[str, str]):
        # Not moto's __init__: that would make a new pool with a new id and directory.
        self.__dict__.update({k: v for k, v in primary.__dict__.items() if k != "extended_config"})
        self.primary = primary
        self.region = region
        self.arn = primary.arn.replace(f":{primary.region}:", f":{region}:")
        self._status = "CREATING"
        self._next: tuple[str, float] | None = None
        self._schedule("INACTIVE", time.monotonic(), emulator_time.USER_POOL_REPLICA_CREATE)
        self.regional: dict[str, Any] = {"UserPoolTags": dict(tags)}

    def _schedule(self, status: str, start: float, aws_seconds: float) -> None:
        # With the clock off, a change lands once a ListUserPoolReplicas has reported the old
        # status (observed()): never inside the request that asked for it, whatever the timing.
        due = start + aws_seconds / emulator_time.SCALE if emulator_time.enabled() else float("inf")
        self._next = (status, due)

    def observed(self) -> None:
        if self._next is not None and not emulator_time.enabled():
            self._next = (self._next[0], time.monotonic())

    @property
    def replica_status(self) -> str:
        """The status Cognito reports now: a change lands once its time has passed."""
        if self._next is not None and time.monotonic() >= self._next[1]:
            self._status, self._next = self._next[0], None
        return self._status

    def change(self, status: str) -> None:
        """UpdateUserPoolReplica's status change: asynchronous, after the creation if the replica
        is still CREATING; the status read until then is the old one."""
        current = self.replica_status
        if current == status and self._next is None:
            return
        start = self._next[1] if self._next is not None else time.monotonic()
        if start == float("inf"):
            start = time.monotonic()  # clock off: lands with the next observation anyway
        self._schedule(status, start, emulator_time.USER_POOL_REPLICA_STATUS_CHANGE)

    def settle(self) -> None:
        """Lands the pending change now: CloudFormation's handler waits for it before it reports
        the resource complete (a handler returns SUCCESS only once the resource is stabilized,
        "Resource type handler contract", docs.aws.amazon.com/cloudformation-cli/latest/
        userguide/resource-type-test-contract.html)."""
        if self._next is not None:
            self._status, self._next = self._next[0], None

    @property  # type: ignore[override]
    def extended_config(self) -> dict[str, Any]:
        shared = {k: v for k, v in self.primary.extended_config.items() if k not in REGIONAL}
        return {**shared, **self.regional}

    @extended_config.setter
    def extended_config(self, value: dict[str, Any]) -> None:
        self.regional = {k: v for k, v in value.items() if k in REGIONAL}


# (account, pool id) -> the replica; a pool has at most one.
_replicas: dict[tuple[str, str], ReplicaPool] = {}


def replica_of(account: str, pool_id: str) -> ReplicaPool | None:
    return _replicas.get((account, pool_id))


def _entry(region: str, role: str, status: str, arn: str) -> dict[str, str]:
    return {"RegionName": region, "Role": role, "Status": status, "UserPoolArn": arn}


def _entries(primary: idp.CognitoIdpUserPool, replica: ReplicaPool | None) -> list[dict]:
    entries = [_entry(primary.region, "PRIMARY", "ACTIVE", primary.arn)]
    if replica is not None:
        entries.append(_entry(replica.region, "SECONDARY", replica.replica_status, replica.arn))
    return entries


def _primary_of(account: str, region: str, pool_id: str) -> idp.CognitoIdpUserPool:
    pool = idp.cognitoidp_backends[account][region].describe_user_pool(pool_id)
    return pool.primary if isinstance(pool, ReplicaPool) else pool


def _check_key(account: str, pool: idp.CognitoIdpUserPool, region: str) -> None:
    config = pool.extended_config.get("KeyConfiguration") or {}
    arn = config.get("KmsKeyArn") or ""
    if config.get("KeyType") != "CUSTOMER_MANAGED_KEY" or not arn:
        raise InvalidParameterException(
            "Multi-Region replication needs the user pool encrypted with a multi-Region "
            "customer managed KMS key")
    key_id = arn.rsplit("/", 1)[-1]
    key = kms.kms_backends[account][pool.region].keys.get(key_id)
    if key is None or not key.multi_region:
        raise InvalidParameterException(f"{arn} is not a multi-Region KMS key of this account")
    if key_id not in kms.kms_backends[account][region].keys:
        raise InvalidParameterException(f"the KMS key {key_id} has no replica in {region}")


def create_replica(account: str, region: str, pool_id: str, replica_region: str,
                   tags: dict[str, str]) -> ReplicaPool:
    backend = idp.cognitoidp_backends[account][region]
    pool = backend.describe_user_pool(pool_id)
    if isinstance(pool, ReplicaPool):
        raise OperationNotEnabled("CreateUserPoolReplica is called in the primary region")
    if replica_region == region:
        raise InvalidParameterException("The replica region must differ from the primary's")
    if (pool.extended_config.get("UserPoolTier") or "ESSENTIALS") not in ("ESSENTIALS", "PLUS"):
        raise FeatureUnavailableInTier(
            "Multi-Region replication needs the Essentials or Plus feature plan")
    if replica_of(account, pool_id) is not None:
        raise InvalidParameterException("The user pool already has a secondary replica")
    _check_key(account, pool, replica_region)
    replica = ReplicaPool(pool, replica_region, tags)
    idp.cognitoidp_backends[account][replica_region].user_pools[pool_id] = replica
    _replicas[(account, pool_id)] = replica
    return replica


def _replica_in(account: str, pool_id: str, replica_region: str) -> ReplicaPool:
    replica = replica_of(account, pool_id)
    if replica is None or replica.region != replica_region:
        raise ResourceNotFoundError(f"User pool {pool_id} has no replica in {replica_region}.")
    return replica


def set_status(account: str, region: str, pool_id: str, replica_region: str,
               status: str) -> ReplicaPool:
    _primary_of(account, region, pool_id)  # the pool must exist where the call is made
    if status not in ("ACTIVE", "INACTIVE"):
        raise InvalidParameterException("Status must be ACTIVE or INACTIVE")
    replica = _replica_in(account, pool_id, replica_region)
    replica.change(status)
    return replica


def delete_replica(account: str, region: str, pool_id: str, replica_region: str) -> ReplicaPool:
    pool = idp.cognitoidp_backends[account][region].describe_user_pool(pool_id)
    if isinstance(pool, ReplicaPool):
        raise OperationNotEnabled("DeleteUserPoolReplica is called in the primary region")
    replica = _replica_in(account, pool_id, replica_region)
    if replica.replica_status != "INACTIVE":
        raise InvalidParameterException("Only an INACTIVE replica can be deleted")
    idp.cognitoidp_backends[account][replica_region].user_pools.pop(pool_id, None)
    del _replicas[(account, pool_id)]
    return replica


# ---- the API --------------------------------------------------------------------------------
def create_user_pool_replica(self: CognitoIdpResponse) -> Any:
    replica = create_replica(self.current_account, self.region, self._get_param("UserPoolId"),
                             self._get_param("RegionName"), self._get_param("UserPoolTags") or {})
    return ActionResult({"UserPoolReplica": _entries(replica.primary, replica)[1]})


def update_user_pool_replica(self: CognitoIdpResponse) -> Any:
    replica = set_status(self.current_account, self.region, self._get_param("UserPoolId"),
                         self._get_param("RegionName"), self._get_param("Status"))
    return ActionResult({"UserPoolReplica": _entries(replica.primary, replica)[1]})


def list_user_pool_replicas(self: CognitoIdpResponse) -> Any:
    pool_id = self._get_param("UserPoolId")
    primary = _primary_of(self.current_account, self.region, pool_id)
    replica = replica_of(self.current_account, pool_id)
    result = ActionResult({"UserPoolReplicas": _entries(primary, replica)})
    if replica is not None:
        replica.observed()
    return result


def delete_user_pool_replica(self: CognitoIdpResponse) -> Any:
    replica = delete_replica(self.current_account, self.region, self._get_param("UserPoolId"),
                             self._get_param("RegionName"))
    entry = _entries(replica.primary, replica)[1]
    return ActionResult({"UserPoolReplica": {**entry, "Status": "DELETING"}})


# ---- what a replica refuses -----------------------------------------------------------------
# Calls that create or change a user, or change the shared configuration: never in a secondary.
WRITES = ("admin_create_user", "sign_up", "admin_set_user_password",
          "admin_update_user_attributes", "admin_delete_user", "admin_reset_user_password",
          "admin_confirm_sign_up", "forgot_password", "confirm_forgot_password",
          "change_password", "update_user_attributes", "delete_user", "create_user_pool_client",
          "update_user_pool_client", "delete_user_pool_client", "create_group")
# End-user calls: refused while the replica is INACTIVE.
END_USER = ("initiate_auth", "admin_initiate_auth", "respond_to_auth_challenge",
            "admin_respond_to_auth_challenge", "get_user", "global_sign_out")


def _pool_of_call(backend: idp.CognitoIdpBackend, args: tuple, kwargs: dict) -> Any:
    """The pool a backend call acts on, found from its user pool id, client id or token."""
    values = [*args, *kwargs.values()]
    for value in values:
        if isinstance(value, str) and value in backend.user_pools:
            return backend.user_pools[value]
    for value in values:
        if not isinstance(value, str):
            continue
        for pool in backend.user_pools.values():
            if value in pool.clients or value in pool.access_tokens:
                return pool
    return None


def _guarded(name: str, refuse_always: bool) -> Any:
    original = getattr(idp.CognitoIdpBackend, name)

    def guarded(self: idp.CognitoIdpBackend, *args: Any, **kwargs: Any) -> Any:
        pool = _pool_of_call(self, args, kwargs)
        if isinstance(pool, ReplicaPool):
            if refuse_always:
                raise OperationNotEnabled(
                    f"{name} is not supported in the secondary replica region {pool.region}")
            if pool.replica_status != "ACTIVE":
                raise OperationNotEnabled(
                    f"The replica of {pool.id} in {pool.region} is {pool.replica_status}: "
                    "it accepts no end-user requests")
        return original(self, *args, **kwargs)

    return guarded


_moto_update_pool = idp.CognitoIdpBackend.update_user_pool
_moto_delete_pool = idp.CognitoIdpBackend.delete_user_pool


def _update_pool(self: idp.CognitoIdpBackend, user_pool_id: str, config: dict) -> None:
    pool = self.describe_user_pool(user_pool_id)
    if not isinstance(pool, ReplicaPool):
        return _moto_update_pool(self, user_pool_id, config)
    shared = sorted(k for k in config if k not in REGIONAL and k != "UserPoolId")
    if shared:
        raise OperationNotEnabled(
            f"only regional settings can be set on a secondary replica, not {', '.join(shared)}")
    pool.regional = {k: v for k, v in config.items() if k in REGIONAL}
    return None


def _delete_pool(self: idp.CognitoIdpBackend, user_pool_id: str) -> None:
    if isinstance(self.user_pools.get(user_pool_id), ReplicaPool):
        raise OperationNotEnabled(
            "A secondary replica is deleted with DeleteUserPoolReplica in the primary region")
    if replica_of(self.account_id, user_pool_id) is not None:
        # Not stated by the pages above; the stricter order (replica, then pool) is one that
        # works on AWS either way, and the replica would otherwise be left serving a lost pool.
        raise InvalidParameterException("Delete the user pool's replica first")
    return _moto_delete_pool(self, user_pool_id)


# moto answers unauthenticated calls (by client id or token) from whichever region holds the
# client first; with a replica both regions hold it, and the request's own region must answer.
_moto_by_client = idp.RegionAgnosticBackend._find_backend_for_clientid
_moto_by_token = idp.RegionAgnosticBackend._find_backend_by_access_token


def _answering(self: idp.RegionAgnosticBackend, held: Any) -> idp.CognitoIdpBackend | None:
    """The request's region's backend when it holds the client or token. An unsigned request to
    a loopback endpoint names no region (moto then assumes us-east-1): with a replica that is
    ambiguous, and answering from the wrong region would be a false success, so it is refused."""
    own = idp.cognitoidp_backends[self.account_id][self.region_name]
    holds = any(held(p) for p in own.user_pools.values())
    if holds and not getattr(self, "region_named", True):
        others = [r for r, b in idp.cognitoidp_backends[self.account_id].items()
                  if r not in ("global", self.region_name)
                  and any(held(p) for p in b.user_pools.values())]
        if others:
            raise InvalidParameterException(
                "The emulator cannot tell which region this unsigned request is for (the "
                f"client is in {self.region_name} and {', '.join(others)}): sign it, or send "
                "it to a regional host name")
    return own if holds else None


def _by_client(self: idp.RegionAgnosticBackend, client_id: str) -> idp.CognitoIdpBackend:
    own = _answering(self, lambda pool: client_id in pool.clients)
    return own if own is not None else _moto_by_client(self, client_id)


def _by_token(self: idp.RegionAgnosticBackend, access_token: str) -> idp.CognitoIdpBackend:
    own = _answering(self, lambda pool: access_token in pool.access_tokens)
    return own if own is not None else _moto_by_token(self, access_token)


_moto_agnostic = CognitoIdpResponse._get_region_agnostic_backend


def _agnostic(self: CognitoIdpResponse) -> idp.RegionAgnosticBackend:
    backend = _moto_agnostic(self)
    # moto's own order (CognitoIdpResponse.get_region_from_url): host, user agent, signature.
    backend.region_named = bool(
        self.region_regex.search(self.uri)
        or self.region_from_useragent_regex.search(self.headers.get("User-Agent", ""))
        or "AWS4" in self.headers.get("Authorization", ""))
    return backend


# ---- KMS ReplicateKey ------------------------------------------------------------------------
_moto_replicate = kms.KmsBackend.replicate_key


def _replicate_key(self: kms.KmsBackend, key_id: str, replica_region: str) -> Any:
    key = self.keys.get(self.get_key_id(key_id))
    if key is None:
        raise NotFoundException(f"Key '{key_id}' does not exist")
    if not key.multi_region or key.arn != key.multi_region_configuration["PrimaryKey"]["Arn"]:
        raise UnsupportedOperation(f"{key.arn} is not a multi-Region primary key")
    if replica_region == self.region_name or key.id in kms.kms_backends[
            self.account_id][replica_region].keys:
        raise AlreadyExistsException(f"{key.id} already exists in {replica_region}")
    replica = _moto_replicate(self, key.id, replica_region)
    # Each key its own configuration and state (moto shares the primary's).
    key.multi_region_configuration = copy.deepcopy(replica.multi_region_configuration)
    replica.multi_region_configuration = copy.deepcopy(replica.multi_region_configuration)
    replica.multi_region_configuration["MultiRegionKeyType"] = "REPLICA"
    return replica


# ---- the replica's view of the directory ---------------------------------------------------
# (account, pool id, username) -> [(due, the attributes the replica reads until then)], oldest
# first: each attribute change made in the primary while the pool has a replica.
_in_flight: dict[tuple[str, str, str], list[tuple[float, list[dict[str, str]]]]] = {}
_user_lags: dict[str, float] = {}


def user_lag(account: str) -> float:
    """Real seconds until a change of the primary's directory reads in the replica."""
    return _user_lags.get(account, emulator_time.replication_lag(None))


def set_user_lag(account: str, seconds: float) -> None:
    _user_lags[account] = seconds


def _lagged_view(account: str, pool_id: str, username: str) -> list[dict[str, str]] | None:
    """The attributes the replica still reads for a user, or None when it is caught up."""
    key = (account, pool_id, username)
    now = time.monotonic()
    pending = [entry for entry in _in_flight.get(key, []) if entry[0] > now]
    if pending:
        _in_flight[key] = pending
        return pending[0][1]
    _in_flight.pop(key, None)
    return None


_moto_admin_get_user = idp.CognitoIdpBackend.admin_get_user


def _admin_get_user(self: idp.CognitoIdpBackend, user_pool_id: str, username: str) -> Any:
    user = _moto_admin_get_user(self, user_pool_id, username)
    pool = self.user_pools.get(user_pool_id)
    if isinstance(pool, ReplicaPool):
        old = _lagged_view(self.account_id, user_pool_id, user.username)
        if old is not None:
            user = copy.copy(user)
            user.attributes = copy.deepcopy(old)
    return user


def _replicated_update(update: Any) -> Any:
    def wrapped(self: idp.CognitoIdpBackend, user_pool_id: str, username: str,
                attributes: list[dict[str, str]]) -> Any:
        pool = self.user_pools.get(user_pool_id)
        replicated = (pool is not None and not isinstance(pool, ReplicaPool)
                      and replica_of(self.account_id, user_pool_id) is not None)
        before = None
        if replicated:
            user = _moto_admin_get_user(self, user_pool_id, username)
            before = (user.username, copy.deepcopy(user.attributes))
        result = update(self, user_pool_id, username, attributes)
        if before is not None:
            name, old = before
            # Until this change lands the replica reads the attributes it replaced (or, while
            # an earlier change is on its way, what that one replaced: the oldest entry first).
            _in_flight.setdefault((self.account_id, user_pool_id, name), []).append(
                (time.monotonic() + user_lag(self.account_id), old))
        return result

    return wrapped


def install() -> None:
    CognitoIdpResponse.create_user_pool_replica = create_user_pool_replica
    CognitoIdpResponse.update_user_pool_replica = update_user_pool_replica
    CognitoIdpResponse.list_user_pool_replicas = list_user_pool_replicas
    CognitoIdpResponse.delete_user_pool_replica = delete_user_pool_replica
    for name in (n for n in WRITES if hasattr(idp.CognitoIdpBackend, n)):
        setattr(idp.CognitoIdpBackend, name, _guarded(name, refuse_always=True))
    for name in (n for n in END_USER if hasattr(idp.CognitoIdpBackend, n)):
        setattr(idp.CognitoIdpBackend, name, _guarded(name, refuse_always=False))
    idp.CognitoIdpBackend.update_user_pool = _update_pool
    idp.CognitoIdpBackend.delete_user_pool = _delete_pool
    idp.CognitoIdpBackend.admin_get_user = _admin_get_user
    idp.CognitoIdpBackend.admin_update_user_attributes = _replicated_update(
        idp.CognitoIdpBackend.admin_update_user_attributes)
    CognitoIdpResponse._get_region_agnostic_backend = _agnostic
    idp.RegionAgnosticBackend._find_backend_for_clientid = _by_client
    idp.RegionAgnosticBackend._find_backend_by_access_token = _by_token
    kms.KmsBackend.replicate_key = _replicate_key
