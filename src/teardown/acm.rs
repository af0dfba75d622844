//! The custom domain's ACM certificates (the site-certificate stack in
//! us-east-1, the api-domain instances in each region) and the DNS
//! validation records CloudFormation wrote for them into the hosted zone.
//!
//! CloudFormation never deletes a validation record: ACM asks for the same
//! record for every certificate of the same name in an account, in every
//! region, so another certificate may need it to renew. Teardown deletes a
//! record of mraa's certificates only when no other certificate (listed in
//! us-east-1 and the deployment's regions) validates through it, exactly as
//! Route 53 holds it, and reads the zone back to check it is gone.

use std::collections::{BTreeMap, BTreeSet};

use acm::types::{Filters, KeyAlgorithm};
use aws_sdk_acm as acm;
use aws_sdk_route53 as r53;
use r53::types::{Change, ChangeAction, ChangeBatch, ResourceRecordSet};

use crate::aws::{aws_error, is_not_found, sdk_message};
use crate::error::Result;

use crate::wire::route53::records_named;

pub const STEP: &str = "validation-records";
/// Where failures of Route 53 (which has no region) are reported.
const GLOBAL: &str = "global";

/// One of the app's certificates, as the stack that manages it names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnCertificate {
    pub arn: String,
    pub region: String,
    /// The stack's `HostedZoneId`: where its validation record was written.
    pub zone: Option<String>,
    pub stack: String,
}

/// A validation record one of the app's certificates asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub certificate: String,
    pub domain: String,
    pub zone: Option<String>,
    pub name: String,
    pub kind: String,
    pub value: String,
}

/// A certificate that is not one of the app's, with every name it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherCertificate {
    pub arn: String,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Delete,
    /// Left in the zone, for the reason given.
    Keep(String),
}

/// One validation record and what teardown does with it.
#[derive(Debug, Clone)]
pub struct ValidationRecord {
    pub zone: Option<String>,
    /// As ACM gives it (a fully qualified name, with its final dot).
    pub name: String,
    pub kind: String,
    pub value: String,
    /// The app's domain names validated through it, and their certificates.
    pub domains: Vec<String>,
    pub certificates: Vec<String>,
    pub decision: Decision,
    /// The record set as Route 53 holds it (DELETE must repeat it exactly).
    pub found: Option<ResourceRecordSet>,
}

impl ValidationRecord {
    pub fn deletable(&self) -> bool {
        self.decision == Decision::Delete && self.found.is_some()
    }
}

/// Names compared as DNS does (case, final dot).
fn dns_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The name whose record validates `name`: ACM validates `*.x` through the
/// record of `x`.
fn validated_as(name: &str) -> String {
    let name = dns_name(name);
    match name.strip_prefix("*.") {
        Some(base) => base.to_string(),
        None => name,
    }
}

/// Groups the records the app's certificates ask for (one record serves
/// several of them) and decides each: deleted unless another certificate
/// validates one of its names through it, or the stack named no zone.
pub fn decide(wanted: &[Wanted], others: &[OtherCertificate]) -> Vec<ValidationRecord> {
    let mut records: BTreeMap<(Option<String>, String), ValidationRecord> = BTreeMap::new();
    for w in wanted {
        let key = (w.zone.clone(), dns_name(&w.name));
        let record = records.entry(key).or_insert_with(|| ValidationRecord {
            zone: w.zone.clone(),
            name: w.name.clone(),
            kind: w.kind.clone(),
            value: w.value.clone(),
            domains: Vec::new(),
            certificates: Vec::new(),
            decision: Decision::Delete,
            found: None,
        });
        if !record.domains.contains(&w.domain) {
            record.domains.push(w.domain.clone());
        }
        if !record.certificates.contains(&w.certificate) {
            record.certificates.push(w.certificate.clone());
        }
    }
    let mut decided: Vec<ValidationRecord> = records.into_values().collect();
    for record in &mut decided {
        let ours: BTreeSet<String> = record.domains.iter().map(|d| validated_as(d)).collect();
        let sharing: Vec<String> = others
            .iter()
            .filter_map(|other| {
                let name = other
                    .names
                    .iter()
                    .find(|n| ours.contains(&validated_as(n)))?;
                Some(format!("{} ({name})", other.arn))
            })
            .collect();
        record.decision = if record.zone.is_none() {
            Decision::Keep(
                "kept: its stack names no hosted zone, so mraa cannot tell it wrote it".into(),
            )
        } else if sharing.is_empty() {
            Decision::Delete
        } else {
            Decision::Keep(format!(
                "kept: shared with certificate{} {}, which need{} it to renew",
                if sharing.len() == 1 { "" } else { "s" },
                sharing.join(", "),
                if sharing.len() == 1 { "s" } else { "" },
            ))
        };
    }
    decided
}

/// The set at the record's name that is ACM's record: same type, the one
/// value ACM gave, and none of Route 53's routing (ACM's records have no set
/// identifier).
fn matching<'a>(
    record: &ValidationRecord,
    sets: &'a [ResourceRecordSet],
) -> Option<&'a ResourceRecordSet> {
    sets.iter().find(|set| {
        dns_name(set.name()) == dns_name(&record.name)
            && set.r#type().as_str() == record.kind
            && set.set_identifier().is_none()
            && set.alias_target().is_none()
            && set
                .resource_records()
                .iter()
                .map(|v| dns_name(v.value()))
                .eq([dns_name(&record.value)])
    })
}

/// Every name a certificate covers. A summary that lists no names or not
/// all of them is completed by DescribeCertificate.
async fn names_of(
    client: &acm::Client,
    region: &str,
    summary: &acm::types::CertificateSummary,
) -> Result<Option<Vec<String>>> {
    let mut names: Vec<String> = summary
        .domain_name()
        .into_iter()
        .map(str::to_string)
        .collect();
    names.extend(summary.subject_alternative_name_summaries().iter().cloned());
    let complete = !summary.subject_alternative_name_summaries().is_empty()
        && summary.has_additional_subject_alternative_names() != Some(true);
    if complete {
        return Ok(Some(names));
    }
    let Some(arn) = summary.certificate_arn() else {
        return Ok(Some(names));
    };
    match client
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(out) => {
            if let Some(detail) = out.certificate() {
                names.extend(detail.domain_name().map(str::to_string));
                names.extend(detail.subject_alternative_names().iter().cloned());
            }
            Ok(Some(names))
        }
        // Deleted since it was listed: it needs nothing any more.
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(aws_error(STEP, region, arn, sdk_message(&e))),
    }
}

/// The certificates in `region` that are not among `ours`, every key type
/// (ListCertificates returns RSA_2048 only unless told otherwise).
async fn others_in(
    client: &acm::Client,
    region: &str,
    ours: &BTreeSet<&str>,
) -> Result<Vec<OtherCertificate>> {
    let every_key = Filters::builder()
        .set_key_types(Some(
            KeyAlgorithm::values()
                .iter()
                .map(|v| KeyAlgorithm::from(*v))
                .collect(),
        ))
        .build();
    let mut pages = client
        .list_certificates()
        .includes(every_key)
        .into_paginator()
        .send();
    let mut summaries = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| aws_error(STEP, region, "ListCertificates", sdk_message(&e)))?;
        summaries.extend(page.certificate_summary_list().iter().cloned());
    }
    let mut others = Vec::new();
    for summary in summaries {
        let Some(arn) = summary.certificate_arn() else {
            continue;
        };
        if ours.contains(arn) {
            continue;
        }
        if let Some(names) = names_of(client, region, &summary).await? {
            others.push(OtherCertificate {
                arn: arn.to_string(),
                names,
            });
        }
    }
    Ok(others)
}

/// The validation records of `ours` and what to do with each. Read only:
/// DescribeCertificate for each of ours, ListCertificates in every region of
/// `regions`, and the records' names in their zones. `clients` holds an ACM
/// client for each certificate's region and each of `regions`. Records no
/// longer in the zone (an earlier run deleted them) are left out.
pub async fn read(
    route53: &r53::Client,
    clients: &BTreeMap<String, acm::Client>,
    ours: &[OwnCertificate],
    regions: &[String],
) -> Result<Vec<ValidationRecord>> {
    let client = |region: &str| {
        clients.get(region).ok_or_else(|| {
            aws_error(
                STEP,
                region,
                "ACM",
                "no ACM client for this region (a bug in mraa)",
            )
        })
    };
    let mut wanted = Vec::new();
    for certificate in ours {
        let region = certificate.region.as_str();
        let detail = match client(region)?
            .describe_certificate()
            .certificate_arn(&certificate.arn)
            .send()
            .await
        {
            Ok(out) => out.certificate().cloned(),
            // Gone already (an earlier teardown deleted its stack's resources).
            Err(e) if is_not_found(&e) => None,
            Err(e) => return Err(aws_error(STEP, region, &certificate.arn, sdk_message(&e))),
        };
        for option in detail.iter().flat_map(|d| d.domain_validation_options()) {
            let Some(record) = option.resource_record() else {
                continue;
            };
            wanted.push(Wanted {
                certificate: certificate.arn.clone(),
                domain: option.domain_name().to_string(),
                zone: certificate.zone.clone(),
                name: record.name().to_string(),
                kind: record.r#type().as_str().to_string(),
                value: record.value().to_string(),
            });
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let own: BTreeSet<&str> = ours.iter().map(|c| c.arn.as_str()).collect();
    let mut others = Vec::new();
    for region in regions {
        others.extend(others_in(client(region)?, region, &own).await?);
    }
    let mut records = Vec::new();
    for mut record in decide(&wanted, &others) {
        let Some(zone) = record.zone.clone() else {
            records.push(record);
            continue;
        };
        let sets = records_named(route53, &zone, &record.name)
            .await
            .map_err(|e| aws_error(STEP, GLOBAL, format!("hosted zone {zone}"), e))?;
        record.found = matching(&record, &sets).cloned();
        if record.found.is_some() {
            records.push(record);
        } else if let Some(other) = sets.iter().find(|s| s.r#type().as_str() == record.kind) {
            // Someone else's record of that name: not what ACM asked for.
            record.decision = Decision::Keep(format!(
                "kept: the {} there ({}) is not the record ACM asked for ({})",
                record.kind,
                other
                    .resource_records()
                    .iter()
                    .map(|v| v.value())
                    .collect::<Vec<_>>()
                    .join(", "),
                record.value
            ));
            records.push(record);
        }
    }
    Ok(records)
}

/// What still uses a certificate (ACM's `InUseBy`); `None` when it is gone.
pub async fn in_use_by(
    client: &acm::Client,
    region: &str,
    arn: &str,
) -> Result<Option<Vec<String>>> {
    match client
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(out) => Ok(Some(
            out.certificate()
                .map(|c| c.in_use_by().to_vec())
                .unwrap_or_default(),
        )),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(aws_error(STEP, region, arn, sdk_message(&e))),
    }
}

/// Deletes the deletable records, each exactly as Route 53 holds it now
/// (read again: the set read before confirmation may have changed), then
/// reads each name back. Returns the records that are gone.
pub async fn delete(
    route53: &r53::Client,
    app: &str,
    records: &[ValidationRecord],
) -> Result<Vec<ValidationRecord>> {
    let deletable: Vec<&ValidationRecord> = records.iter().filter(|r| r.deletable()).collect();
    let mut zones: Vec<&str> = deletable.iter().filter_map(|r| r.zone.as_deref()).collect();
    zones.sort_unstable();
    zones.dedup();
    let fail =
        |zone: &str, cause: String| aws_error(STEP, GLOBAL, format!("hosted zone {zone}"), cause);
    let mut gone = Vec::new();
    for zone in zones {
        let here: Vec<&ValidationRecord> = deletable
            .iter()
            .filter(|r| r.zone.as_deref() == Some(zone))
            .copied()
            .collect();
        let mut changes = Vec::new();
        for record in &here {
            let sets = records_named(route53, zone, &record.name)
                .await
                .map_err(|e| fail(zone, e))?;
            if let Some(set) = matching(record, &sets) {
                changes.push(
                    Change::builder()
                        .action(ChangeAction::Delete)
                        .resource_record_set(set.clone())
                        .build()
                        .map_err(|e| fail(zone, e.to_string()))?,
                );
            }
        }
        if !changes.is_empty() {
            let sent = route53
                .change_resource_record_sets()
                .hosted_zone_id(zone)
                .change_batch(
                    ChangeBatch::builder()
                        .comment(format!("mraa {app}: teardown, ACM validation records"))
                        .set_changes(Some(changes))
                        .build()
                        .map_err(|e| fail(zone, e.to_string()))?,
                )
                .send()
                .await;
            if let Err(e) = sent {
                // Gone in the meantime: the read-back below decides.
                if !matches!(e.as_service_error(), Some(s) if s.is_invalid_change_batch()) {
                    return Err(fail(zone, sdk_message(&e)));
                }
            }
        }
        for record in here {
            let sets = records_named(route53, zone, &record.name)
                .await
                .map_err(|e| fail(zone, e))?;
            if matching(record, &sets).is_some() {
                return Err(fail(
                    zone,
                    format!(
                        "the validation record {} is still there after deleting it",
                        dns_name(&record.name)
                    ),
                ));
            }
            gone.push(record.clone());
        }
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str = "Z0123456789";

    fn wanted(certificate: &str, domain: &str, hash: &str) -> Wanted {
        Wanted {
            certificate: certificate.into(),
            domain: domain.into(),
            zone: Some(ZONE.into()),
            name: format!("_{hash}.{domain}."),
            kind: "CNAME".into(),
            value: format!("_{hash}v.acm-validations.aws."),
        }
    }

    fn other(arn: &str, names: &[&str]) -> OtherCertificate {
        OtherCertificate {
            arn: arn.into(),
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    #[test]
    fn one_record_serves_the_api_certificates_of_both_regions() {
        let records = decide(
            &[
                wanted("arn:site", "app.example.com", "a1"),
                wanted("arn:api-eu", "api.app.example.com", "b2"),
                wanted("arn:api-ap", "api.app.example.com", "b2"),
            ],
            &[],
        );
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r.decision == Decision::Delete));
        let api = records
            .iter()
            .find(|r| r.domains == ["api.app.example.com"])
            .expect("the api record");
        assert_eq!(api.certificates, ["arn:api-eu", "arn:api-ap"]);
    }

    #[test]
    fn a_record_another_certificate_validates_through_is_kept_with_its_arn() {
        let records = decide(
            &[
                wanted("arn:site", "app.example.com", "a1"),
                wanted("arn:api", "api.app.example.com", "b2"),
            ],
            &[
                other("arn:theirs", &["www.example.com", "App.Example.com."]),
                other("arn:unrelated", &["example.com", "api.example.com"]),
            ],
        );
        let site = records
            .iter()
            .find(|r| r.domains == ["app.example.com"])
            .expect("the site record");
        match &site.decision {
            Decision::Keep(reason) => {
                assert!(reason.contains("arn:theirs"), "{reason}");
                assert!(reason.contains("renew"), "{reason}");
            }
            Decision::Delete => panic!("a shared record is kept"),
        }
        let api = records
            .iter()
            .find(|r| r.domains == ["api.app.example.com"])
            .expect("the api record");
        assert_eq!(api.decision, Decision::Delete);
    }

    #[test]
    fn a_wildcard_shares_the_record_of_its_base_name_only() {
        let records = decide(
            &[
                wanted("arn:site", "app.example.com", "a1"),
                wanted("arn:api", "api.app.example.com", "b2"),
            ],
            &[other("arn:wild", &["*.app.example.com"])],
        );
        for record in &records {
            let shared = matches!(&record.decision, Decision::Keep(r) if r.contains("arn:wild"));
            // `*.app.example.com` is validated through `app.example.com`'s
            // record; the API name has a record of its own.
            assert_eq!(shared, record.domains == ["app.example.com"], "{record:?}");
        }
    }

    #[test]
    fn without_a_zone_nothing_is_deleted() {
        let mut w = wanted("arn:site", "app.example.com", "a1");
        w.zone = None;
        let records = decide(&[w], &[]);
        assert!(matches!(&records[0].decision, Decision::Keep(r) if r.contains("no hosted zone")));
        assert!(!records[0].deletable());
    }

    #[test]
    fn only_acms_exact_record_matches() {
        let record = decide(&[wanted("arn:site", "app.example.com", "a1")], &[])
            .pop()
            .expect("a record");
        let set = |value: &str, id: Option<&str>| {
            ResourceRecordSet::builder()
                .name("_A1.app.example.com.")
                .r#type(r53::types::RrType::Cname)
                .ttl(300)
                .set_set_identifier(id.map(str::to_string))
                .resource_records(
                    r53::types::ResourceRecord::builder()
                        .value(value)
                        .build()
                        .expect("value"),
                )
                .build()
                .expect("set")
        };
        let acm_value = "_A1V.acm-validations.aws";
        assert!(matching(&record, &[set(acm_value, None)]).is_some());
        assert!(matching(&record, &[set("elsewhere.example.net.", None)]).is_none());
        assert!(matching(&record, &[set(acm_value, Some("weighted"))]).is_none());
    }
}
