//! Operator grants of `mraa drill`.

use super::Purpose::Drill;
use super::endpoints::HEALTH_CHECKS;
use super::grants::Grant;

pub const GRANTS: &[Grant] = &[
    // `mraa drill`: its probe item (a key of the app-config table no app
    // name can be) and probe objects (under mraa-drill/), removed version by
    // version; the health checks and DNS answers it times; on AWS, the state
    // API's method invoked through API Gateway (TestInvokeMethod).
    Grant {
        sid: "DrillProbeItem",
        purposes: &[Drill],
        actions: &["dynamodb:DeleteItem"],
        resources: &["arn:aws:dynamodb:*:{account}:table/mraa-{app}-app-config"],
        string_equals: &[],
    },
    Grant {
        sid: "DrillProbeObjects",
        purposes: &[Drill],
        actions: &["s3:PutObject", "s3:GetObject", "s3:DeleteObjectVersion"],
        resources: &["arn:aws:s3:::{objects-bucket}/mraa-drill/*"],
        string_equals: &[],
    },
    Grant {
        sid: "DrillProbeVersions",
        purposes: &[Drill],
        actions: &["s3:ListBucketVersions"],
        resources: &["arn:aws:s3:::{objects-bucket}"],
        string_equals: &[],
    },
    Grant {
        sid: "DrillHealth",
        purposes: &[Drill],
        actions: &[
            "route53:GetHealthCheckStatus",
            "route53:ListTagsForResources",
        ],
        resources: &[HEALTH_CHECKS],
        string_equals: &[],
    },
    Grant {
        sid: "DrillLookups",
        purposes: &[Drill],
        actions: &["route53:ListHealthChecks", "route53:TestDNSAnswer"],
        resources: &["*"],
        string_equals: &[],
    },
    Grant {
        sid: "DrillApiRead",
        purposes: &[Drill],
        actions: &["apigateway:GET"],
        resources: &[
            "arn:aws:apigateway:*::/restapis",
            "arn:aws:apigateway:*::/restapis/*/resources",
        ],
        string_equals: &[],
    },
    Grant {
        sid: "DrillApiInvoke",
        purposes: &[Drill],
        actions: &["apigateway:POST"],
        resources: &["arn:aws:apigateway:*::/restapis/*/resources/*/methods/GET"],
        string_equals: &[],
    },
];
