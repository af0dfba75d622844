//! Who the alarms wake (`mraa deploy --notify`): e-mail addresses, which
//! the alarms unit subscribes to a topic it makes in each Region, or the
//! operator's own topic in each Region. A CloudWatch alarm notifies a topic
//! of its own Region ("Using Amazon CloudWatch alarms", Alarm actions), and
//! the alarms live in both Regions, so a topic ARN is needed for each.
//! Checked offline, before any AWS call.

use crate::config::is_email;
use crate::error::InputError;

use super::{ParamSource, Plan, Unit};

/// The template's value for "no topic of the operator's: make one".
pub const NO_TOPIC: &str = "none";
/// Addresses the template can subscribe (its `NotifyEmails` parameter).
pub const MAX_EMAILS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    Emails(Vec<String>),
    /// The operator's topics: the primary's, then the secondary's.
    Topics {
        primary: String,
        secondary: String,
    },
}

fn refuse(value: &str, reason: impl Into<String>) -> InputError {
    InputError::InvalidNotify {
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// The Region of an SNS topic ARN (`arn:<partition>:sns:<region>:<account>:<name>`).
fn topic_region(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    let name_ok = |n: &str| {
        (1..=256).contains(&n.len())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    match parts.as_slice() {
        ["arn", partition, "sns", region, account, name]
            if partition.starts_with("aws")
                && !region.is_empty()
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && name_ok(name) =>
        {
            Some(region)
        }
        _ => None,
    }
}

impl Notify {
    /// `values` as given (repeatable flag); `None` without any.
    pub fn parse(
        values: &[String],
        primary: &str,
        secondary: &str,
    ) -> Result<Option<Notify>, InputError> {
        let Some(first) = values.first() else {
            return Ok(None);
        };
        if first.starts_with("arn:") {
            let (mut p, mut s) = (None, None);
            for value in values {
                let region = topic_region(value).ok_or_else(|| {
                    refuse(
                        value,
                        "expected an e-mail address or an SNS topic ARN \
                         (arn:aws:sns:<region>:<account>:<name>), not both kinds",
                    )
                })?;
                let slot = if region == primary {
                    &mut p
                } else if region == secondary {
                    &mut s
                } else {
                    return Err(refuse(
                        value,
                        format!(
                            "the topic is in {region}; the alarms are in {primary} and \
                             {secondary}, and CloudWatch notifies a topic of the alarm's own Region"
                        ),
                    ));
                };
                if slot.replace(value.clone()).is_some() {
                    return Err(refuse(value, format!("a second topic in {region}")));
                }
            }
            return match (p, s) {
                (Some(primary), Some(secondary)) => Ok(Some(Notify::Topics { primary, secondary })),
                (None, _) => Err(refuse(
                    first,
                    format!(
                        "give a topic in {primary} too: each Region's alarms notify a topic there"
                    ),
                )),
                (_, None) => Err(refuse(
                    first,
                    format!(
                        "give a topic in {secondary} too: each Region's alarms notify a topic there"
                    ),
                )),
            };
        }
        let mut emails: Vec<String> = Vec::new();
        for value in values {
            if value.starts_with("arn:") || !is_email(value) || value.contains(',') {
                return Err(refuse(
                    value,
                    "expected an e-mail address like ops@example.com, or SNS topic ARNs only",
                ));
            }
            if !emails.contains(value) {
                emails.push(value.clone());
            }
        }
        if emails.len() > MAX_EMAILS {
            return Err(refuse(
                &emails[MAX_EMAILS],
                format!(
                    "at most {MAX_EMAILS} addresses; for more, subscribe them to a topic of \
                     your own in each Region and pass the topics' ARNs"
                ),
            ));
        }
        Ok(Some(Notify::Emails(emails)))
    }
}

impl Plan {
    /// Adds the alarms unit as it is deployed, whoever it notifies: what
    /// teardown removes.
    pub fn with_alarms(mut self) -> Plan {
        if !self.includes(Unit::Alarms) {
            let planned = self.planned(Unit::Alarms);
            self.units.push(planned);
            self.assign_waves();
        }
        self
    }

    /// Adds the alarms unit, notifying `notify`.
    pub fn with_notify(self, notify: &Notify) -> Plan {
        let mut plan = self.with_alarms();
        let (emails, primary, secondary) = match notify {
            Notify::Emails(emails) => (emails.join(","), NO_TOPIC.into(), NO_TOPIC.into()),
            Notify::Topics { primary, secondary } => {
                (String::new(), primary.clone(), secondary.clone())
            }
        };
        for unit in plan.units.iter_mut().filter(|u| u.unit == Unit::Alarms) {
            for (name, value) in [
                ("NotifyEmails", emails.clone()),
                ("PrimaryTopicArn", primary.clone()),
                ("SecondaryTopicArn", secondary.clone()),
            ] {
                unit.parameters
                    .insert(name.into(), ParamSource::Value(value));
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Result<Option<Notify>, InputError> {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        Notify::parse(&values, "eu-west-1", "ap-northeast-1")
    }

    #[test]
    fn addresses_or_one_topic_per_region() {
        assert_eq!(parse(&[]).ok(), Some(None));
        assert_eq!(
            parse(&["ops@example.com", "ops@example.com", "b@example.org"]).ok(),
            Some(Some(Notify::Emails(vec![
                "ops@example.com".into(),
                "b@example.org".into()
            ])))
        );
        let p = "arn:aws:sns:eu-west-1:123456789012:ops";
        let s = "arn:aws:sns:ap-northeast-1:123456789012:ops";
        assert_eq!(
            parse(&[s, p]).ok(),
            Some(Some(Notify::Topics {
                primary: p.into(),
                secondary: s.into()
            }))
        );
    }

    #[test]
    fn what_cannot_notify_both_regions_is_refused() {
        let p = "arn:aws:sns:eu-west-1:123456789012:ops";
        for bad in [
            vec!["not-an-address"],
            vec![p],
            vec![p, "arn:aws:sns:us-east-1:123456789012:ops"],
            vec![p, p],
            vec![p, "ops@example.com"],
            vec!["ops@example.com", p],
            vec!["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"],
        ] {
            let refused = parse(&bad);
            assert!(
                matches!(refused, Err(InputError::InvalidNotify { .. })),
                "{bad:?}: {refused:?}"
            );
        }
    }

    #[test]
    fn only_a_plan_with_someone_to_notify_has_alarms() {
        let plan = Plan::new("demo", "eu-west-1", "ap-northeast-1");
        assert!(!plan.includes(Unit::Alarms));
        let notify = Notify::Emails(vec!["ops@example.com".into()]);
        let plan = plan
            .with_notify(&notify)
            .with_domain("app.example.com", "Z1");
        let alarms = plan.unit(Unit::Alarms).expect("planned");
        assert_eq!(alarms.regions, ["eu-west-1", "ap-northeast-1"]);
        assert_eq!(alarms.depends_on, [Unit::Bootstrap]);
        assert_eq!(
            alarms.parameters.get("NotifyEmails"),
            Some(&ParamSource::Value("ops@example.com".into()))
        );
    }
}
