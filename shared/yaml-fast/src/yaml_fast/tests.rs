//! Module tests of the fast path.

use super::*;
use k8s_openapi::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, Pod, ProjectedVolumeSource,
};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Visitor};
use serde_json::{Value, json};

/// A stream in the style `kubectl get -o yaml` (go-yaml) writes.
const KUBECTL: &str = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"web-0"}}
      note: this is a long annotation value that go-yaml wraps onto continuation lines
        at about eighty columns, folded back with single spaces
    creationTimestamp: "2026-11-20T09:14:03Z"
    labels:
      app: web
      statefulset.kubernetes.io/pod-name: web-0
    name: web-0
    namespace: shop
    ownerReferences:
    - apiVersion: apps/v1
      blockOwnerDeletion: true
      controller: true
      kind: StatefulSet
      name: web
      uid: 0b5c6a8e-1111-2222-3333-444455556666
    resourceVersion: "48213"
  spec:
    containers:
    - args:
      - -c
      - |-
        echo start
        exec sleep infinity
      command:
      - /bin/sh
      env:
      - name: MODE
        value: "yes"
      - name: PORT
        value: "8080"
      image: nginx:1.27
      name: web
      ports:
      - containerPort: 80
        name: http
        protocol: TCP
      resources:
        limits:
          cpu: 500m
          memory: 1Gi
        requests:
          cpu: "1"
          memory: 512Mi
      securityContext: {}
      volumeMounts:
      - mountPath: /data
        name: data
    securityContext:
      fsGroup: 2000
    terminationGracePeriodSeconds: 30
    tolerations: []
    volumes:
    - name: data
      persistentVolumeClaim:
        claimName: data-web-0
    - name: kube-api-access
      projected:
        defaultMode: 420
        sources:
        - serviceAccountToken:
            expirationSeconds: 3607
            path: token
        - configMap:
            items:
            - key: ca.crt
              path: ca.crt
            name: kube-root-ca.crt
  status:
    phase: Pending
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata:
    name: data-web-0
    namespace: shop
  spec:
    accessModes:
    - ReadWriteOnce
    resources:
      requests:
        storage: 10Gi
    storageClassName: gp3
    volumeMode: Filesystem
    volumeName: pvc-0b5c6a8e
  status:
    capacity:
      storage: 10Gi
    phase: Bound
- apiVersion: v1
  kind: PersistentVolume
  metadata:
    name: pvc-0b5c6a8e
  spec:
    accessModes:
    - ReadWriteOnce
    capacity:
      storage: 10Gi
    claimRef:
      name: data-web-0
      namespace: shop
    csi:
      driver: ebs.csi.aws.com
      fsType: ext4
      volumeHandle: vol-0123456789abcdef0
    nodeAffinity:
      required:
        nodeSelectorTerms:
        - matchExpressions:
          - key: topology.ebs.csi.aws.com/zone
            operator: In
            values:
            - eu-west-1a
    persistentVolumeReclaimPolicy: Delete
  status:
    phase: Bound
kind: List
metadata:
  resourceVersion: ""
"#;

fn saphyr<'de, T: Deserialize<'de>>(text: &'de str) -> T {
    serde_saphyr::from_str(text).expect("serde-saphyr")
}

#[test]
fn kubectl_list_matches_serde_saphyr_untyped() {
    let fast: Value = from_str(KUBECTL).expect("fast path");
    assert_eq!(fast, saphyr::<Value>(KUBECTL));
    let many: Vec<Value> = from_multiple(KUBECTL).expect("fast path");
    assert_eq!(many, vec![fast.clone()]);
    let note = &fast["items"][0]["metadata"]["annotations"]["note"];
    assert_eq!(
        note,
        "this is a long annotation value that go-yaml wraps onto continuation lines at about eighty columns, folded back with single spaces"
    );
    assert_eq!(
        fast["items"][0]["spec"]["containers"][0]["args"][1],
        "echo start\nexec sleep infinity"
    );
    assert_eq!(
        fast["items"][0]["spec"]["containers"][0]["env"][0]["value"],
        "yes"
    );
}

#[test]
fn kubectl_objects_match_serde_saphyr_typed() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct List {
        items: Vec<Value>,
    }
    let list: List = from_str(KUBECTL).expect("fast path");
    let mut kinds = 0;
    for item in &list.items {
        // Re-emit each item at the root, the way kubectl prints a single object.
        let text = serde_saphyr::to_string(item).expect("serialize");
        match item["kind"].as_str() {
            Some("Pod") => {
                let pod: Pod = from_str(&text).expect("fast Pod");
                assert_eq!(pod, saphyr::<Pod>(&text));
                let projected = pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.volumes.as_ref())
                    .map(|v| v[1].projected.clone());
                let sources: ProjectedVolumeSource = from_str(
                    &serde_saphyr::to_string(&item["spec"]["volumes"][1]["projected"])
                        .expect("serialize"),
                )
                .expect("fast ProjectedVolumeSource");
                assert_eq!(projected, Some(Some(sources)));
            }
            Some("PersistentVolumeClaim") => {
                let pvc: PersistentVolumeClaim = from_str(&text).expect("fast PVC");
                assert_eq!(pvc, saphyr::<PersistentVolumeClaim>(&text));
            }
            Some("PersistentVolume") => {
                let pv: PersistentVolume = from_str(&text).expect("fast PV");
                assert_eq!(pv, saphyr::<PersistentVolume>(&text));
            }
            other => panic!("unexpected kind {other:?}"),
        }
        kinds += 1;
    }
    assert_eq!(kinds, 3);
}

/// The visitor pattern snapshot.rs's DocSink uses: `deserialize_any`, string keys, `Value`
/// values, a seed for `items`, `Value` elements.
#[test]
fn docsink_style_visitor() {
    struct Sink(Vec<(String, usize)>);
    struct ItemsSeed<'a>(&'a mut usize);
    impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
            struct V<'a>(&'a mut usize);
            impl<'de> Visitor<'de> for V<'_> {
                type Value = ();
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("items")
                }
                fn visit_seq<A: de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> std::result::Result<(), A::Error> {
                    while let Some(v) = seq.next_element::<Value>()? {
                        assert!(v.get("kind").is_some());
                        *self.0 += 1;
                    }
                    Ok(())
                }
            }
            d.deserialize_any(V(self.0))
        }
    }
    impl<'de> Deserialize<'de> for Sink {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Sink;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a document")
                }
                fn visit_map<A: de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> std::result::Result<Sink, A::Error> {
                    let mut out = Vec::new();
                    while let Some(k) = map.next_key::<String>()? {
                        if k == "items" {
                            let mut n = 0;
                            map.next_value_seed(ItemsSeed(&mut n))?;
                            out.push((k, n));
                        } else {
                            let _v: Value = map.next_value()?;
                            out.push((k, 0));
                        }
                    }
                    Ok(Sink(out))
                }
            }
            d.deserialize_any(V)
        }
    }
    let fast: Vec<Sink> = from_multiple(KUBECTL).expect("fast path");
    let slow: Vec<Sink> = serde_saphyr::from_multiple(KUBECTL).expect("serde-saphyr");
    assert_eq!(fast.len(), 1);
    assert_eq!(fast[0].0, slow[0].0);
    assert!(fast[0].0.contains(&("items".to_string(), 3)));
}

#[test]
fn unmodified_scalars_are_borrowed() {
    #[derive(Deserialize)]
    struct B<'a> {
        #[serde(borrow)]
        plain: &'a str,
        #[serde(borrow)]
        single: &'a str,
        #[serde(borrow)]
        double: &'a str,
        #[serde(borrow)]
        key_like: Vec<&'a str>,
    }
    let b: B =
        from_str("plain: a b # c\nsingle: 'x y'\ndouble: \"z\"\nkey_like:\n- http://h:80/p\n")
            .expect("borrowed");
    assert_eq!(
        (b.plain, b.single, b.double, b.key_like[0]),
        ("a b", "x y", "z", "http://h:80/p")
    );
    // Folded or escaped scalars are built, so a borrowed target cannot take them.
    assert!(from_str::<B>("plain: a\n  b\nsingle: x\ndouble: y\nkey_like: []\n").is_err());
    assert!(from_str::<B>("plain: a\nsingle: 'it''s'\ndouble: y\nkey_like: []\n").is_err());
}

#[test]
fn plain_scalar_resolution() {
    let cases: &[(&str, Value)] = &[
        ("~", Value::Null),
        ("null", Value::Null),
        ("Yes", json!(true)),
        ("off", json!(false)),
        ("0755", json!(755.0)),
        ("0x1F", json!(31)),
        ("-0x1F", json!(-31)),
        ("0o17", json!(15)),
        ("1_000", json!(1000)),
        ("+12", json!(12)),
        ("1e3", json!(1000.0)),
        ("-.5", json!(-0.5)),
        ("12:30", json!("12:30")),
        ("10Gi", json!("10Gi")),
        ("nan", json!("nan")),
        ("2026-11-20T09:14:03Z", json!("2026-11-20T09:14:03Z")),
    ];
    for (tok, want) in cases {
        let text = format!("k: {tok}\n");
        let fast: Value = from_str(&text).expect("fast path");
        assert_eq!(&fast["k"], want, "{tok}");
        assert_eq!(fast, saphyr::<Value>(&text), "{tok}");
    }
    for tok in [".inf", "-.Inf", ".nan", "1e999"] {
        let text = format!("k: {tok}\n");
        assert!(
            from_str::<Value>(&text).is_err(),
            "{tok}: serde-saphyr rejects non-finite floats here"
        );
        assert!(from_str::<de::IgnoredAny>(&text).is_err(), "{tok}");
    }
}

#[test]
fn declines_name_the_line() {
    let cases: &[(&str, usize)] = &[
        ("a: 1\nb: &anchor 2\n", 2),
        ("a: 1\nb: *alias\n", 2),
        ("a:\n  b: !!int 3\n", 2),
        ("a:\n- [1, 2]\n", 2),
        ("a:\n  b: 1\n\tc: 2\n", 3),
        ("a: 1\n\nb: {x: 1}\n", 3),
        ("a: 1\nb: 2\nc: \"x\u{7}\"\n", 3),
        ("a:\n  b: 1\n  b: 2\n", 3),
    ];
    for (text, line) in cases {
        let e = from_multiple::<Value>(text).expect_err(text);
        assert_eq!(e.line, *line, "{text:?}: {e}");
    }
    assert!(
        from_str::<Value>("a: 1\n---\nb: 2\n").is_err(),
        "from_str takes one document"
    );
}

#[test]
fn empty_and_null_documents_are_skipped_like_serde_saphyr() {
    for text in [
        "",
        "---\n",
        "---\n---\na: 1\n---\n",
        "# c\n---\n# c\n...\n---\nb: 2\n",
    ] {
        let fast: Vec<Value> = from_multiple(text).expect(text);
        let slow: Vec<Value> = serde_saphyr::from_multiple(text).expect(text);
        assert_eq!(fast, slow, "{text:?}");
    }
}
