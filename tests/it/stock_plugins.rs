//! The stock plugins committed in plugins/dist are exactly what their sources build.

use std::collections::BTreeSet;

use crate::harness::{built_plugin, fixture, repo_root, test_plugins_dir};

/// The stock plugins as `plugins/build` names them (`stock=(…)`), the one list
/// of what it copies into plugins/dist.
pub(crate) fn stock_plugin_names() -> BTreeSet<String> {
    let script = std::fs::read_to_string(repo_root().join("plugins/build")).unwrap();
    let list = script
        .lines()
        .find_map(|line| line.strip_prefix("stock=("))
        .and_then(|rest| rest.strip_suffix(')'))
        .expect("plugins/build has a stock=(…) line");
    list.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn committed_stock_plugins_match_their_sources() {
    let stock = stock_plugin_names();
    let committed: BTreeSet<String> = std::fs::read_dir(repo_root().join("plugins/dist"))
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".wasm").map(str::to_owned)
        })
        .collect();
    assert_eq!(
        committed, stock,
        "plugins/dist holds exactly the stock plugins"
    );
    assert_eq!(stock.len(), 7, "{stock:?}");

    test_plugins_dir(); // builds every plugin from source, once per run
    for name in &stock {
        let committed = fixture(&format!("plugins/dist/{name}.wasm"));
        let built = std::fs::read(built_plugin(&name.replace('-', "_"))).unwrap();
        assert!(
            committed == built,
            "plugins/dist/{name}.wasm is stale: run plugins/build and commit the result"
        );
    }
}
