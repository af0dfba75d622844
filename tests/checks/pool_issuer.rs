//! The user pool's token issuer, and what each region's API authorizer names,
//! keep sign-in working with the primary region gone.
//!
//! Cognito recommends the UPDATED issuer for replication, but "the updated
//! issuer type is not currently compatible with ... Amazon API Gateway Amazon
//! Cognito authorizers"
//! (<https://docs.aws.amazon.com/cognito/latest/developerguide/federation-endpoints.html>,
//! "Amazon Cognito user pools as an OIDC issuer"), which the application's
//! REST API uses. So the pool keeps the ORIGINAL issuer,
//! `https://cognito-idp.<region>.amazonaws.com/<pool id>`, hosted in the
//! pool's own region; the replica is a pool of the secondary region with the
//! primary's id (the CreateUserPoolReplica response in
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-multi-region.html>),
//! and a COGNITO_USER_POOLS authorizer accepts the tokens of the pools its
//! ProviderARNs name
//! (<https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-integrate-with-cognito.html>).
//! The secondary's authorizer must therefore name the replica, in the
//! secondary region: then the tokens the replica issues are the ones it
//! checks, and nothing of the primary region is read.

use mraa::plan::{Kind, Unit, UserReplication};

use crate::cfn::{self, ACCOUNT, Instance, PARTITION, at};

/// The issuer (`iss`) of the tokens of the pool `arn` names, with the
/// ORIGINAL issuer.
fn original_issuer(arn: &str) -> String {
    let region = arn.split(':').nth(3).unwrap_or_default();
    let id = arn.rsplit('/').next().unwrap_or_default();
    format!("https://cognito-idp.{region}.amazonaws.com/{id}")
}

fn instance(plan: &mraa::plan::Plan, unit: Unit, region: &str) -> Instance {
    cfn::instances(plan)
        .into_iter()
        .find(|t| t.unit == unit && t.region == region && t.kind == Kind::StackSet)
        .unwrap_or_else(|| panic!("no {unit} instance in {region}"))
}

#[test]
fn every_pool_keeps_the_original_issuer() {
    let mut pools = 0;
    for (scenario, t) in cfn::every_instance() {
        for (id, pool) in t.of_type("AWS::Cognito::UserPool") {
            pools += 1;
            let issuer = at(pool, "Properties.IssuerConfiguration.Type").and_then(|v| t.resolve(v));
            assert_eq!(
                issuer.as_deref(),
                Some("ORIGINAL"),
                "{scenario}: {} {id} in {}: the issuer must be ORIGINAL, which API Gateway's \
                 Cognito authorizers accept",
                t.file(),
                t.region
            );
        }
    }
    assert!(pools > 0, "no user pool found");
}

#[test]
fn the_secondary_authorizer_names_the_pool_whose_tokens_the_replica_issues() {
    let mut checked = 0;
    for (scenario, plan) in cfn::scenarios() {
        if plan.user_replication != UserReplication::Native {
            continue;
        }
        checked += 1;
        let (primary, secondary) = (plan.primary.clone(), plan.secondary.clone());
        let pool_id = instance(&plan, Unit::Frontend, &primary)
            .reference("UserPool")
            .expect("the primary's pool");
        // What the replica's tokens carry: the secondary region's pool of
        // the shared id.
        let replica =
            format!("arn:{PARTITION}:cognito-idp:{secondary}:{ACCOUNT}:userpool/{pool_id}");
        let replica_issuer = format!("https://cognito-idp.{secondary}.amazonaws.com/{pool_id}");
        for region in [&primary, &secondary] {
            let t = instance(&plan, Unit::Application, region);
            let authorizer = t.resource("UserPoolAuthorizer").expect("an authorizer");
            let named = t.resolve_all(at(authorizer, "Properties.ProviderARNs"));
            let expected =
                format!("arn:{PARTITION}:cognito-idp:{region}:{ACCOUNT}:userpool/{pool_id}");
            assert_eq!(
                named,
                vec![expected],
                "{scenario}: the authorizer in {region} must name the pool of its own region"
            );
            if *region == secondary {
                assert_eq!(named, vec![replica.clone()], "{scenario}");
                assert_eq!(original_issuer(&named[0]), replica_issuer, "{scenario}");
                assert!(
                    !named[0].contains(&format!(":{primary}:")),
                    "{scenario}: the secondary's authorizer names the primary region"
                );
            }
        }
    }
    assert!(checked > 0, "no scenario with native user replication");
}
