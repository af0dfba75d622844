//! What the rendered CloudFormation templates say, read as data.
//!
//! cfn-lint (`template_lint.rs`) checks that the templates are valid
//! CloudFormation; these tests check that they build the architecture that
//! `templates/README.md` describes. Every template is rendered through the
//! library exactly as `mraa render` renders it, parsed as YAML (short-form
//! tags such as `!Sub` stay tags) and inspected:
//!
//! - **object store**: the photos bucket is versioned, encrypted, private and
//!   TLS-only; only the primary has a replication role, and it may write to
//!   the secondary's photos bucket only.
//! - **tables**: comments, app-config and users are keyed as the code expects,
//!   created in the primary only (mraa adds the replica), retained, protected,
//!   backed up and streamed.
//! - **every bucket, every policy**: buckets are encrypted, private, TLS-only,
//!   ACL-free and, if they hold data, retained; no statement grants `*` on `*`
//!   and none allows everyone.
//! - **functions**: a current Python, and exactly the source in `layers/`.
//! - **edge**: one distribution over an origin group that fails over from the
//!   primary website bucket to the secondary's, through origin access control.
//! - **frontend**: the website bucket admits the distribution and nobody else.
//! - **bootstrap**: the administration role may only assume the execution role,
//!   and the outputs record the deployment.
//! - **application**: the API is behind this region's user pool, and a
//!   comment's author comes from the token, never from the request body.
//! - **contracts**: each template takes the parameters the plan gives it, the
//!   outputs the plan reads exist, and the text does not depend on the regions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use mraa::plan::{ParamSource, Plan, RegionRole, Unit};
use mraa::render::{render_all, render_unit};
use serde_yaml::{Mapping, Value};

use crate::support::template::{
    at, bool_at, brief, field, field_of, get_att, intrinsic, keys, nodes, number, number_at,
    ref_to, req, seq, show, string, string_at, sub_text, text, text_at, texts,
};

const APP: &str = "demo";
const PRIMARY: &str = "us-east-1";
const SECONDARY: &str = "ap-northeast-1";

/// CloudFormation's limit on inline Lambda source (`Code.ZipFile`).
const ZIPFILE_LIMIT: usize = 4096;

/// `layers/<path>` in this repository, as a `&'static str`.
macro_rules! layer {
    ($path:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/layers/", $path)
    };
}

/// Every Lambda function of every template, and the layer file it inlines.
const FUNCTIONS: &[(Unit, &str, &str)] = &[
    (
        Unit::Routing,
        "StateUpdaterFunction",
        layer!("routing/state_updater.py"),
    ),
    (
        Unit::Frontend,
        "PostAuthFunction",
        layer!("frontend/post_auth.py"),
    ),
    (
        Unit::Frontend,
        "PreAuthFunction",
        layer!("frontend/pre_auth.py"),
    ),
    (
        Unit::Frontend,
        "UserImportFunction",
        layer!("frontend/user_import.py"),
    ),
    (
        Unit::Application,
        "PhotosFunction",
        layer!("application/photos.py"),
    ),
    (
        Unit::Application,
        "CommentsFunction",
        layer!("application/comments.py"),
    ),
];

/// The three tables, where each is defined and its partition key.
const TABLES: &[(Unit, &str, &str)] = &[
    (Unit::KvStore, "mraa-${AppName}-comments", "commentId"),
    (Unit::Routing, "mraa-${AppName}-app-config", "appId"),
    (Unit::Frontend, "mraa-${AppName}-users", "username"),
];

const IS_PRIMARY: &str = "!Equals [!Ref AWS::Region, !Ref PrimaryRegion]";

// ===========================================================================
// Object store
// ===========================================================================

#[test]
fn photos_bucket_is_versioned_encrypted_private_and_tls_only() {
    let t = template(Unit::ObjectStore);
    let (id, bucket) = t.named(
        "AWS::S3::Bucket",
        "BucketName",
        "mraa-${AppName}-objects-${AWS::AccountId}-${AWS::Region}",
    );

    assert_eq!(
        string_at(bucket, "Properties.VersioningConfiguration.Status"),
        Some("Enabled"),
        "{id}: versioning (replication needs it)"
    );
    assert_encrypted(id, bucket);
    assert_blocks_public_access(id, bucket);
    assert_eq!(
        object_ownership(bucket),
        ["BucketOwnerEnforced"],
        "{id}: ACLs disabled"
    );
    assert!(
        denies_insecure_transport(t.bucket_policy(id), &Bucket::Id(id)),
        "{id}: the bucket policy must deny requests without TLS (aws:SecureTransport false)"
    );
}

#[test]
fn each_region_replicates_only_into_the_other_regions_photos_bucket() {
    for (scenario, inst) in crate::cfn::every_instance() {
        if inst.unit != Unit::ObjectStore {
            continue;
        }
        let at = format!("{scenario} {}", inst.file());
        let roles: Vec<_> = inst
            .of_type("AWS::IAM::Role")
            .into_iter()
            .filter(|(_, role)| trusted_services(role).contains(&"s3.amazonaws.com".to_string()))
            .collect();
        assert_eq!(roles.len(), 1, "{at}: one role trusts s3.amazonaws.com");
        let (id, role) = roles[0];
        assert_eq!(
            trusted_services(role),
            ["s3.amazonaws.com"],
            "{at} {id}: trusted by S3 only"
        );
        let other = if inst.region == inst.param("PrimaryRegion") {
            inst.param("SecondaryRegion")
        } else {
            inst.param("PrimaryRegion")
        };
        let destination = format!(
            "arn:{}:s3:::mraa-demo-objects-{}-{other}/",
            crate::cfn::PARTITION,
            crate::cfn::ACCOUNT
        );
        let policies = field(role, "Properties").and_then(|p| field(p, "Policies"));
        let writes: Vec<_> = statements_in(policies)
            .into_iter()
            .filter(|s| actions(s).iter().any(|a| a == "s3:ReplicateObject"))
            .collect();
        assert_eq!(
            writes.len(),
            1,
            "{at} {id}: one statement allows s3:ReplicateObject"
        );
        let resources = inst.resolve_all(field(writes[0], "Resource"));
        assert!(
            !resources.is_empty(),
            "{at} {id}: s3:ReplicateObject names its resource"
        );
        for resource in &resources {
            assert!(
                resource.starts_with(&destination),
                "{at} {id}: s3:ReplicateObject on {resource:?}, not only {destination}"
            );
        }
        assert!(
            inst.resolve_all(
                inst.doc
                    .get("Outputs")
                    .and_then(|o| field(o, "ReplicationRoleArn"))
                    .and_then(|o| field(o, "Value"))
            )
            .len()
                == 1,
            "{at}: ReplicationRoleArn names the role in every region"
        );
    }
}

// ===========================================================================
// Tables
// ===========================================================================

#[test]
fn comments_table_is_keyed_by_comment_id_and_indexed_by_photo_id() {
    let t = template(Unit::KvStore);
    let (id, table) = t.named(
        "AWS::DynamoDB::Table",
        "TableName",
        "mraa-${AppName}-comments",
    );
    assert_eq!(
        key_schema(req(table, "Properties.KeySchema")),
        [("commentId", "HASH")]
    );

    let indexes = seq(req(table, "Properties.GlobalSecondaryIndexes")).expect("a list");
    let by_photo: Vec<_> = indexes
        .iter()
        .filter(|index| key_schema(req(index, "KeySchema")).first() == Some(&("photoId", "HASH")))
        .collect();
    assert_eq!(
        by_photo.len(),
        1,
        "{id}: one global secondary index on photoId"
    );
    let index_name = string_at(by_photo[0], "IndexName").expect("IndexName");

    // The application lists a photo's comments through that index, by name.
    let app = template(Unit::Application);
    let list = app.method("GET", "/comments/{photoId}");
    let request = request_template(list);
    assert!(
        request.contains(&format!("\"IndexName\": \"{index_name}\"")),
        "GET /comments/{{photoId}} must query index {index_name}:\n{request}"
    );
}

#[test]
fn app_config_table_is_keyed_by_app_id() {
    let t = template(Unit::Routing);
    let (_, table) = t.named(
        "AWS::DynamoDB::Table",
        "TableName",
        "mraa-${AppName}-app-config",
    );
    assert_eq!(
        key_schema(req(table, "Properties.KeySchema")),
        [("appId", "HASH")]
    );
}

#[test]
fn users_table_is_keyed_by_username() {
    let t = template(Unit::Frontend);
    let (_, table) = t.named("AWS::DynamoDB::Table", "TableName", "mraa-${AppName}-users");
    assert_eq!(
        key_schema(req(table, "Properties.KeySchema")),
        [("username", "HASH")]
    );
}

#[test]
fn every_table_is_created_in_the_primary_only_retained_protected_and_streamed() {
    let mut found = BTreeSet::new();
    for t in templates() {
        for (id, table) in t.resources_of_type("AWS::DynamoDB::Table") {
            let name = text_at(table, "Properties.TableName")
                .unwrap_or_default()
                .to_string();
            let at = format!("{}: {id} ({name})", t.file());

            // Created in the primary (the users table only when users are
            // imported); mraa adds the secondary replica.
            let condition = string_at(table, "Condition").unwrap_or_default();
            match condition {
                "IsPrimary" => {}
                "ImportPrimary" => assert_eq!(
                    show(t.condition("ImportPrimary")),
                    "!And [!Condition IsPrimary, !Condition Import]",
                    "{at}"
                ),
                other => panic!("{at}: Condition {other:?}, not the primary's"),
            }
            assert_eq!(show(t.condition("IsPrimary")), IS_PRIMARY, "{at}");
            // Data: kept on stack deletion and on replacement, and protected.
            assert_eq!(string_at(table, "DeletionPolicy"), Some("Retain"), "{at}");
            assert_eq!(
                string_at(table, "UpdateReplacePolicy"),
                Some("Retain"),
                "{at}"
            );
            let props = req(table, "Properties");
            assert_eq!(
                bool_at(props, "DeletionProtectionEnabled"),
                Some(true),
                "{at}"
            );
            assert_eq!(
                bool_at(
                    props,
                    "PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled"
                ),
                Some(true),
                "{at}: point-in-time recovery"
            );
            assert_eq!(
                bool_at(props, "SSESpecification.SSEEnabled"),
                Some(true),
                "{at}"
            );
            // Global tables version 2019.11.21 need both images on the stream
            // and on-demand (or autoscaled) capacity.
            assert_eq!(
                string_at(props, "StreamSpecification.StreamViewType"),
                Some("NEW_AND_OLD_IMAGES"),
                "{at}"
            );
            assert_eq!(
                string_at(props, "BillingMode"),
                Some("PAY_PER_REQUEST"),
                "{at}"
            );
            // Every key attribute is defined.
            let defined = attribute_definitions(props);
            for (attribute, _) in all_key_attributes(props) {
                assert_eq!(
                    defined.get(attribute).copied(),
                    Some("S"),
                    "{at}: key attribute {attribute} defined as a string"
                );
            }

            if let Some((_, _, key)) = TABLES.iter().find(|(_, n, _)| *n == name) {
                assert_eq!(
                    key_schema(req(props, "KeySchema")).first(),
                    Some(&(*key, "HASH")),
                    "{at}: partition key"
                );
            }
            found.insert((t.unit, name));
        }
    }
    let expected: BTreeSet<_> = TABLES
        .iter()
        .map(|(unit, name, _)| (*unit, name.to_string()))
        .collect();
    assert_eq!(found, expected, "the tables and where they are defined");
}

// ===========================================================================
// Every bucket, every policy
// ===========================================================================

#[test]
fn every_bucket_is_encrypted_private_tls_only_and_retained_if_it_holds_data() {
    let mut data_buckets = BTreeSet::new();
    let all = templates();
    for t in &all {
        for (id, bucket) in t.resources_of_type("AWS::S3::Bucket") {
            let at = format!("{}: {id}", t.file());
            let name = text_at(bucket, "Properties.BucketName").unwrap_or_default();
            assert!(
                name.starts_with("mraa-${AppName}-"),
                "{at}: bucket name {name:?}"
            );

            let deletion = string_at(bucket, "DeletionPolicy");
            assert!(deletion.is_some(), "{at}: no DeletionPolicy");
            let purpose = ["objects", "logs"]
                .into_iter()
                .find(|purpose| name.contains(&format!("-{purpose}-")));
            if let Some(purpose) = purpose {
                assert_eq!(deletion, Some("Retain"), "{at}: data bucket");
                assert_eq!(
                    string_at(bucket, "UpdateReplacePolicy"),
                    Some("Retain"),
                    "{at}"
                );
                data_buckets.insert(purpose);
            }

            assert_encrypted(&at, bucket);
            assert_blocks_public_access(&at, bucket);
            // The policy is the bucket's template's, or, for a policy that
            // names what exists only later, another unit's naming the bucket.
            let (policy, bucket) = match t.bucket_policy_of(id) {
                Some(policy) => (policy, Bucket::Id(id)),
                None => {
                    let elsewhere: Vec<&Value> = all
                        .iter()
                        .filter_map(|o| o.bucket_policy_named(name))
                        .collect();
                    assert_eq!(elsewhere.len(), 1, "{at}: one bucket policy on {name}");
                    (elsewhere[0], Bucket::Named(name))
                }
            };
            assert!(
                denies_insecure_transport(policy, &bucket),
                "{at}: the bucket policy must deny requests without TLS"
            );
        }
    }
    assert_eq!(
        data_buckets,
        BTreeSet::from(["logs", "objects"]),
        "data buckets found"
    );
}

#[test]
fn no_template_uses_acls() {
    for t in templates() {
        for node in nodes(&t.doc) {
            if let Value::Mapping(map) = node {
                assert!(
                    field_of(map, "AccessControl").is_none(),
                    "{}: AccessControl (a canned ACL) in {}",
                    t.file(),
                    brief(node)
                );
            }
        }
        for (id, bucket) in t.resources_of_type("AWS::S3::Bucket") {
            assert_eq!(
                object_ownership(bucket),
                ["BucketOwnerEnforced"],
                "{}: {id} must disable ACLs",
                t.file()
            );
        }
    }
}

#[test]
fn no_policy_statement_grants_every_action_on_every_resource() {
    let mut count = 0;
    for t in templates() {
        for statement in statements_in(Some(&t.doc)) {
            count += 1;
            let every_action = actions(statement).iter().any(|a| a == "*");
            let every_resource = resources(statement).iter().any(|r| r == "*");
            assert!(
                !(every_action && every_resource),
                "{}: Action * on Resource *: {}",
                t.file(),
                show(statement)
            );
        }
    }
    assert!(
        count > 30,
        "only {count} policy statements found: is the walk broken?"
    );
}

/// Principal `*` kept to the account's own callers: a condition that the
/// caller's account is this one (`kms:CallerAccount`, `aws:PrincipalAccount`),
/// as the users keys' statements for use through Cognito have it.
fn only_own_account(statement: &Value) -> bool {
    let Some(Value::Mapping(operators)) = field(statement, "Condition") else {
        return false;
    };
    operators
        .iter()
        .filter(|(op, _)| op.as_str() == Some("StringEquals"))
        .any(|(_, keys)| {
            ["kms:CallerAccount", "aws:PrincipalAccount"]
                .iter()
                .any(|key| {
                    matches!(field(keys, key), Some(Value::Tagged(t))
                    if t.tag == "Ref" && t.value.as_str() == Some("AWS::AccountId"))
                })
        })
}

#[test]
fn no_policy_allows_everyone() {
    for t in templates() {
        for statement in statements_in(Some(&t.doc)) {
            if effect(statement) == "Allow" {
                assert!(
                    !is_everyone(field(statement, "Principal")) || only_own_account(statement),
                    "{}: allows Principal *: {}",
                    t.file(),
                    show(statement)
                );
            }
        }
    }
}

// ===========================================================================
// Functions
// ===========================================================================

#[test]
fn every_function_runs_a_current_python_and_inlines_its_layer_source_unchanged() {
    let mut seen = BTreeSet::new();
    for t in templates() {
        for (id, function) in t.resources_of_type("AWS::Lambda::Function") {
            let at = format!("{}: {id}", t.file());
            let &(_, _, path) = FUNCTIONS
                .iter()
                .find(|(unit, name, _)| *unit == t.unit && *name == id)
                .unwrap_or_else(|| panic!("{at} is not in FUNCTIONS; add it with its layer file"));
            seen.insert(path);

            let runtime = string_at(function, "Properties.Runtime").unwrap_or_default();
            let minor = runtime
                .strip_prefix("python3.")
                .and_then(|m| m.parse::<u32>().ok());
            assert!(
                minor >= Some(12),
                "{at}: Runtime {runtime:?}, want python3.12 or newer"
            );
            assert_eq!(
                string_at(function, "Properties.Handler"),
                Some("index.handler"),
                "{at}"
            );

            // YAML strips the block scalar's indentation: what CloudFormation
            // receives is the `ZipFile` string itself.
            let code = string_at(function, "Properties.Code.ZipFile")
                .unwrap_or_else(|| panic!("{at}: Code.ZipFile is not a literal string"));
            assert!(
                code.chars().count() < ZIPFILE_LIMIT,
                "{at}: ZipFile is {} characters",
                code.chars().count()
            );
            let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
            if let Some((line, inlined, original)) = first_difference(code, &source) {
                panic!(
                    "{at}: ZipFile differs from {path} at line {line}:\n  inlined:  {inlined:?}\n  original: {original:?}"
                );
            }
        }
    }
    let listed: BTreeSet<&str> = FUNCTIONS.iter().map(|(_, _, path)| *path).collect();
    assert_eq!(
        seen, listed,
        "functions listed in FUNCTIONS but missing from the templates"
    );
    assert_eq!(
        layer_sources(),
        listed
            .iter()
            .map(|p| p.to_string())
            .collect::<BTreeSet<_>>(),
        "every Python file in layers/<unit>/ is inlined by exactly the functions in FUNCTIONS"
    );
}

#[test]
fn rendering_leaves_no_include_marker() {
    for rendered in render_all(&plan()).expect("every template renders") {
        assert!(
            !rendered.body.contains("mraa:include"),
            "{}: an include was not expanded",
            rendered.file
        );
    }
}

// ===========================================================================
// Edge
// ===========================================================================

#[test]
fn distribution_fails_over_from_the_primary_to_the_secondary_website_bucket() {
    let t = template(Unit::Edge);
    let (_, distribution) = t.only("AWS::CloudFront::Distribution");
    let (oac_id, _) = t.only("AWS::CloudFront::OriginAccessControl");
    let config = req(distribution, "Properties.DistributionConfig");

    // Both origins are the website buckets the front end creates, named for
    // the primary and the secondary region, read through origin access control.
    let frontend = template(Unit::Frontend);
    let (_, website) = frontend.named(
        "AWS::S3::Bucket",
        "BucketName",
        "mraa-${AppName}-website-${AWS::AccountId}-${AWS::Region}",
    );
    let website = text_at(website, "Properties.BucketName").expect("website bucket name");
    let origins = seq(req(config, "Origins")).expect("Origins is a list");
    assert_eq!(origins.len(), 2, "two origins");
    let mut origin_ids = Vec::new();
    for (origin, region) in origins
        .iter()
        .zip(["${PrimaryRegion}", "${SecondaryRegion}"])
    {
        let origin_id = string_at(origin, "Id").expect("origin Id");
        let bucket = website.replace("${AWS::Region}", region);
        let domain = text_at(origin, "DomainName").unwrap_or_default();
        assert!(
            domain.starts_with(&format!("{bucket}.s3.")),
            "origin {origin_id}: DomainName {domain:?} is not the website bucket {bucket}"
        );
        let oac = field(origin, "OriginAccessControlId");
        assert!(
            oac.and_then(ref_to) == Some(oac_id)
                || oac.and_then(get_att) == Some((oac_id.to_string(), "Id".to_string())),
            "origin {origin_id}: OriginAccessControlId must be {oac_id}, is {:?}",
            oac.map(show)
        );
        assert_eq!(
            string_at(origin, "S3OriginConfig.OriginAccessIdentity"),
            Some(""),
            "origin {origin_id}: no legacy origin access identity"
        );
        origin_ids.push(origin_id);
    }

    // The origin group tries the primary first, then the secondary.
    let groups = seq(req(config, "OriginGroups.Items")).expect("OriginGroups.Items is a list");
    assert_eq!(
        number_at(config, "OriginGroups.Quantity"),
        Some(groups.len() as u64)
    );
    let group = groups
        .iter()
        .find(|group| {
            let members = seq(req(group, "Members.Items")).expect("Members.Items");
            members
                .iter()
                .map(|m| string_at(m, "OriginId"))
                .collect::<Vec<_>>()
                == origin_ids.iter().map(|id| Some(*id)).collect::<Vec<_>>()
        })
        .unwrap_or_else(|| panic!("no origin group of {origin_ids:?}, primary first"));
    let group_id = string_at(group, "Id").expect("group Id");
    assert_eq!(
        number_at(group, "Members.Quantity"),
        Some(2),
        "group {group_id}"
    );
    let codes: BTreeSet<u64> = seq(req(group, "FailoverCriteria.StatusCodes.Items"))
        .expect("status code list")
        .iter()
        .filter_map(number)
        .collect();
    for code in [403, 404, 500, 502, 503, 504] {
        assert!(
            codes.contains(&code),
            "group {group_id} does not fail over on {code}"
        );
    }
    assert_eq!(
        number_at(group, "FailoverCriteria.StatusCodes.Quantity"),
        Some(codes.len() as u64),
        "group {group_id}: Quantity matches the status codes"
    );

    // Every request goes to the group, over HTTPS.
    assert_eq!(
        string_at(config, "DefaultCacheBehavior.TargetOriginId"),
        Some(group_id)
    );
    let mut behaviors = vec![req(config, "DefaultCacheBehavior")];
    behaviors.extend(
        field(config, "CacheBehaviors")
            .and_then(seq)
            .into_iter()
            .flatten(),
    );
    for behavior in behaviors {
        let policy = string_at(behavior, "ViewerProtocolPolicy");
        assert!(
            matches!(policy, Some("redirect-to-https" | "https-only")),
            "ViewerProtocolPolicy {policy:?}"
        );
    }
}

#[test]
fn origin_access_control_signs_every_request_to_s3() {
    let t = template(Unit::Edge);
    let (id, oac) = t.only("AWS::CloudFront::OriginAccessControl");
    let config = req(oac, "Properties.OriginAccessControlConfig");
    assert_eq!(string_at(config, "SigningBehavior"), Some("always"), "{id}");
    assert_eq!(string_at(config, "SigningProtocol"), Some("sigv4"), "{id}");
    assert_eq!(
        string_at(config, "OriginAccessControlOriginType"),
        Some("s3"),
        "{id}"
    );
}

#[test]
fn edge_outputs_the_distribution_id_and_nothing_read_from_the_distribution() {
    let t = template(Unit::Edge);
    let (distribution, _) = t.only("AWS::CloudFront::Distribution");
    let output = t.output("DistributionId").expect("DistributionId output");
    assert_eq!(field(output, "Value").and_then(ref_to), Some(distribution));

    // mraa reads the domain name through the CloudFront API.
    let outputs = field(&t.doc, "Outputs").expect("Outputs");
    for node in nodes(outputs) {
        let attribute_of_distribution = get_att(node).is_some_and(|(r, _)| r == distribution)
            || sub_text(node).is_some_and(|s| s.contains(&format!("${{{distribution}.")));
        assert!(
            !attribute_of_distribution,
            "edge outputs read an attribute of the distribution: {}",
            show(node)
        );
    }
}

// ===========================================================================
// Front end
// ===========================================================================

#[test]
fn website_bucket_admits_only_the_distribution() {
    let frontend = template(Unit::Frontend);
    let (_, website) = frontend.named(
        "AWS::S3::Bucket",
        "BucketName",
        "mraa-${AppName}-website-${AWS::AccountId}-${AWS::Region}",
    );
    let bucket = text_at(website, "Properties.BucketName").expect("website bucket name");
    // Its own unit, deployed once both the bucket and the distribution exist.
    assert!(
        frontend.bucket_policy_named(bucket).is_none(),
        "the front end does not wait for the distribution its policy would name"
    );
    let t = template(Unit::WebsitePolicy);
    let policy = t
        .bucket_policy_named(bucket)
        .unwrap_or_else(|| panic!("website-policy.yaml: a policy on {bucket}"));
    let items = seq(req(policy, "Properties.PolicyDocument.Statement")).expect("Statement list");

    // (condition the statement is under, statement) for every Allow.
    let mut allows = Vec::new();
    for item in items {
        match intrinsic(item, "If").and_then(seq).map(Vec::as_slice) {
            Some([condition, then, otherwise]) => {
                let condition = string(condition).expect("!If condition name");
                if effect(then) == "Allow" {
                    allows.push((Some(condition), then));
                }
                assert_eq!(
                    ref_to(otherwise),
                    Some("AWS::NoValue"),
                    "without {condition} the statement is left out"
                );
            }
            Some(other) => panic!("malformed !If: {}", show(&Value::Sequence(other.to_vec()))),
            None if effect(item) == "Allow" => allows.push((None, item)),
            None => {}
        }
    }
    assert_eq!(allows.len(), 1, "{bucket} admits exactly one reader");
    let (condition, statement) = allows[0];

    let condition =
        condition.expect("the CloudFront statement is inside !If [<has distribution>, ...]");
    assert_eq!(
        show(t.condition(condition)),
        "!Not [!Equals [!Ref DistributionId, '']]",
        "{condition}: true once DistributionId is given"
    );
    let principal = req(statement, "Principal");
    assert_eq!(
        keys(principal),
        ["Service"],
        "principal is a service, nothing else"
    );
    assert_eq!(
        texts(field(principal, "Service")),
        ["cloudfront.amazonaws.com"]
    );
    assert_eq!(actions(statement), ["s3:GetObject"]);
    assert_eq!(
        resources(statement),
        [format!("arn:${{AWS::Partition}}:s3:::{bucket}/*")]
    );
    let source = text_at(statement, "Condition.StringEquals.AWS:SourceArn")
        .expect("Condition StringEquals AWS:SourceArn is a !Sub");
    assert!(
        source.ends_with(":cloudfront::${AWS::AccountId}:distribution/${DistributionId}"),
        "AWS:SourceArn {source:?} must name distribution/${{DistributionId}}"
    );
    assert!(
        field(&t.doc, "Parameters")
            .and_then(|p| field(p, "DistributionId"))
            .is_some(),
        "DistributionId is a parameter"
    );

    for statement in statements_in(Some(policy)) {
        assert!(
            !(effect(statement) == "Allow" && is_everyone(field(statement, "Principal"))),
            "{bucket} allows everyone: {}",
            show(statement)
        );
    }
}

// ===========================================================================
// Bootstrap
// ===========================================================================

#[test]
fn administration_role_may_only_assume_the_execution_role() {
    let t = template(Unit::Bootstrap);
    let (admin, role) = t.named(
        "AWS::IAM::Role",
        "RoleName",
        "mraa-${AppName}-stackset-admin",
    );
    t.named(
        "AWS::IAM::Role",
        "RoleName",
        "mraa-${AppName}-stackset-exec",
    );

    assert!(
        field(req(role, "Properties"), "ManagedPolicyArns").is_none(),
        "{admin}: no managed policies"
    );
    let granted = statements_in(field(req(role, "Properties"), "Policies"));
    assert!(!granted.is_empty(), "{admin}: no policy statements");
    for statement in granted {
        assert_eq!(effect(statement), "Allow", "{admin}: {}", show(statement));
        assert_eq!(
            actions(statement),
            ["sts:AssumeRole"],
            "{admin}: {}",
            show(statement)
        );
        assert_eq!(
            resources(statement),
            ["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/mraa-${AppName}-stackset-exec"],
            "{admin}: assumes only the execution role"
        );
    }
    // And the regional principal of each region disabled by default, as
    // rendered for real regions in `opt_in_regions.rs`.
    assert_eq!(
        trusted_services(role),
        [
            "cloudformation.amazonaws.com",
            "!If [PrimaryIsOptIn, !Sub cloudformation.${PrimaryRegion}.amazonaws.com, !Ref AWS::NoValue]",
            "!If [SecondaryIsOptIn, !Sub cloudformation.${SecondaryRegion}.amazonaws.com, !Ref AWS::NoValue]",
        ],
        "{admin}"
    );
}

/// The execution role is assumed by StackSets through the administration
/// role, and by CloudFormation as the service role of the stacks deploy
/// imports kept data into ("CloudFormation service role": the service that
/// can assume it is cloudformation.amazonaws.com,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html>),
/// for this account only: the service statement holds with aws:SourceAccount
/// equal to the account ("Cross-service confused deputy prevention",
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cross-service-confused-deputy-prevention.html>),
/// and no other principal is trusted.
#[test]
fn execution_role_is_trusted_by_the_administration_role_and_cloudformation_of_this_account() {
    let t = template(Unit::Bootstrap);
    let (exec, role) = t.named(
        "AWS::IAM::Role",
        "RoleName",
        "mraa-${AppName}-stackset-exec",
    );
    let (admin, _) = t.named(
        "AWS::IAM::Role",
        "RoleName",
        "mraa-${AppName}-stackset-admin",
    );
    let statements = statements_in(at(role, "Properties.AssumeRolePolicyDocument"));
    assert_eq!(statements.len(), 2, "{exec}: {statements:?}");
    let mut by_service = 0;
    for statement in statements {
        assert_eq!(effect(statement), "Allow", "{exec}: {}", show(statement));
        assert_eq!(actions(statement), ["sts:AssumeRole"], "{exec}");
        let principal = req(statement, "Principal");
        if field(principal, "Service").is_some() {
            by_service += 1;
            let source = at(statement, "Condition.StringEquals")
                .and_then(|c| field(c, "aws:SourceAccount"))
                .and_then(ref_to);
            assert_eq!(
                source,
                Some("AWS::AccountId"),
                "{exec}: CloudFormation trusted without aws:SourceAccount: {}",
                show(statement)
            );
            assert_eq!(
                texts(field(principal, "Service")),
                [
                    "cloudformation.amazonaws.com",
                    "!If [PrimaryIsOptIn, !Sub cloudformation.${PrimaryRegion}.amazonaws.com, !Ref AWS::NoValue]",
                    "!If [SecondaryIsOptIn, !Sub cloudformation.${SecondaryRegion}.amazonaws.com, !Ref AWS::NoValue]",
                ],
                "{exec}"
            );
        } else {
            assert_eq!(
                field(principal, "AWS").and_then(get_att),
                Some((admin.to_string(), "Arn".to_string())),
                "{exec}: the other principal is the administration role: {}",
                show(statement)
            );
        }
    }
    assert_eq!(by_service, 1, "{exec}: trusted by CloudFormation once");
}

#[test]
fn bootstrap_outputs_record_the_deployment() {
    let t = template(Unit::Bootstrap);
    for name in ["AppName", "PrimaryRegion", "SecondaryRegion", "Mode"] {
        let output = t.output(name).unwrap_or_else(|| panic!("output {name}"));
        assert_eq!(
            field(output, "Value").and_then(ref_to),
            Some(name),
            "output {name} is the parameter {name}"
        );
    }
    let (admin, _) = t.named(
        "AWS::IAM::Role",
        "RoleName",
        "mraa-${AppName}-stackset-admin",
    );
    let (exec, _) = t.named(
        "AWS::IAM::Role",
        "RoleName",
        "mraa-${AppName}-stackset-exec",
    );
    let arn = t
        .output("AdministrationRoleArn")
        .and_then(|o| field(o, "Value"));
    assert_eq!(
        arn.and_then(get_att),
        Some((admin.to_string(), "Arn".to_string()))
    );
    let exec_name = t
        .output("ExecutionRoleName")
        .and_then(|o| field(o, "Value"));
    assert_eq!(exec_name.and_then(ref_to), Some(exec));
}

// ===========================================================================
// Application
// ===========================================================================

#[test]
fn api_authorizer_is_this_regions_user_pool() {
    let t = template(Unit::Application);
    let (id, authorizer) = t.only("AWS::ApiGateway::Authorizer");
    assert_eq!(
        string_at(authorizer, "Properties.Type"),
        Some("COGNITO_USER_POOLS"),
        "{id}"
    );
    assert_eq!(show(t.condition("IsPrimary")), IS_PRIMARY);

    let providers = seq(req(authorizer, "Properties.ProviderARNs")).expect("ProviderARNs list");
    assert_eq!(providers.len(), 1, "{id}: one user pool");
    let choice = intrinsic(&providers[0], "If")
        .and_then(seq)
        .map(Vec::as_slice);
    let Some([condition, primary, secondary]) = choice else {
        panic!(
            "{id}: ProviderARNs must be !If [IsPrimary, ...], is {}",
            show(&providers[0])
        );
    };
    assert_eq!(string(condition), Some("IsPrimary"));
    for (arn, pool) in [
        (primary, "${PrimaryUserPoolId}"),
        (secondary, "${SecondaryUserPoolId}"),
    ] {
        assert_eq!(
            sub_text(arn),
            Some(
                format!("arn:${{AWS::Partition}}:cognito-idp:${{AWS::Region}}:${{AWS::AccountId}}:userpool/{pool}")
                    .as_str()
            ),
            "{id}: user pool {pool} of this region"
        );
    }
}

#[test]
fn every_api_method_but_the_preflight_requires_the_user_pool() {
    let t = template(Unit::Application);
    let (authorizer, _) = t.only("AWS::ApiGateway::Authorizer");
    for (verb, path) in [
        ("GET", "/comments/{photoId}"),
        ("POST", "/comments/{photoId}"),
        ("GET", "/photos"),
        ("POST", "/photos"),
    ] {
        t.method(verb, path);
    }
    for (id, method) in t.resources_of_type("AWS::ApiGateway::Method") {
        if string_at(method, "Properties.HttpMethod") == Some("OPTIONS") {
            continue;
        }
        assert_eq!(
            string_at(method, "Properties.AuthorizationType"),
            Some("COGNITO_USER_POOLS"),
            "{id}"
        );
        assert_eq!(
            field(req(method, "Properties"), "AuthorizerId").and_then(ref_to),
            Some(authorizer),
            "{id}"
        );
    }
}

/// A comment is written by the comments function (which takes the author
/// from the verified claims and checks the state inside its write; see
/// layers/tests/test_comments.py), and only behind the region's authorizer.
#[test]
fn comments_are_written_by_their_function_behind_the_authorizer() {
    let t = template(Unit::Application);
    let method = t.method("POST", "/comments/{photoId}");
    assert_eq!(
        string_at(method, "Properties.AuthorizationType"),
        Some("COGNITO_USER_POOLS")
    );
    assert_eq!(
        string_at(method, "Properties.Integration.Type"),
        Some("AWS_PROXY")
    );
    let uri = format!("{:?}", req(method, "Properties.Integration.Uri"));
    assert!(uri.contains("${CommentsFunction.Arn}"), "{uri}");
}

// ===========================================================================
// Contracts between the plan and the templates
// ===========================================================================

#[test]
fn every_template_takes_exactly_the_parameters_the_plan_gives_it() {
    let plan = plan();
    for planned in &plan.units {
        let t = template(planned.unit);
        let declared = t.parameters();
        for (name, source) in &planned.parameters {
            let parameter = field_of(declared, name)
                .unwrap_or_else(|| panic!("{}: the plan gives {name}, not a parameter", t.file()));
            if let (ParamSource::Value(value), Some(allowed)) =
                (source, field(parameter, "AllowedValues").and_then(seq))
            {
                assert!(
                    allowed.iter().any(|a| string(a) == Some(value)),
                    "{}: {name} = {value:?} is not among its AllowedValues",
                    t.file()
                );
            }
        }
        for (name, parameter) in declared {
            let name = string(name).expect("parameter names are strings");
            assert!(
                planned.parameters.contains_key(name) || field(parameter, "Default").is_some(),
                "{}: {name} is required (no Default) but the plan does not give it",
                t.file()
            );
        }
    }
}

/// Conditions of one user replication mode (bootstrap and front end).
const MODE_CONDITIONS: [&str; 2] = ["NativeUserReplication", "CreatesPool"];

#[test]
fn every_output_the_plan_reads_exists_where_it_is_read() {
    let plan = plan();
    for planned in &plan.units {
        for (name, source) in &planned.parameters {
            let ParamSource::FromOutput {
                unit,
                output,
                region,
                ..
            } = source
            else {
                continue;
            };
            let at = format!("{}.{name} <- {unit}.{output} ({region:?})", planned.unit);
            let producer = plan.unit(*unit).expect("producer planned");
            assert!(producer.wave < planned.wave, "{at}: producer deploys first");
            assert!(
                producer
                    .regions
                    .iter()
                    .any(|r| r == plan.region_of(*region)),
                "{at}: producer is not deployed in that region"
            );
            let t = template(*unit);
            let declared = t
                .output(output)
                .unwrap_or_else(|| panic!("{at}: no such output"));
            match (string_at(declared, "Condition"), region) {
                (None, _) | (Some("IsPrimary"), RegionRole::Primary) => {}
                // An output of one replication mode only: the reader must
                // take its absence (the plan's default, which its template
                // accepts) in the other.
                (Some(condition), _) if MODE_CONDITIONS.contains(&condition) => {
                    let ParamSource::FromOutput { default, .. } = source else {
                        continue;
                    };
                    let reader = template(planned.unit);
                    let pattern = field_of(reader.parameters(), name)
                        .and_then(|p| string_at(p, "AllowedPattern"))
                        .unwrap_or_default();
                    assert!(
                        default.is_empty()
                            && (pattern.starts_with("^$|") || pattern.ends_with("*$")),
                        "{at}: output only exists under {condition}, and the reader does not \
                         accept its absence (default {default:?}, pattern {pattern:?})"
                    );
                }
                (Some(condition), _) => panic!("{at}: output only exists under {condition}"),
            }
        }
    }
}

#[test]
fn is_primary_means_this_region_is_the_primary_region() {
    for t in templates() {
        if let Some(condition) = t.conditions().and_then(|c| field_of(c, "IsPrimary")) {
            assert_eq!(show(condition), IS_PRIMARY, "{}", t.file());
        }
        if let Some(condition) = t.conditions().and_then(|c| field_of(c, "IsSecondary")) {
            assert_eq!(
                show(condition),
                format!("!Not [{IS_PRIMARY}]"),
                "{}",
                t.file()
            );
        }
    }
}

#[test]
fn templates_are_the_same_for_every_region_pair() {
    let reference = render_all(&plan()).expect("renders");
    for (primary, secondary) in [
        ("eu-west-1", "eu-central-1"),
        ("us-west-2", "us-east-2"),
        ("ap-southeast-2", "ap-northeast-1"),
    ] {
        let other = render_all(
            &Plan::new(APP, primary, secondary)
                .with_domain(DOMAIN, ZONE)
                .with_notify(&notify()),
        )
        .expect("renders");
        assert_eq!(other.len(), reference.len());
        for (a, b) in reference.iter().zip(&other) {
            assert_eq!(a.file, b.file);
            assert!(
                a.body == b.body,
                "{} differs between {PRIMARY}/{SECONDARY} and {primary}/{secondary}",
                a.file
            );
        }
    }

    // Regions are parameters: none is written into what gets deployed.
    let regions = [
        "us-east-1",
        "us-east-2",
        "us-west-2",
        "eu-west-1",
        "eu-central-1",
        "ap-northeast-1",
        "ap-southeast-2",
    ];
    for t in templates() {
        for section in ["Conditions", "Resources", "Outputs"] {
            for node in field(&t.doc, section).map(nodes).unwrap_or_default() {
                if let Some(s) = string(node) {
                    for region in regions {
                        assert!(
                            !s.contains(region),
                            "{}: {section} names {region}: {s:?}",
                            t.file()
                        );
                    }
                }
            }
        }
    }
}

// ===========================================================================
// Helpers: rendering
// ===========================================================================

/// Every unit, the custom domain's and the alarms' too.
fn plan() -> Plan {
    Plan::new(APP, PRIMARY, SECONDARY)
        .with_domain(DOMAIN, ZONE)
        .with_notify(&notify())
}

fn notify() -> mraa::plan::notify::Notify {
    mraa::plan::notify::Notify::Emails(vec!["ops@example.test".into()])
}

const DOMAIN: &str = "app.example.test";
const ZONE: &str = "Z0123456789ABCDEFGHIJ";

/// One rendered template, parsed.
struct Template {
    unit: Unit,
    doc: Value,
}

fn template(unit: Unit) -> Template {
    let plan = plan();
    let planned = plan
        .unit(unit)
        .unwrap_or_else(|| panic!("{unit} is planned"));
    let rendered = render_unit(planned).unwrap_or_else(|e| panic!("{unit} renders: {e}"));
    assert_eq!(rendered.file, unit.template_file());
    let doc = serde_yaml::from_str(&rendered.body)
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", rendered.file));
    Template { unit, doc }
}

fn templates() -> Vec<Template> {
    Unit::ALL.into_iter().map(template).collect()
}

impl Template {
    fn file(&self) -> String {
        self.unit.template_file()
    }

    fn section(&self, name: &str) -> Option<&Mapping> {
        match field(&self.doc, name) {
            Some(Value::Mapping(map)) => Some(map),
            _ => None,
        }
    }

    fn parameters(&self) -> &Mapping {
        self.section("Parameters")
            .unwrap_or_else(|| panic!("{}: no Parameters", self.file()))
    }

    fn conditions(&self) -> Option<&Mapping> {
        self.section("Conditions")
    }

    fn condition(&self, name: &str) -> &Value {
        self.conditions()
            .and_then(|c| field_of(c, name))
            .unwrap_or_else(|| panic!("{}: no condition {name}", self.file()))
    }

    fn output(&self, name: &str) -> Option<&Value> {
        self.section("Outputs").and_then(|o| field_of(o, name))
    }

    /// (logical id, resource) of every resource.
    fn resources(&self) -> Vec<(&str, &Value)> {
        self.section("Resources")
            .unwrap_or_else(|| panic!("{}: no Resources", self.file()))
            .iter()
            .map(|(id, resource)| (string(id).expect("logical ids are strings"), resource))
            .collect()
    }

    fn resources_of_type(&self, ty: &str) -> Vec<(&str, &Value)> {
        self.resources()
            .into_iter()
            .filter(|(_, resource)| string_at(resource, "Type") == Some(ty))
            .collect()
    }

    fn resource(&self, id: &str) -> &Value {
        self.section("Resources")
            .and_then(|r| field_of(r, id))
            .unwrap_or_else(|| panic!("{}: no resource {id}", self.file()))
    }

    /// The one resource of this type.
    fn only(&self, ty: &str) -> (&str, &Value) {
        let found = self.resources_of_type(ty);
        let ids: Vec<_> = found.iter().map(|(id, _)| *id).collect();
        assert_eq!(found.len(), 1, "{}: one {ty}, found {ids:?}", self.file());
        found[0]
    }

    /// The one resource of this type whose `Properties.<property>` is `name`
    /// (a literal or a `!Sub` template, compared as written).
    fn named(&self, ty: &str, property: &str, name: &str) -> (&str, &Value) {
        let found: Vec<_> = self
            .resources_of_type(ty)
            .into_iter()
            .filter(|(_, r)| text_at(r, &format!("Properties.{property}")) == Some(name))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{}: one {ty} with {property} {name:?}",
            self.file()
        );
        found[0]
    }

    /// The bucket policy attached to bucket `bucket_id`.
    fn bucket_policy(&self, bucket_id: &str) -> &Value {
        self.bucket_policy_of(bucket_id)
            .unwrap_or_else(|| panic!("{}: one bucket policy on {bucket_id}", self.file()))
    }

    /// The policy on the bucket `bucket_id` of this template (`!Ref`), if one.
    fn bucket_policy_of(&self, bucket_id: &str) -> Option<&Value> {
        let found: Vec<_> = self
            .resources_of_type("AWS::S3::BucketPolicy")
            .into_iter()
            .filter(|(_, p)| at(p, "Properties.Bucket").and_then(ref_to) == Some(bucket_id))
            .collect();
        assert!(
            found.len() <= 1,
            "{}: one bucket policy on {bucket_id}",
            self.file()
        );
        found.first().map(|(_, p)| *p)
    }

    /// The policy on the bucket named `name` (as its template's `!Sub`).
    fn bucket_policy_named(&self, name: &str) -> Option<&Value> {
        self.resources_of_type("AWS::S3::BucketPolicy")
            .into_iter()
            .find(|(_, p)| text_at(p, "Properties.Bucket") == Some(name))
            .map(|(_, p)| p)
    }

    /// The path of an API Gateway resource (`/comments/{photoId}`), given the
    /// value of a `ResourceId` or `ParentId`.
    fn api_path(&self, resource: &Value) -> String {
        if get_att(resource).is_some_and(|(_, attribute)| attribute == "RootResourceId") {
            return String::new();
        }
        let id = ref_to(resource)
            .unwrap_or_else(|| panic!("not a resource reference: {}", show(resource)));
        let r = self.resource(id);
        let parent = self.api_path(req(r, "Properties.ParentId"));
        format!(
            "{parent}/{}",
            string_at(r, "Properties.PathPart").unwrap_or_default()
        )
    }

    /// The one API Gateway method for this verb and path.
    fn method(&self, verb: &str, path: &str) -> &Value {
        let found: Vec<_> = self
            .resources_of_type("AWS::ApiGateway::Method")
            .into_iter()
            .filter(|(_, m)| {
                string_at(m, "Properties.HttpMethod") == Some(verb)
                    && self.api_path(req(m, "Properties.ResourceId")) == path
            })
            .collect();
        assert_eq!(found.len(), 1, "{}: one {verb} {path}", self.file());
        found[0].1
    }
}

/// Every Lambda source, `layers/<unit>/*.py` (other directories such as
/// `layers/tests/` hold no Lambda code).
fn layer_sources() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("layers");
    let mut files = BTreeSet::new();
    for unit in Unit::ALL {
        let dir = root.join(unit.id());
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).expect("layer directory") {
            let file = file.expect("layer file").path();
            if file.extension().is_some_and(|e| e == "py") {
                files.insert(file.to_string_lossy().into_owned());
            }
        }
    }
    files
}

/// The first line (1-based) where two texts differ, ignoring trailing
/// newlines (a YAML `|` block keeps exactly one).
fn first_difference<'a>(a: &'a str, b: &'a str) -> Option<(usize, &'a str, &'a str)> {
    let (a, b) = (a.trim_end_matches('\n'), b.trim_end_matches('\n'));
    let (mut left, mut right) = (a.lines(), b.lines());
    for line in 1.. {
        match (left.next(), right.next()) {
            (None, None) => return None,
            (x, y) if x == y => continue,
            (x, y) => return Some((line, x.unwrap_or("<end>"), y.unwrap_or("<end>"))),
        }
    }
    unreachable!()
}

// ===========================================================================
// Helpers: policies, buckets, tables, API Gateway
// ===========================================================================

/// Every IAM policy statement under `v` (role, trust and bucket policies,
/// inside `!If` branches too): any mapping with `Effect` and an action.
fn statements_in(v: Option<&Value>) -> Vec<&Value> {
    v.map(nodes)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| {
            field(n, "Effect").is_some()
                && (field(n, "Action").is_some() || field(n, "NotAction").is_some())
        })
        .collect()
}

fn effect(statement: &Value) -> &str {
    string_at(statement, "Effect").unwrap_or_default()
}

fn actions(statement: &Value) -> Vec<String> {
    texts(field(statement, "Action"))
}

fn resources(statement: &Value) -> Vec<String> {
    texts(field(statement, "Resource"))
}

/// `Principal: '*'` or `Principal: {AWS: '*'}`.
fn is_everyone(principal: Option<&Value>) -> bool {
    match principal {
        Some(Value::String(s)) => s == "*",
        Some(p) => texts(field(p, "AWS")).iter().any(|a| a == "*"),
        None => false,
    }
}

/// The services a role's trust policy admits.
fn trusted_services(role: &Value) -> Vec<String> {
    statements_in(at(role, "Properties.AssumeRolePolicyDocument"))
        .into_iter()
        .filter(|s| effect(s) == "Allow")
        .flat_map(|s| texts(field(s, "Principal").and_then(|p| field(p, "Service"))))
        .collect()
}

fn assert_encrypted(at: &str, bucket: &Value) {
    let rules = req(
        bucket,
        "Properties.BucketEncryption.ServerSideEncryptionConfiguration",
    );
    let rules = seq(rules).map(Vec::as_slice).unwrap_or_default();
    assert!(!rules.is_empty(), "{at}: no encryption rule");
    for rule in rules {
        assert!(
            string_at(rule, "ServerSideEncryptionByDefault.SSEAlgorithm").is_some(),
            "{at}: encryption rule without an algorithm: {}",
            show(rule)
        );
    }
}

fn assert_blocks_public_access(at: &str, bucket: &Value) {
    let block = req(bucket, "Properties.PublicAccessBlockConfiguration");
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(bool_at(block, setting), Some(true), "{at}: {setting}");
    }
}

fn object_ownership(bucket: &Value) -> Vec<String> {
    at(bucket, "Properties.OwnershipControls.Rules")
        .and_then(seq)
        .into_iter()
        .flatten()
        .map(|rule| {
            string_at(rule, "ObjectOwnership")
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// A bucket as a policy names it: by the logical id of its template, or by
/// its name from another template.
enum Bucket<'a> {
    Id(&'a str),
    Named(&'a str),
}

impl Bucket<'_> {
    fn is_bucket(&self, r: &Value) -> bool {
        match self {
            Bucket::Id(id) => get_att(r) == Some((id.to_string(), "Arn".to_string())),
            Bucket::Named(name) => {
                sub_text(r) == Some(format!("arn:${{AWS::Partition}}:s3:::{name}").as_str())
            }
        }
    }

    fn is_objects(&self, r: &Value) -> bool {
        match self {
            Bucket::Id(id) => sub_text(r) == Some(format!("${{{id}.Arn}}/*").as_str()),
            Bucket::Named(name) => {
                sub_text(r) == Some(format!("arn:${{AWS::Partition}}:s3:::{name}/*").as_str())
            }
        }
    }
}

/// The policy denies everyone every S3 action on the bucket and its objects
/// when the request is not over TLS.
fn denies_insecure_transport(policy: &Value, bucket: &Bucket) -> bool {
    statements_in(at(policy, "Properties.PolicyDocument"))
        .into_iter()
        .any(|s| {
            let insecure = at(s, "Condition.Bool.aws:SecureTransport");
            let only_without_tls = matches!(insecure, Some(Value::Bool(false)))
                || insecure.and_then(string) == Some("false");
            let covered: Vec<&Value> = match field(s, "Resource") {
                Some(Value::Sequence(items)) => items.iter().collect(),
                Some(one) => vec![one],
                None => vec![],
            };
            effect(s) == "Deny"
                && is_everyone(field(s, "Principal"))
                && actions(s).iter().any(|a| a == "s3:*")
                && only_without_tls
                && covered.iter().any(|r| bucket.is_bucket(r))
                && covered.iter().any(|r| bucket.is_objects(r))
        })
}

/// (attribute, key type) of a `KeySchema`.
fn key_schema(v: &Value) -> Vec<(&str, &str)> {
    seq(v)
        .into_iter()
        .flatten()
        .map(|key| {
            (
                string_at(key, "AttributeName").unwrap_or_default(),
                string_at(key, "KeyType").unwrap_or_default(),
            )
        })
        .collect()
}

/// Key attributes of the table and of its indexes.
fn all_key_attributes(props: &Value) -> Vec<(&str, &str)> {
    let mut keys = key_schema(req(props, "KeySchema"));
    for index_kind in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        for index in field(props, index_kind).and_then(seq).into_iter().flatten() {
            keys.extend(key_schema(req(index, "KeySchema")));
        }
    }
    keys
}

/// Attribute name -> type of `AttributeDefinitions`.
fn attribute_definitions(props: &Value) -> BTreeMap<&str, &str> {
    seq(req(props, "AttributeDefinitions"))
        .into_iter()
        .flatten()
        .map(|d| {
            (
                string_at(d, "AttributeName").unwrap_or_default(),
                string_at(d, "AttributeType").unwrap_or_default(),
            )
        })
        .collect()
}

/// The `application/json` request mapping template of a method's integration.
fn request_template(method: &Value) -> &str {
    let templates = req(method, "Properties.Integration.RequestTemplates");
    field(templates, "application/json")
        .and_then(text)
        .unwrap_or_else(|| {
            panic!(
                "no application/json request template in {}",
                brief(templates)
            )
        })
}
