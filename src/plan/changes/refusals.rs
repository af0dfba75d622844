//! Refusals a deploy makes before any change, which `mraa diff` makes
//! too, with the same message and exit code: a plan that the deploy would
//! refuse is no plan.

use crate::aws::Aws;
use crate::error::Result;
use crate::plan::Plan;

use super::import::{self, Kept};

/// Data stores kept by an earlier `teardown` (without `--delete-data`) under
/// the names the layers would create: this app's (tagged `mraa:app` by that
/// teardown) are adopted through CloudFormation's import (see
/// [`super::import`]); a same-named store that is not this app's would make
/// CloudFormation fail half-way (a bucket or table), or be duplicated (a
/// user pool): refused up front with their names, before any change.
pub async fn refuse_if_kept_data_in_the_way(aws: &Aws, plan: &Plan, account: &str) -> Result<Kept> {
    let kept = import::find(aws, plan, account).await?;
    import::refuse_foreign(&kept, plan)?;
    Ok(kept)
}
