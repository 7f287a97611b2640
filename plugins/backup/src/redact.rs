//! Rendering safety: literal env values whose names look like credentials are replaced by
//! `<redacted>` in everything we print (dry-run output, describe). The objects we create are
//! not changed; our own builders never put such values in them anyway.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodSpec;

pub const REDACTED: &str = "<redacted>";

pub fn redact_pod_spec(spec: &mut PodSpec) {
    let containers = spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten());
    for c in containers {
        for e in c.env.iter_mut().flatten() {
            if e.value.is_some() && crate::dump::is_secret_name(&e.name) {
                e.value = Some(REDACTED.into());
            }
        }
    }
}

/// A copy of the Job safe to print.
pub fn redacted_job(job: &Job) -> Job {
    let mut j = job.clone();
    if let Some(spec) = j.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
        redact_pod_spec(spec);
    }
    j
}
