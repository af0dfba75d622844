//! Operator grants for the app's endpoints: API Gateway stages and
//! deployments, Route 53 records and health checks, ACM certificates.

use super::Purpose::{Deploy, Diff, State, Status, Teardown};
use super::grants::{CHANGING, Grant};

const ZONES: &str = "arn:aws:route53:::hostedzone/*";
pub(super) const HEALTH_CHECKS: &str = "arn:aws:route53:::healthcheck/*";

pub const GRANTS: &[Grant] = &[
    // API Gateway: the account's logging setting (read, and set where none
    // is named) and a new deployment of each API to its stage after an
    // update. API ids are random, so paths are the narrowest IAM allows.
    Grant {
        sid: "ApiStages",
        purposes: &[Deploy],
        actions: &["apigateway:GET", "apigateway:PATCH"],
        resources: &[
            "arn:aws:apigateway:*::/account",
            "arn:aws:apigateway:*::/restapis/*/stages/prod",
        ],
        string_equals: &[],
    },
    // Teardown names the logs role the account setting still points at,
    // after the bootstrap stack that made it is gone: a read only.
    Grant {
        sid: "ApiLoggingSetting",
        purposes: &[Teardown],
        actions: &["apigateway:GET"],
        resources: &["arn:aws:apigateway:*::/account"],
        string_equals: &[],
    },
    Grant {
        sid: "ApiDeployments",
        purposes: &[Deploy],
        actions: &["apigateway:GET", "apigateway:POST"],
        resources: &["arn:aws:apigateway:*::/restapis/*/deployments*"],
        string_equals: &[],
    },
    // With a custom domain: the hosted zone's records and the health checks
    // (ids only in their ARNs); zone lookup and health-check listing take no
    // resource.
    // One statement per resource type: an action named with another type's
    // ARN is granted nothing there.
    Grant {
        sid: "DnsRecords",
        purposes: CHANGING,
        actions: &[
            "route53:GetHostedZone",
            "route53:ListResourceRecordSets",
            "route53:ChangeResourceRecordSets",
        ],
        resources: &[ZONES],
        string_equals: &[],
    },
    Grant {
        sid: "DnsChanges",
        purposes: CHANGING,
        actions: &["route53:GetChange"],
        resources: &["arn:aws:route53:::change/*"],
        string_equals: &[],
    },
    Grant {
        sid: "HealthChecks",
        purposes: CHANGING,
        actions: &[
            "route53:GetHealthCheck",
            "route53:UpdateHealthCheck",
            "route53:DeleteHealthCheck",
        ],
        resources: &[HEALTH_CHECKS],
        string_equals: &[],
    },
    Grant {
        sid: "DnsTags",
        purposes: CHANGING,
        actions: &[
            "route53:ChangeTagsForResource",
            "route53:ListTagsForResources",
        ],
        resources: &[ZONES, HEALTH_CHECKS],
        string_equals: &[],
    },
    Grant {
        sid: "DnsLookups",
        // Not the state commands: DNS follows the state without them.
        purposes: &[Deploy, Status, Teardown, Diff],
        actions: &["route53:ListHostedZonesByName", "route53:ListHealthChecks"],
        resources: &["*"],
        string_equals: &[],
    },
    Grant {
        sid: "NewHealthChecks",
        purposes: &[Deploy],
        actions: &["route53:CreateHealthCheck"],
        resources: &["*"],
        string_equals: &[],
    },
    // The state commands make no Route 53 call (DNS follows the state item
    // through the health checks); activate reads the replication rule.
    Grant {
        sid: "StateReplication",
        purposes: &[State],
        actions: &["s3:GetReplicationConfiguration"],
        resources: &["arn:aws:s3:::{objects-bucket}"],
        string_equals: &[],
    },
    // Status shows the records and checks; diff reads what deploy reads
    // before it writes them.
    Grant {
        sid: "DnsView",
        purposes: &[Status, Diff],
        actions: &["route53:GetHostedZone", "route53:ListResourceRecordSets"],
        resources: &[ZONES],
        string_equals: &[],
    },
    Grant {
        sid: "HealthView",
        purposes: &[Status],
        actions: &["route53:GetHealthCheck", "route53:GetHealthCheckStatus"],
        resources: &[HEALTH_CHECKS],
        string_equals: &[],
    },
    Grant {
        sid: "TagsView",
        purposes: &[Status, Diff],
        actions: &["route53:ListTagsForResources"],
        resources: &[ZONES, HEALTH_CHECKS],
        string_equals: &[],
    },
    Grant {
        sid: "DnsAnswer",
        purposes: &[Status],
        actions: &["route53:TestDNSAnswer"],
        resources: &["*"],
        string_equals: &[],
    },
    // Certificates: made by the site-certificate stack and the api-domain
    // StackSet; the stack's handler runs with the caller's credentials and
    // writes the DNS validation record (route53:ChangeResourceRecordSets
    // above). Teardown removes validation records no other certificate uses.
    Grant {
        sid: "Certificates",
        purposes: CHANGING,
        actions: &[
            "acm:DescribeCertificate",
            "acm:DeleteCertificate",
            "acm:AddTagsToCertificate",
            "acm:RemoveTagsFromCertificate",
            "acm:ListTagsForCertificate",
            "acm:UpdateCertificateOptions",
        ],
        resources: &["arn:aws:acm:*:{account}:certificate/*"],
        string_equals: &[],
    },
    // IAM cannot scope a request or a listing: only "*" grants them.
    Grant {
        sid: "NewCertificates",
        purposes: CHANGING,
        actions: &["acm:RequestCertificate", "acm:ListCertificates"],
        resources: &["*"],
        string_equals: &[],
    },
];
