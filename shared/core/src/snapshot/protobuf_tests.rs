use super::*;
use crate::snapshot::lean;

#[derive(Clone, PartialEq, Message)]
struct PodList {
    #[prost(message, optional, tag = "1")]
    metadata: Option<ListMeta>,
    #[prost(message, repeated, tag = "2")]
    items: Vec<PbPod>,
}

/// `msg` in the envelope the API server writes: magic, then a `runtime.Unknown` with its type
/// and the message as `raw`.
fn envelope(kind: &str, msg: &[u8]) -> Vec<u8> {
    #[derive(Clone, PartialEq, Message)]
    struct TypeMeta {
        #[prost(string, optional, tag = "1")]
        api_version: Option<String>,
        #[prost(string, optional, tag = "2")]
        kind: Option<String>,
    }
    #[derive(Clone, PartialEq, Message)]
    struct Unknown {
        #[prost(message, optional, tag = "1")]
        type_meta: Option<TypeMeta>,
        #[prost(bytes = "vec", optional, tag = "2")]
        raw: Option<Vec<u8>>,
        #[prost(string, optional, tag = "3")]
        content_encoding: Option<String>,
        #[prost(string, optional, tag = "4")]
        content_type: Option<String>,
    }
    let mut out = MAGIC.to_vec();
    Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some("v1".into()),
            kind: Some(kind.into()),
        }),
        raw: Some(msg.to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    }
    .encode(&mut out)
    .unwrap();
    out
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn entry(k: &str, v: &str) -> Entry {
    Entry {
        key: s(k),
        value: s(v),
    }
}

/// A pod as Go's protobuf writes it: every non-pointer field, empty or not.
fn pod() -> PbPod {
    let mount = |name: &str, ro: bool, sub: &str| PbMount {
        name: s(name),
        read_only: Some(ro),
        mount_path: s(&format!("/{name}")),
        sub_path: s(sub),
        sub_path_expr: s(""),
    };
    let vol = |name: &str, known: PbSources| PbVolume {
        name: s(name),
        source: Some(PbSource {
            known,
            others: vec![],
        }),
    };
    PbPod {
        metadata: Some(PbMeta {
            name: s("db-0"),
            namespace: s("prod"),
            uid: s("u-1"),
            creation_timestamp: Some(PbTime {
                seconds: Some(1_700_000_000),
                nanos: Some(0),
            }),
            // Go's zero time: an empty message.
            deletion_timestamp: None,
            labels: vec![entry("b", "2"), entry("a", "1"), entry("b", "3")],
            annotations: vec![
                entry("kubectl.kubernetes.io/last-applied-configuration", "{}"),
                entry("volume.kubernetes.io/selected-node", "n1"),
            ],
            owner_references: vec![PbOwner {
                kind: s("StatefulSet"),
                name: s("db"),
                uid: s("u-0"),
                api_version: s("apps/v1"),
                controller: Some(true),
                block_owner_deletion: None,
            }],
        }),
        spec: Some(PbPodSpec {
            volumes: vec![
                vol(
                    "data",
                    PbSources {
                        persistent_volume_claim: Some(PbClaimSource {
                            claim_name: s("data-db-0"),
                            read_only: Some(false),
                        }),
                        ..Default::default()
                    },
                ),
                vol(
                    "scratch",
                    PbSources {
                        empty_dir: Some(PbEmptyDir {
                            medium: s(""),
                            size_limit: Some(PbString { string: s("1Gi") }),
                        }),
                        ..Default::default()
                    },
                ),
                vol(
                    "host",
                    PbSources {
                        host_path: Some(PbHostPath {
                            path: s("/srv"),
                            type_: s(""),
                        }),
                        ..Default::default()
                    },
                ),
                vol(
                    "cfg",
                    PbSources {
                        config_map: Some(PbConfigMap {
                            local_object_reference: Some(PbName { name: s("cfg") }),
                        }),
                        ..Default::default()
                    },
                ),
                vol(
                    "sec",
                    PbSources {
                        secret: Some(PbName { name: s("") }),
                        ..Default::default()
                    },
                ),
                vol(
                    "nfs",
                    PbSources {
                        nfs: Some(PbNfs {
                            server: s("fs.example"),
                            path: s("/export"),
                            read_only: Some(true),
                        }),
                        ..Default::default()
                    },
                ),
                vol(
                    "inline",
                    PbSources {
                        csi: Some(PbCsi {
                            driver: s("secrets-store.csi.k8s.io"),
                            read_only: Some(false),
                            fs_type: None,
                            volume_attributes: vec![entry("z", "1"), entry("a", "2")],
                            node_publish_secret_ref: Some(PbName { name: s("creds") }),
                        }),
                        ..Default::default()
                    },
                ),
                vol(
                    "img",
                    PbSources {
                        image: Some(PbImage {
                            reference: s("busybox"),
                            pull_policy: s(""),
                        }),
                        ..Default::default()
                    },
                ),
                vol(
                    "eph",
                    PbSources {
                        ephemeral: Some(Present {}),
                        ..Default::default()
                    },
                ),
                vol(
                    "proj",
                    PbSources {
                        projected: Some(Present {}),
                        downward_api: None,
                        ..Default::default()
                    },
                ),
            ],
            containers: vec![PbContainer {
                name: s("db"),
                volume_mounts: vec![mount("data", false, ""), mount("scratch", true, "tmp")],
            }],
            node_name: s(""),
            init_containers: vec![],
        }),
        status: Some(PbPodStatus {
            phase: s("Pending"),
            conditions: vec![PbCondition {
                type_: s("PodScheduled"),
                status: s("False"),
                reason: s("Unschedulable"),
                message: s(""),
            }],
            message: s(""),
            reason: s(""),
        }),
    }
}

/// The same pod as the API server's JSON says it (omitempty fields left out).
fn pod_json() -> serde_json::Value {
    serde_json::json!({
        "metadata": {
            "name": "db-0", "namespace": "prod", "uid": "u-1",
            "creationTimestamp": "2023-11-14T22:13:20Z",
            "labels": {"a": "1", "b": "3"},
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "volume.kubernetes.io/selected-node": "n1"
            },
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db",
                                 "uid": "u-0", "controller": true}]
        },
        "spec": {
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}},
                {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}},
                {"name": "host", "hostPath": {"path": "/srv", "type": ""}},
                {"name": "cfg", "configMap": {"name": "cfg"}},
                {"name": "sec", "secret": {}},
                {"name": "nfs", "nfs": {"server": "fs.example", "path": "/export", "readOnly": true}},
                {"name": "inline", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": false,
                    "volumeAttributes": {"a": "2", "z": "1"}, "nodePublishSecretRef": {"name": "creds"}}},
                {"name": "img", "image": {"reference": "busybox"}},
                {"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
                {"name": "proj", "projected": {"sources": []}}
            ],
            "containers": [{"name": "db", "volumeMounts": [
                {"name": "data", "mountPath": "/data"},
                {"name": "scratch", "mountPath": "/scratch", "readOnly": true, "subPath": "tmp"}
            ]}]
        },
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]
        }
    })
}

fn list(token: &str, items: Vec<PbPod>) -> Vec<u8> {
    let raw = PodList {
        metadata: Some(ListMeta {
            continue_: s(token),
        }),
        items,
    }
    .encode_to_vec();
    envelope("PodList", &raw)
}

#[test]
fn a_protobuf_pod_reads_as_its_json_does() {
    let body = list("next-page", vec![pod(), PbPod::default()]);
    let page = pods(&body).unwrap();
    assert_eq!(page.continue_.as_deref(), Some("next-page"));
    let want: lean::Pod = serde_json::from_value(pod_json()).unwrap();
    assert_eq!(page.items[0], want);
    // The snapshot keeps these vectors: no room left over from the protobuf form.
    let spec = page.items[0].spec.as_ref().unwrap();
    let vols = spec.volumes.as_ref().unwrap();
    assert_eq!(vols.capacity(), vols.len());
    assert_eq!(spec.containers.capacity(), spec.containers.len());
    // A pod with nothing at all, as an empty JSON object reads.
    let empty: lean::Pod = serde_json::from_value(serde_json::json!({})).unwrap();
    assert_eq!(page.items[1], empty);
    // The last page says no token.
    assert_eq!(pods(&list("", vec![])).unwrap().continue_, None);
}

#[test]
fn other_volume_sources_are_named_as_in_json() {
    // A pod whose two volumes have sources the lean type does not describe: iscsi (field 8),
    // and a field this build does not know (40), each holding one string.
    let source = |tag: u32| -> Vec<u8> {
        let inner = [0x0a, 0x01, b'x']; // field 1: "x"
        let mut v = Vec::new();
        prost::encoding::encode_key(tag, prost::encoding::WireType::LengthDelimited, &mut v);
        v.push(inner.len() as u8);
        v.extend_from_slice(&inner);
        v
    };
    let volume = |name: &str, tag: u32| -> Vec<u8> {
        let src = source(tag);
        let mut v = vec![0x0a, name.len() as u8];
        v.extend_from_slice(name.as_bytes());
        v.push(0x12);
        v.push(src.len() as u8);
        v.extend_from_slice(&src);
        v
    };
    let mut spec = Vec::new();
    for (name, tag) in [("iscsi", 8), ("future", 40)] {
        let v = volume(name, tag);
        spec.push(0x0a);
        spec.push(v.len() as u8);
        spec.extend_from_slice(&v);
    }
    let mut p = vec![0x12, spec.len() as u8];
    p.extend_from_slice(&spec);
    let mut raw = vec![0x12];
    raw.push(p.len() as u8);
    raw.extend_from_slice(&p);
    let page = pods(&envelope("PodList", &raw)).unwrap();
    let vols = page.items[0]
        .spec
        .as_ref()
        .unwrap()
        .volumes
        .as_ref()
        .unwrap();
    assert_eq!(vols[0].other.as_deref(), Some("iscsi"));
    assert_eq!(
        vols[1].other.as_deref(),
        Some("a source unknown to this build (protobuf field 40)")
    );
    let json: lean::Pod = serde_json::from_value(serde_json::json!({"spec": {"volumes": [
        {"name": "iscsi", "iscsi": {"targetPortal": "x"}}]}}))
    .unwrap();
    assert_eq!(
        json.spec.unwrap().volumes.unwrap()[0].other.as_deref(),
        Some("iscsi")
    );
}

#[test]
fn the_continue_token_is_read_once_the_lists_head_has_arrived() {
    let body = list("tok", vec![pod(), pod()]);
    let mut seen = None;
    for n in 0..=body.len() {
        match continue_in_head(&body[..n]) {
            None => assert!(
                seen.is_none(),
                "the token was known, then not, at {n} bytes"
            ),
            Some(t) => {
                assert_eq!(t.as_deref(), Some("tok"), "at {n} bytes");
                seen.get_or_insert(n);
            }
        }
    }
    // Known long before the items have arrived.
    assert!(seen.unwrap() < 64, "{seen:?}");
    assert_eq!(continue_in_head(&list("", vec![pod()])), Some(None));
    // JSON, or anything else, is not a protobuf head.
    assert_eq!(continue_in_head(br#"{"kind":"PodList"}"#), None);
}

#[test]
fn a_protobuf_status_is_an_api_error() {
    let raw = Status {
        status: s("Failure"),
        message: s("pods is forbidden: User \"x\" cannot list resource \"pods\""),
        reason: s("Forbidden"),
        code: Some(403),
    }
    .encode_to_vec();
    let st = status(&envelope("Status", &raw)).unwrap();
    assert_eq!(st.code, 403);
    assert_eq!(st.reason, "Forbidden");
    assert!(st.message.starts_with("pods is forbidden"));
    assert!(status(b"<html>403</html>").is_none());
}

#[test]
fn what_is_not_a_protobuf_list_is_an_error_not_a_panic() {
    assert!(
        pods(b"{\"kind\":\"PodList\"}")
            .unwrap_err()
            .contains("no k8s")
    );
    let body = list("tok", vec![pod()]);
    // (The envelope ends with two empty strings, 4 bytes: cut inside the pods.)
    for n in [5, 12, body.len() / 2, body.len() - 5] {
        assert!(pods(&body[..n]).is_err(), "{n} bytes");
    }
    assert!(pods(&envelope("PodList", &[0xff, 0xff])).is_err());
    let typed = |t: &'static str| {
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(t),
        );
        h
    };
    assert!(is_protobuf(&typed("application/vnd.kubernetes.protobuf")));
    assert!(!is_protobuf(&typed("application/json")));
    assert!(!is_protobuf(&http::HeaderMap::new()));
}
