//! Rendering safety: literal env values are replaced by `<redacted: literal, N chars>` in
//! everything we print (dry-run output, describe), unless known harmless
//! ([`crate::dump::is_known_harmless`]: what our own builder sets). A name-based guess misses
//! `DB_PASS` and every app's own names, so hiding is the default. Secret and ConfigMap
//! references are shown by reference. The objects we create are not changed; our own builders
//! never put credential literals in them anyway.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodSpec;

/// What a hidden literal of `chars` characters is shown as.
pub fn redacted(chars: usize) -> String {
    format!("<redacted: literal, {chars} chars>")
}

pub fn redact_pod_spec(spec: &mut PodSpec) {
    let containers = spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten());
    for c in containers {
        for e in c.env.iter_mut().flatten() {
            if let Some(v) = &e.value
                && !crate::dump::is_known_harmless(&e.name)
            {
                e.value = Some(redacted(v.chars().count()));
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
