//! Finding a deployment from AWS alone: the bootstrap stack in the primary
//! region records the app, its regions and its mode in its outputs. No local
//! state file, so any machine or CI job finds the same deployment. With the
//! primary down, the deployment record kept in both regions (see
//! [`crate::app_state`]) names the secondary.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::app_state;
use crate::aws::{
    Aws, SEARCH_TIMEOUT, aws_error, is_not_found, is_unreachable, probe_budget, sdk_message,
};
use crate::cfn::stack;
use crate::config::{Settings, Verbosity};
use crate::error::{InputError, MraaError, Result};
use crate::names;

/// The record of a deployment, as the bootstrap stack holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deployment {
    pub app: String,
    pub primary: String,
    pub secondary: String,
    pub mode: String,
    pub bootstrap_status: String,
    /// How users reach the secondary, as the record says; `None` when the
    /// record could not be read (the primary does not answer).
    pub user_replication: Option<crate::plan::UserReplication>,
}

/// Reads the bootstrap record in the primary region. `Ok(None)`: nothing of
/// this app is recorded there.
pub async fn find(settings: &Settings) -> Result<Option<(Deployment, Aws)>> {
    // The secondary is not known yet; any region builds the primary's clients.
    let probe = Aws::new(
        settings,
        settings.secondary.as_deref().unwrap_or(&settings.primary),
    )
    .await;
    let name = names::stack_name(&settings.app, "bootstrap");
    let found = match probe
        .primary
        .cfn
        .describe_stacks()
        .stack_name(&name)
        .customize()
        // The first call to the primary: a region that does not answer
        // costs this one bounded probe, not every retry of a full budget.
        .config_override(probe_budget())
        .send()
        .await
    {
        Ok(out) => out.stacks().first().cloned(),
        Err(e) if is_not_found(&e) => None,
        Err(e) if is_unreachable(&e) => {
            return Err(MraaError::Unreachable {
                region: settings.primary.clone(),
                cause: sdk_message(&e),
            });
        }
        Err(e) => {
            return Err(aws_error(
                "bootstrap",
                &settings.primary,
                format!("cloudformation:DescribeStacks {name}"),
                sdk_message(&e),
            ));
        }
    };
    let Some(bootstrap) = found else {
        return Ok(None);
    };
    // The record is the bootstrap's parameters (which its outputs echo):
    // parameters are what the stack was created with, on every endpoint.
    let mut outputs = stack::outputs_of(&bootstrap);
    for parameter in bootstrap.parameters() {
        if let (Some(key), Some(value)) = (parameter.parameter_key(), parameter.parameter_value()) {
            outputs
                .entry(key.to_string())
                .or_insert_with(|| value.to_string());
        }
    }
    let status = bootstrap
        .stack_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    let secondary = outputs
        .get("SecondaryRegion")
        .cloned()
        .or_else(|| settings.secondary.clone())
        .ok_or_else(|| {
            MraaError::Io(format!(
                "stack {name} ({status}) records no SecondaryRegion yet: a deploy is creating it, \
                 or one stopped before creating it; run `mraa deploy` to finish it, or pass --secondary"
            ))
        })?;
    if let Some(given) = &settings.secondary
        && given != &secondary
    {
        return Err(InputError::SecondaryMismatch {
            given: given.clone(),
            recorded: secondary,
        }
        .into());
    }
    let deployment = Deployment {
        app: settings.app.clone(),
        primary: outputs
            .get("PrimaryRegion")
            .cloned()
            .unwrap_or_else(|| settings.primary.clone()),
        secondary: secondary.clone(),
        mode: outputs
            .get("Mode")
            .cloned()
            .unwrap_or_else(|| "active-passive".into()),
        bootstrap_status: bootstrap
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        user_replication: Some(crate::plan::UserReplication::from_recorded(
            outputs.get("UserReplication").map(String::as_str),
        )),
    };
    let aws = if probe.secondary.region == secondary {
        probe
    } else {
        Aws::new(settings, &secondary).await
    };
    Ok(Some((deployment, aws)))
}

/// How a deploy (or diff) replicates users: the mode asked for, else the one
/// the deployment records in its bootstrap stack (`bootstrap`, as read; one
/// without the record predates native replication: import), else native
/// where both regions offer it. Asking for another mode than the
/// deployment's is refused: the other mode's pools would be left behind.
pub fn user_replication(
    settings: &Settings,
    secondary: &str,
    bootstrap: Option<&aws_sdk_cloudformation::types::Stack>,
) -> std::result::Result<crate::plan::UserReplication, InputError> {
    use crate::plan::UserReplication;
    let recorded = bootstrap.map(|found| {
        UserReplication::from_recorded(
            stack::outputs_of(found)
                .get("UserReplication")
                .map(String::as_str),
        )
    });
    match (settings.user_replication, recorded) {
        (Some(given), Some(recorded)) if given != recorded => {
            Err(InputError::UserReplicationMismatch {
                given: given.to_string(),
                recorded: recorded.to_string(),
            })
        }
        (Some(given), _) => Ok(given),
        (None, Some(recorded)) => Ok(recorded),
        (None, None) => Ok(UserReplication::default_for(&settings.primary, secondary)),
    }
}

/// Where a command with the primary down learns the secondary from, for
/// its error when none is known.
pub const SECONDARY_SOURCES: &str = "pass --secondary REGION, set MRAA_SECONDARY, or put \
     `secondary: REGION` in the configuration file";

/// What a command with the primary down is told when the search for the
/// deployment record found nothing.
pub const RECORD_NOT_FOUND: &str = "no other region answered with a deployment record \
     (the app-config table's) naming the secondary";

/// The clients of a deployment whose primary does not answer, with the
/// secondary the settings name, or else the one the deployment record names
/// (searched for in every other region, bounded by [`SEARCH_TIMEOUT`]; one
/// line on `messages` says where it was found). `None`: neither names one.
pub async fn without_primary(settings: &Settings, messages: &mut dyn Write) -> Option<Aws> {
    if let Some(secondary) = &settings.secondary {
        return Some(Aws::new(settings, secondary).await);
    }
    let aws = Aws::new(settings, &settings.primary).await;
    let candidates = crate::regions::other_regions(&settings.primary);
    let found = search(candidates, SEARCH_TIMEOUT, |region| {
        let client = aws.dynamodb_search_in(region);
        async move {
            match app_state::read_record(&client, &settings.app).await {
                // Only a record of this deployment counts: it names the
                // given primary, and the region that holds it as the
                // secondary (the same app name may be deployed elsewhere).
                Ok(Some(record)) => {
                    record.primary == settings.primary && record.secondary == region
                }
                Ok(None) => false,
                // A region the account has not enabled takes no request
                // (see `aws::disabled_opt_in_regions`) and one without the
                // table answers ResourceNotFoundException (DynamoDB API
                // Reference, GetItem, "Errors",
                // <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html>):
                // either way, not here.
                Err(cause) => {
                    tracing::debug!("no deployment record in {region}: {cause}");
                    false
                }
            }
        }
    })
    .await?;
    if settings.verbosity != Verbosity::Quiet {
        let _ = writeln!(
            messages,
            "found the secondary {found} from the deployment record in {found}"
        );
    }
    Some(aws.with_secondary(found))
}

/// Asks every candidate at once; the first to answer `true` wins. Ends
/// after `budget` whatever the candidates do: `None` when none said yes by
/// then.
async fn search<'a, F, Fut>(candidates: Vec<&'a str>, budget: Duration, ask: F) -> Option<&'a str>
where
    F: Fn(&'a str) -> Fut,
    Fut: Future<Output = bool>,
{
    let mut asking: FuturesUnordered<_> = candidates
        .into_iter()
        .map(|region| {
            let answer = ask(region);
            async move { answer.await.then_some(region) }
        })
        .collect();
    let first = async {
        while let Some(answer) = asking.next().await {
            if answer.is_some() {
                return answer;
            }
        }
        None
    };
    tokio::time::timeout(budget, first).await.ok().flatten()
}

/// The custom domain a deployment already serves, read from its stacks:
/// the edge stack's `SiteDomain` parameter (`edge`, already read by the
/// caller) and the site certificate stack's `HostedZoneId` (us-east-1, read
/// here and returned too). `Ok(None)` when the edge serves no custom domain
/// (or does not exist). No Route 53 call.
pub async fn deployed_domain(
    aws: &Aws,
    app: &str,
    edge: Option<&aws_sdk_cloudformation::types::Stack>,
) -> Result<Option<(String, String, aws_sdk_cloudformation::types::Stack)>> {
    let parameter = |stack: &aws_sdk_cloudformation::types::Stack, key: &str| {
        stack::parameter_map(stack.parameters())
            .remove(key)
            .filter(|v| !v.is_empty())
    };
    let Some(domain) = edge.and_then(|s| parameter(s, "SiteDomain")) else {
        return Ok(None);
    };
    let region = crate::plan::CERTIFICATE_REGION;
    let certificate_name = names::stack_name(app, "site-certificate");
    let certificate = stack::describe(&aws.cfn_in(region), &certificate_name)
        .await
        .map_err(|e| aws_error("site-certificate", region, &certificate_name, e))?;
    let zone = certificate
        .as_ref()
        .and_then(|found| parameter(found, "HostedZoneId"));
    match (zone, certificate) {
        (Some(zone), Some(found)) => Ok(Some((domain, zone, found))),
        _ => Err(aws_error(
            "site-certificate",
            region,
            &certificate_name,
            format!(
                "the edge serves the custom domain {domain} but this stack, which holds its \
                 certificate and hosted zone, is missing; run `mraa deploy --domain {domain}` to \
                 restore it"
            ),
        )),
    }
}

/// Each region's setting: the role it names, if any. Read only.
pub async fn api_logging_settings(aws: &Aws) -> Result<BTreeMap<String, Option<String>>> {
    let mut found = BTreeMap::new();
    for clients in aws.regions() {
        let role = role_named(&clients.apigateway).await.map_err(|e| {
            aws_error(
                "bootstrap",
                &clients.region,
                "API Gateway account settings",
                e,
            )
        })?;
        found.insert(clients.region.clone(), role);
    }
    Ok(found)
}

/// The role one region's account settings name, if any.
pub async fn role_named(
    client: &aws_sdk_apigateway::Client,
) -> std::result::Result<Option<String>, String> {
    let account = client
        .get_account()
        .send()
        .await
        .map_err(|e| sdk_message(&e))?;
    Ok(account
        .cloudwatch_role_arn()
        .filter(|r| !r.is_empty())
        .map(str::to_string))
}

/// The ids of the region's Cognito user pools named `name`. Pool ARNs carry
/// ids only and Cognito allows two pools of one name, so listing is the only
/// way to find them.
pub async fn user_pools(
    client: &aws_sdk_cognitoidentityprovider::Client,
    name: &str,
) -> std::result::Result<Vec<String>, String> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_user_pools()
            .max_results(60)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        ids.extend(
            out.user_pools()
                .iter()
                .filter(|p| p.name() == Some(name))
                .filter_map(|p| p.id().map(str::to_string)),
        );
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next.to_string()),
            None => return Ok(ids),
        }
    }
}

/// A table of the region as DynamoDB describes it, with its tags (key,
/// value); `None` when no table has that name. Deploy reads it to tell a
/// kept table of this app, teardown to tell what it may delete.
pub async fn table_with_tags(
    clients: &crate::aws::RegionClients,
    name: &str,
) -> std::result::Result<
    Option<(
        aws_sdk_dynamodb::types::TableDescription,
        Vec<(String, String)>,
    )>,
    String,
> {
    let table = match clients
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
    {
        Ok(out) => out.table().cloned(),
        Err(e) if is_not_found(&e) => None,
        Err(e) => return Err(sdk_message(&e)),
    };
    let Some(table) = table else {
        return Ok(None);
    };
    let mut tags = Vec::new();
    if let Some(arn) = table.table_arn() {
        let listed = clients
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_message(&e))?;
        tags = listed
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
    }
    Ok(Some((table, tags)))
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::time::Instant;

    /// Every candidate hangs: the search ends, empty, at its budget.
    #[tokio::test(start_paused = true)]
    async fn a_search_where_every_region_hangs_ends_at_its_budget() {
        let started = Instant::now();
        let found = search(
            crate::regions::other_regions("us-east-1"),
            SEARCH_TIMEOUT,
            |_| std::future::pending::<bool>(),
        )
        .await;
        assert_eq!(found, None);
        assert_eq!(started.elapsed(), SEARCH_TIMEOUT);
    }

    /// The region that says yes wins as soon as it does, while others still
    /// hang or have said no.
    #[tokio::test(start_paused = true)]
    async fn the_first_region_that_holds_the_record_wins_without_waiting_for_the_rest() {
        let started = Instant::now();
        let found = search(
            vec!["eu-west-1", "ap-northeast-1", "af-south-1"],
            SEARCH_TIMEOUT,
            |region| async move {
                match region {
                    "ap-northeast-1" => {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        true
                    }
                    "af-south-1" => std::future::pending().await,
                    _ => false,
                }
            },
        )
        .await;
        assert_eq!(found, Some("ap-northeast-1"));
        assert_eq!(started.elapsed(), Duration::from_millis(300));
    }

    /// Every region answers no: the search ends at once, empty.
    #[tokio::test(start_paused = true)]
    async fn a_search_answered_no_everywhere_ends_at_once() {
        let started = Instant::now();
        let found = search(vec!["eu-west-1", "ap-northeast-1"], SEARCH_TIMEOUT, |_| {
            std::future::ready(false)
        })
        .await;
        assert_eq!(found, None);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
