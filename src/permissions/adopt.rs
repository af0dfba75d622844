//! What adopting kept data adds to the deploy policy (src/deploy/adopt.rs).
//!
//! The Regions' stacks are imported and updated as the StackSet execution
//! role, CloudFormation's service role for them, so the caller needs none
//! of the layers' handler permissions: only to pass that one role to
//! CloudFormation, the change sets on those stacks (named as StackSet
//! instances, which the stack grants already name), ImportStacksToStackSet
//! on the app's StackSets, and the reads that find and count the kept
//! stores. Each action's resource type is IAM's
//! (`cfnlint/data/AdditionalSpecs/Policies.json`): ImportStacksToStackSet
//! takes a `stackset` only, so the stacks it names need no grant of it.
//! Grants already in [`super::grants::GRANTS`] on the same resources are
//! listed again here, to say what adoption relies on, and printed once.

use super::Purpose::Deploy;
use super::grants::Grant;

pub const GRANTS: &[Grant] = &[
    // "Before you specify a service role, ensure that you have permission
    // to pass it (iam:PassRole)" ("CloudFormation service role",
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html):
    // this role only, to CloudFormation only.
    Grant {
        sid: "AdoptAsExecutionRole",
        purposes: &[Deploy],
        actions: &["iam:PassRole"],
        resources: &["arn:aws:iam::{account}:role/mraa-{app}-stackset-exec"],
        string_equals: &[("iam:PassedToService", &["cloudformation.amazonaws.com"])],
    },
    Grant {
        sid: "AdoptionStacks",
        purposes: &[Deploy],
        actions: &[
            "cloudformation:CreateChangeSet",
            "cloudformation:DescribeChangeSet",
            "cloudformation:ExecuteChangeSet",
            "cloudformation:DescribeStacks",
            "cloudformation:DescribeStackEvents",
            "cloudformation:ListStackResources",
        ],
        resources: &["arn:aws:cloudformation:*:{account}:stack/{stack}/*"],
        string_equals: &[],
    },
    Grant {
        sid: "AdoptionIntoStackSets",
        purposes: &[Deploy],
        actions: &["cloudformation:ImportStacksToStackSet"],
        resources: &["arn:aws:cloudformation:*:{account}:stackset/{stackset}:*"],
        string_equals: &[],
    },
    // Finding kept stores by name and tag, and counting what they hold
    // before and after (src/plan/changes/import.rs).
    Grant {
        sid: "KeptBuckets",
        purposes: &[Deploy],
        actions: &[
            "s3:ListBucket",
            "s3:GetBucketTagging",
            "s3:GetBucketVersioning",
            "s3:ListBucketVersions",
        ],
        resources: &["arn:aws:s3:::{bucket}"],
        string_equals: &[],
    },
    Grant {
        sid: "KeptTables",
        purposes: &[Deploy],
        actions: &[
            "dynamodb:DescribeTable",
            "dynamodb:ListTagsOfResource",
            "dynamodb:Scan",
        ],
        resources: &["arn:aws:dynamodb:*:{account}:table/{table}"],
        string_equals: &[],
    },
    // User pool ARNs carry ids only; the pool is found by listing (FindPools).
    Grant {
        sid: "KeptPools",
        purposes: &[Deploy],
        actions: &[
            "cognito-idp:DescribeUserPool",
            "cognito-idp:ListUsers",
            "cognito-idp:ListUserPoolReplicas",
        ],
        resources: &["arn:aws:cognito-idp:*:{account}:userpool/*"],
        string_equals: &[],
    },
];
