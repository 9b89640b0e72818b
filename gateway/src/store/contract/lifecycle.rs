//! Plugin artifacts, buyer bindings and their history (issue 3); the migration that
//! brought them to SQLite files is tested in `sqlite/tests/lifecycle.rs`.

use serde_json::json;

use super::{TestDb, new_buyer};
use crate::store::{BuyerUpdate, NewPluginArtifact, StoreError};

fn artifact(name: &str, version: &str, wasm: &[u8]) -> NewPluginArtifact {
    NewPluginArtifact {
        sha256: format!("sha-of-{}", String::from_utf8_lossy(wasm)),
        name: name.to_owned(),
        version: version.to_owned(),
        description: format!("{name} for tests"),
        content_types: vec!["application/xml".to_owned(), "text/xml".to_owned()],
        wasm: wasm.to_vec(),
    }
}

async fn plugin_uploads_are_idempotent_and_versions_immutable(db: &TestDb) {
    let store = db.store.clone();
    let first = store
        .insert_plugin(artifact("ubl-order", "1.0.0", b"v1"))
        .await
        .unwrap();
    assert_eq!(first.size_bytes, 2);
    assert_eq!(first.content_types, ["application/xml", "text/xml"]);

    // The same upload again returns what is stored, upload time included.
    let again = store
        .insert_plugin(artifact("ubl-order", "1.0.0", b"v1"))
        .await
        .unwrap();
    assert_eq!(again, first);

    // A published version never changes, and one component is one version.
    let changed = store
        .insert_plugin(artifact("ubl-order", "1.0.0", b"v1-patched"))
        .await;
    assert!(
        matches!(changed, Err(StoreError::Conflict(_))),
        "{changed:?}"
    );
    let renamed = store
        .insert_plugin(artifact("ubl-order", "1.0.1", b"v1"))
        .await;
    assert!(
        matches!(renamed, Err(StoreError::Conflict(_))),
        "{renamed:?}"
    );

    store
        .insert_plugin(artifact("ubl-order", "0.9.0", b"late"))
        .await
        .unwrap();
    store
        .insert_plugin(artifact("cxml-order", "2.0.0", b"cx"))
        .await
        .unwrap();

    // By name, then upload order (not version order).
    let listed: Vec<_> = store
        .list_plugins()
        .await
        .unwrap()
        .into_iter()
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    assert_eq!(
        listed,
        ["cxml-order 2.0.0", "ubl-order 1.0.0", "ubl-order 0.9.0"]
    );
    let all = store.all_plugin_wasm().await.unwrap();
    let bytes: Vec<_> = all
        .iter()
        .map(|(p, wasm)| (p.version.as_str(), wasm.as_slice()))
        .collect();
    assert_eq!(
        bytes,
        [
            ("2.0.0", b"cx".as_slice()),
            ("1.0.0", b"v1".as_slice()),
            ("0.9.0", b"late".as_slice())
        ]
    );
    assert_eq!(all[1].0, first);
    assert_eq!(
        store.plugin_wasm("sha-of-v1").await.unwrap(),
        Some(b"v1".to_vec())
    );
    assert_eq!(store.plugin_wasm("sha-of-nope").await.unwrap(), None);
}

async fn update_buyer_rebinds_and_records_history(db: &TestDb) {
    let store = db.store.clone();
    let created = store.create_buyer(new_buyer("byr_a")).await.unwrap();

    // Pin a version: one more binding.
    let pinned = store
        .update_buyer(
            "byr_a",
            BuyerUpdate {
                plugin_version: Some(Some("1.0.0".to_owned())),
                ..BuyerUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(pinned.plugin_version.as_deref(), Some("1.0.0"));
    assert_eq!(
        store.get_buyer("byr_a").await.unwrap(),
        Some(pinned.clone())
    );

    // Name and limits are not the binding; an update that changes nothing writes nothing.
    let renamed = store
        .update_buyer(
            "byr_a",
            BuyerUpdate {
                name: Some("Toko Baru".to_owned()),
                limits: Some(Some(json!({ "memory_mib": 32 }))),
                plugin_config: Some(created.plugin_config.clone()),
                ..BuyerUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Toko Baru");
    assert_eq!(renamed.limits, Some(json!({ "memory_mib": 32 })));
    assert_eq!(renamed.created_at, created.created_at);
    let unchanged = store
        .update_buyer("byr_a", BuyerUpdate::default())
        .await
        .unwrap();
    assert_eq!(unchanged, renamed);

    // Another plugin with its config, in one step; the old pin does not follow.
    let moved = store
        .update_buyer(
            "byr_a",
            BuyerUpdate {
                plugin: Some("cxml-order".to_owned()),
                plugin_config: Some(json!({ "supplier": "X" })),
                limits: Some(None),
                ..BuyerUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (moved.plugin.as_str(), moved.plugin_version.as_deref()),
        ("cxml-order", None)
    );
    assert_eq!(moved.limits, None);

    let history = store.buyer_plugin_history("byr_a").await.unwrap();
    let bindings: Vec<_> = history
        .iter()
        .map(|b| {
            (
                b.plugin.as_str(),
                b.plugin_version.as_deref(),
                &b.plugin_config,
            )
        })
        .collect();
    assert_eq!(
        bindings,
        [
            ("cxml-order", None, &json!({ "supplier": "X" })),
            ("canonical-json", Some("1.0.0"), &created.plugin_config),
            ("canonical-json", None, &created.plugin_config),
        ]
    );
    assert_eq!(history[2].changed_at, created.created_at);
    assert!(
        store
            .buyer_plugin_history("byr_zz")
            .await
            .unwrap()
            .is_empty()
    );

    let missing = store.update_buyer("byr_zz", BuyerUpdate::default()).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

async fn concurrent_rebinds_each_leave_one_history_entry(db: &TestDb) {
    let store = db.store.clone();
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let update = BuyerUpdate {
                    plugin_version: Some(Some(format!("1.{i}.0"))),
                    plugin_config: Some(json!({ "n": i })),
                    ..BuyerUpdate::default()
                };
                store.update_buyer("byr_a", update).await.unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    // Every update landed whole: its version and config together, once in the history,
    // and the newest entry is what the buyer is bound to now.
    let history = store.buyer_plugin_history("byr_a").await.unwrap();
    assert_eq!(history.len(), 13);
    for change in &history[..12] {
        let n = change.plugin_config["n"].as_u64().unwrap();
        assert_eq!(change.plugin_version, Some(format!("1.{n}.0")));
    }
    let buyer = store.get_buyer("byr_a").await.unwrap().unwrap();
    assert_eq!(
        (&buyer.plugin_version, &buyer.plugin_config),
        (&history[0].plugin_version, &history[0].plugin_config)
    );
}

on_every_engine!(
    plugin_uploads_are_idempotent_and_versions_immutable,
    update_buyer_rebinds_and_records_history,
    concurrent_rebinds_each_leave_one_history_entry,
);
