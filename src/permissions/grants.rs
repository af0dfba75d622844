//! What an operator's credentials must allow, command by command: every AWS
//! call mraa makes with them, and the resource handlers of the stacks it
//! deploys with them (bootstrap, edge, site certificate, lock), which
//! CloudFormation runs with the caller's credentials when no service role is
//! given. The layers' own handlers run under the StackSet execution role
//! (templates/bootstrap.yaml), not here.
//!
//! Resources are named whole wherever IAM can match a name (stacks,
//! StackSets, buckets, tables, roles), never by the app's prefix alone:
//! `mraa-shop-*` would match app `shop-dev`'s names too. Where the ARN
//! carries only an id (user pools, distributions, certificates, health
//! checks, APIs) IAM cannot tell mraa's from others by name, and the
//! statement says so. `{token}`s stand for the app's names, its regions and
//! its account (see [`super::Scope`]); the regions themselves are held by
//! a last statement that denies every other region.

use super::Purpose::{self, Deploy, Diff, Drill, State, Status, Teardown};

/// One statement of the operator policy.
pub struct Grant {
    pub sid: &'static str,
    pub purposes: &'static [Purpose],
    pub actions: &'static [&'static str],
    pub resources: &'static [&'static str],
    /// `StringEquals` conditions (key, values with `{app}`), where IAM offers
    /// a key that narrows what the resource cannot.
    pub string_equals: &'static [(&'static str, &'static [&'static str])],
}

pub(super) const ALL: &[Purpose] = &[Deploy, Status, State, Teardown, Diff, Drill];
pub(super) const CHANGING: &[Purpose] = &[Deploy, Teardown];

// Every stack by its whole name, and the StackSet instances, which AWS
// names StackSet-<set name>-<UUID> (see `Scope`).
const STACKS: &[&str] = &["arn:aws:cloudformation:*:{account}:stack/{stack}/*"];

/// Services with one endpoint in us-east-1, left out of the Deny of other
/// regions (AWS's own example leaves out the same).
pub const GLOBAL_SERVICES: &[&str] = &["cloudfront:*", "iam:*", "route53:*"];

/// What changes a StackSet and its instances.
const STACK_SET_CHANGES: &[&str] = &[
    "cloudformation:UpdateStackSet",
    "cloudformation:DeleteStackSet",
    "cloudformation:CreateStackInstances",
    "cloudformation:UpdateStackInstances",
    "cloudformation:DeleteStackInstances",
    "cloudformation:TagResource",
];

pub const GRANTS: &[Grant] = &[
    Grant {
        sid: "WhoAmI",
        purposes: ALL,
        actions: &["sts:GetCallerIdentity"],
        resources: &["*"],
        string_equals: &[],
    },
    Grant {
        sid: "ReadStacks",
        purposes: ALL,
        actions: &[
            "cloudformation:DescribeStacks",
            "cloudformation:DescribeStackEvents",
            "cloudformation:DescribeStackResource",
            "cloudformation:ListStackResources",
            "cloudformation:GetTemplate",
        ],
        resources: STACKS,
        string_equals: &[],
    },
    Grant {
        sid: "ReadStackSets",
        purposes: ALL,
        actions: &[
            "cloudformation:DescribeStackSet",
            "cloudformation:ListStackInstances",
            "cloudformation:DescribeStackSetOperation",
            "cloudformation:ListStackSetOperations",
            "cloudformation:ListStackSetOperationResults",
        ],
        resources: &["arn:aws:cloudformation:*:{account}:stackset/{stackset}:*"],
        string_equals: &[],
    },
    // Deploy, status and teardown look for instance stacks by listing:
    // DescribeStacks without a stack name also needs ListStacks on every
    // stack (CloudFormation's notice of January 2023, "DescribeStacks API ...
    // requires cloudformation:ListStacks when called without a target stack").
    Grant {
        sid: "ListStacks",
        purposes: &[Deploy, Status, Teardown],
        actions: &["cloudformation:DescribeStacks", "cloudformation:ListStacks"],
        resources: &["*"],
        string_equals: &[],
    },
    // A region is probed by describing a stack that never exists: one cheap
    // call whose answer (not found) says the region answers.
    Grant {
        sid: "ProbeRegions",
        purposes: ALL,
        actions: &["cloudformation:DescribeStacks"],
        resources: &["arn:aws:cloudformation:*:{account}:stack/mraa-reachability-probe/*"],
        string_equals: &[],
    },
    Grant {
        sid: "ChangeStacks",
        purposes: CHANGING,
        actions: &[
            "cloudformation:CreateStack",
            "cloudformation:DeleteStack",
            "cloudformation:CreateChangeSet",
            "cloudformation:DescribeChangeSet",
            "cloudformation:ExecuteChangeSet",
            "cloudformation:DeleteChangeSet",
            "cloudformation:ContinueUpdateRollback",
            "cloudformation:TagResource",
        ],
        resources: STACKS,
        string_equals: &[],
    },
    // `mraa diff` previews with change sets it deletes again, and runs drift
    // detection; it changes nothing else.
    Grant {
        sid: "PreviewAndDrift",
        purposes: &[Diff],
        actions: &[
            "cloudformation:CreateChangeSet",
            "cloudformation:DescribeChangeSet",
            "cloudformation:DeleteChangeSet",
            "cloudformation:DetectStackDrift",
            "cloudformation:DetectStackResourceDrift",
            "cloudformation:DescribeStackResourceDrifts",
        ],
        resources: STACKS,
        string_equals: &[],
    },
    // DescribeStackDriftDetectionStatus takes no resource in IAM.
    Grant {
        sid: "DriftStatus",
        purposes: &[Diff],
        actions: &["cloudformation:DescribeStackDriftDetectionStatus"],
        resources: &["*"],
        string_equals: &[],
    },
    Grant {
        sid: "ChangeStackSets",
        purposes: CHANGING,
        actions: STACK_SET_CHANGES,
        resources: &["arn:aws:cloudformation:*:{account}:stackset/{stackset}:*"],
        string_equals: &[],
    },
    // The target (account and region) and resource types of an operation
    // are resources of their own in IAM, named by no set.
    Grant {
        sid: "StackSetTargets",
        purposes: CHANGING,
        actions: STACK_SET_CHANGES,
        resources: &[
            "arn:aws:cloudformation:*:*:stackset-target/*",
            "arn:aws:cloudformation:*:*:type/resource/*",
        ],
        string_equals: &[],
    },
    // CreateStackSet takes no resource in IAM; mraa tags every set it makes
    // with mraa:app, so the request tag narrows it to this app.
    Grant {
        sid: "CreateStackSets",
        purposes: &[Deploy],
        actions: &["cloudformation:CreateStackSet"],
        resources: &["*"],
        string_equals: &[("aws:RequestTag/mraa:app", &["{app}"])],
    },
    // StackSets assume the administration role; the S3 replication rule and
    // API Gateway's logging setting name roles too. Each is passed only to
    // its service.
    Grant {
        sid: "PassOwnRoles",
        purposes: &[Deploy],
        actions: &["iam:PassRole"],
        resources: &["arn:aws:iam::{account}:role/{passed-role}"],
        string_equals: &[(
            "iam:PassedToService",
            &[
                "cloudformation.amazonaws.com",
                "s3.amazonaws.com",
                "apigateway.amazonaws.com",
            ],
        )],
    },
    // The bootstrap stack's roles, created by its handlers with the caller's
    // credentials (AWS::IAM::Role handler permissions).
    Grant {
        sid: "BootstrapRoles",
        purposes: CHANGING,
        actions: &[
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:GetRole",
            "iam:UpdateRole",
            "iam:UpdateRoleDescription",
            "iam:UpdateAssumeRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:PutRolePolicy",
            "iam:GetRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:ListRolePolicies",
            "iam:AttachRolePolicy",
            "iam:DetachRolePolicy",
            "iam:ListAttachedRolePolicies",
        ],
        resources: &["arn:aws:iam::{account}:role/{bootstrap-role}"],
        string_equals: &[],
    },
    // The edge stack's distribution, origin access control and headers
    // policy (their handlers' permissions), disabled by teardown before the
    // stack is deleted. CloudFront ARNs carry ids only.
    // (The handler also names cloudfront:CreateDistributionWithTags, which
    // is no IAM action: that call is authorized as CreateDistribution and
    // TagResource.)
    Grant {
        sid: "EdgeDistribution",
        purposes: CHANGING,
        actions: &[
            "cloudfront:GetDistribution",
            "cloudfront:GetDistributionConfig",
            "cloudfront:UpdateDistribution",
            "cloudfront:DeleteDistribution",
            "cloudfront:TagResource",
            "cloudfront:UntagResource",
            "cloudfront:ListTagsForResource",
        ],
        resources: &["arn:aws:cloudfront::{account}:distribution/*"],
        string_equals: &[],
    },
    Grant {
        sid: "EdgeOriginAccess",
        purposes: CHANGING,
        actions: &[
            "cloudfront:GetOriginAccessControl",
            "cloudfront:UpdateOriginAccessControl",
            "cloudfront:DeleteOriginAccessControl",
        ],
        resources: &["arn:aws:cloudfront::{account}:origin-access-control/*"],
        string_equals: &[],
    },
    Grant {
        sid: "EdgeHeaders",
        purposes: CHANGING,
        actions: &[
            "cloudfront:GetResponseHeadersPolicy",
            "cloudfront:UpdateResponseHeadersPolicy",
            "cloudfront:DeleteResponseHeadersPolicy",
        ],
        resources: &["arn:aws:cloudfront::{account}:response-headers-policy/*"],
        string_equals: &[],
    },
    // IAM cannot scope these creations: only "*" grants them.
    Grant {
        sid: "EdgeCreate",
        purposes: CHANGING,
        actions: &[
            "cloudfront:CreateDistribution",
            "cloudfront:CreateOriginAccessControl",
            "cloudfront:CreateResponseHeadersPolicy",
        ],
        resources: &["*"],
        string_equals: &[],
    },
    Grant {
        sid: "ReadDistribution",
        purposes: &[Status, Diff],
        actions: &["cloudfront:GetDistribution"],
        resources: &["arn:aws:cloudfront::{account}:distribution/*"],
        string_equals: &[],
    },
    Grant {
        sid: "Buckets",
        purposes: CHANGING,
        actions: &[
            "s3:ListBucket",
            "s3:GetBucketPolicy",
            "s3:GetReplicationConfiguration",
            "s3:PutReplicationConfiguration",
            "s3:GetBucketVersioning",
            "s3:PutBucketVersioning",
            "s3:GetBucketTagging",
            "s3:PutBucketTagging",
        ],
        resources: &["arn:aws:s3:::{bucket}"],
        string_equals: &[],
    },
    Grant {
        sid: "SiteFiles",
        purposes: CHANGING,
        actions: &["s3:PutObject", "s3:DeleteObject"],
        resources: &["arn:aws:s3:::{website-bucket}/*"],
        string_equals: &[],
    },
    // Status reads back what deploy promised: each website bucket's
    // config.json and each API's gateway responses (the CORS origin). The
    // read names the site's files as the writes above do, so that the two
    // share one statement (the site is public through CloudFront anyway).
    Grant {
        sid: "ReadSiteConfig",
        purposes: &[Status],
        actions: &["s3:GetObject"],
        resources: &["arn:aws:s3:::{website-bucket}/*"],
        string_equals: &[],
    },
    // Status names the objects the secondary took itself: HeadObject (which
    // s3:GetObject allows) reads each one's replication status.
    Grant {
        sid: "ReadObjectOrigins",
        purposes: &[Status],
        actions: &["s3:GetObject"],
        resources: &["arn:aws:s3:::{objects-bucket}/*"],
        string_equals: &[],
    },
    Grant {
        sid: "ReadApiCors",
        purposes: &[Status],
        actions: &["apigateway:GET"],
        resources: &["arn:aws:apigateway:*::/restapis/*/gatewayresponses"],
        string_equals: &[],
    },
    Grant {
        sid: "ReadBuckets",
        purposes: &[Status, Diff],
        actions: &[
            "s3:ListBucket",
            "s3:GetBucketPolicy",
            "s3:GetReplicationConfiguration",
        ],
        resources: &["arn:aws:s3:::{bucket}"],
        string_equals: &[],
    },
    // Teardown finds kept buckets by listing, then empties and deletes them
    // only with --delete-data.
    Grant {
        sid: "FindBuckets",
        purposes: &[Teardown],
        actions: &["s3:ListAllMyBuckets"],
        resources: &["*"],
        string_equals: &[],
    },
    Grant {
        sid: "DeleteBuckets",
        purposes: &[Teardown],
        actions: &[
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
            "s3:DeleteBucket",
        ],
        resources: &["arn:aws:s3:::{bucket}"],
        string_equals: &[],
    },
    Grant {
        sid: "DeleteObjects",
        purposes: &[Teardown],
        actions: &[
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:AbortMultipartUpload",
        ],
        resources: &["arn:aws:s3:::{bucket}/*"],
        string_equals: &[],
    },
    // In every region: with the primary down, status and the state commands
    // look for the deployment record (an item of app-config) in each other
    // region.
    Grant {
        sid: "ReadTables",
        purposes: ALL,
        actions: &["dynamodb:DescribeTable", "dynamodb:GetItem"],
        resources: &["arn:aws:dynamodb:*:{account}:table/{table}"],
        string_equals: &[],
    },
    // Replication lag: the figures DynamoDB and S3 publish in each region.
    // GetMetricData names no resource type ("Actions, resources, and
    // condition keys for Amazon CloudWatch", Service Authorization
    // Reference), so only "*" grants it.
    Grant {
        sid: "ReplicationLag",
        purposes: &[Status, State],
        actions: &["cloudwatch:GetMetricData"],
        resources: &["*"],
        string_equals: &[],
    },
    // The alarms `deploy --notify` makes, read by name in each region
    // (DescribeAlarms takes the alarm resource type: "Actions, resources,
    // and condition keys for Amazon CloudWatch"); names as
    // `crate::health::alarms::names` gives them.
    Grant {
        sid: "Alarms",
        purposes: &[Status],
        actions: &["cloudwatch:DescribeAlarms"],
        resources: &[
            "arn:aws:cloudwatch:*:{account}:alarm:mraa-{app}-items-comments-to-*",
            "arn:aws:cloudwatch:*:{account}:alarm:mraa-{app}-items-app-config-to-*",
            "arn:aws:cloudwatch:*:{account}:alarm:mraa-{app}-objects-latency",
            "arn:aws:cloudwatch:*:{account}:alarm:mraa-{app}-objects-failed",
        ],
        string_equals: &[],
    },
    // Whether anyone confirmed a subscription to the alarms' topic.
    Grant {
        sid: "AlarmsTopic",
        purposes: &[Status],
        actions: &["sns:ListSubscriptionsByTopic"],
        resources: &["arn:aws:sns:*:{account}:mraa-{app}-alarms"],
        string_equals: &[],
    },
    // The state item: seeded by deploy, changed by the state commands.
    Grant {
        sid: "StateItem",
        purposes: &[Deploy, State, Drill],
        actions: &["dynamodb:PutItem", "dynamodb:UpdateItem"],
        resources: &["arn:aws:dynamodb:*:{account}:table/mraa-{app}-app-config"],
        string_equals: &[],
    },
    // Global tables: adding or removing a replica also needs, on the replica,
    // what DynamoDB does on the caller's behalf ("Using IAM with global
    // tables", DynamoDB Developer Guide: CreateTableReplica, and CreateTable,
    // DescribeTable, Query, Scan, UpdateItem, PutItem, GetItem, DeleteItem,
    // BatchWriteItem in the replica's Region; DeleteTableReplica and
    // DeleteTable to remove one), and the service-linked role it creates once.
    Grant {
        sid: "GlobalTables",
        purposes: CHANGING,
        actions: &[
            "dynamodb:UpdateTable",
            "dynamodb:CreateTableReplica",
            "dynamodb:DeleteTableReplica",
            "dynamodb:CreateTable",
            "dynamodb:DeleteTable",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:UpdateContinuousBackups",
            "dynamodb:ListTagsOfResource",
            "dynamodb:TagResource",
            "dynamodb:UpdateTimeToLive",
        ],
        resources: &["arn:aws:dynamodb:*:{account}:table/{table}"],
        string_equals: &[],
    },
    // Each replica's own settings, compared with the template's.
    Grant {
        sid: "ReplicaSettings",
        purposes: &[Deploy, Status, Diff],
        actions: &[
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:ListTagsOfResource",
        ],
        resources: &["arn:aws:dynamodb:*:{account}:table/{table}"],
        string_equals: &[],
    },
    Grant {
        sid: "ReplicationServiceRole",
        purposes: &[Deploy],
        actions: &["iam:CreateServiceLinkedRole"],
        resources: &[
            "arn:aws:iam::{account}:role/aws-service-role/replication.dynamodb.amazonaws.com/AWSServiceRoleForDynamoDBReplication",
        ],
        string_equals: &[(
            "iam:AWSServiceName",
            &["replication.dynamodb.amazonaws.com"],
        )],
    },
    // User pool ARNs carry ids only. Deploy creates the admin user;
    // deploy refuses a pool kept by teardown, and teardown --delete-data
    // deletes them: both find the pools by listing.
    Grant {
        sid: "AdminUser",
        purposes: &[Deploy],
        actions: &["cognito-idp:AdminGetUser", "cognito-idp:AdminCreateUser"],
        resources: &["arn:aws:cognito-idp:*:{account}:userpool/*"],
        string_equals: &[],
    },
    // Drill's probe user: created in the primary's pool, its marked
    // attribute read in the secondary's replica, then deleted.
    Grant {
        sid: "DrillUser",
        purposes: &[Drill],
        actions: &[
            "cognito-idp:AdminCreateUser",
            "cognito-idp:AdminUpdateUserAttributes",
            "cognito-idp:AdminGetUser",
            "cognito-idp:AdminDeleteUser",
            "cognito-idp:ListUserPoolReplicas",
        ],
        resources: &["arn:aws:cognito-idp:*:{account}:userpool/*"],
        string_equals: &[],
    },
    // Failover (and drill) find the secondary's replica pool by name too.
    Grant {
        sid: "FindPools",
        purposes: &[Deploy, Teardown, State, Drill],
        actions: &["cognito-idp:ListUserPools"],
        resources: &["*"],
        string_equals: &[],
    },
    Grant {
        sid: "DeletePools",
        purposes: &[Teardown],
        actions: &[
            "cognito-idp:DescribeUserPool",
            "cognito-idp:UpdateUserPool",
            "cognito-idp:DeleteUserPool",
            "cognito-idp:TagResource",
        ],
        resources: &["arn:aws:cognito-idp:*:{account}:userpool/*"],
        string_equals: &[],
    },
    // The users key (a multi-Region key made by the bootstrap stack with
    // these credentials; AWS::KMS::Key's handlers) and, on teardown with
    // --delete-data, its deletion in both regions. Key ARNs carry ids only;
    // multi-Region key ids start with `mrk-`. CreateKey names no key: only a
    // multi-Region key may be made
    // (https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-auth.html).
    Grant {
        sid: "CreateUsersKey",
        purposes: &[Deploy],
        actions: &["kms:CreateKey"],
        resources: &["*"],
        string_equals: &[("kms:MultiRegion", &["true"])],
    },
    Grant {
        sid: "UsersKey",
        purposes: CHANGING,
        actions: &[
            "kms:DescribeKey",
            "kms:EnableKey",
            "kms:DisableKey",
            "kms:EnableKeyRotation",
            "kms:DisableKeyRotation",
            "kms:GetKeyRotationStatus",
            "kms:GetKeyPolicy",
            "kms:PutKeyPolicy",
            "kms:ListResourceTags",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:UpdateKeyDescription",
            "kms:ScheduleKeyDeletion",
        ],
        resources: &["arn:aws:kms:*:{account}:key/mrk-*"],
        string_equals: &[],
    },
    // The user pool's replica (Cognito's multi-Region replication): status
    // reads it, failover makes sure it is active, teardown --delete-data
    // deactivates and deletes it before the pool.
    Grant {
        sid: "ReadPoolReplicas",
        purposes: &[Status, State, Teardown, Diff],
        actions: &["cognito-idp:ListUserPoolReplicas"],
        resources: &["arn:aws:cognito-idp:*:{account}:userpool/*"],
        string_equals: &[],
    },
    Grant {
        sid: "PoolReplicas",
        purposes: &[State, Teardown],
        actions: &[
            "cognito-idp:UpdateUserPoolReplica",
            "cognito-idp:DeleteUserPoolReplica",
        ],
        resources: &["arn:aws:cognito-idp:*:{account}:userpool/*"],
        string_equals: &[],
    },
];
