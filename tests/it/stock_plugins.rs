//! The stock plugins committed in plugins/dist are exactly what their sources build.

use crate::harness::{built_plugin, fixture, test_plugins_dir};

#[test]
fn committed_stock_plugins_match_their_sources() {
    test_plugins_dir(); // builds every plugin from source, once per run
    for (name, crate_name) in [
        ("canonical-json", "canonical_json"),
        ("ubl-order", "ubl_order"),
    ] {
        let committed = fixture(&format!("plugins/dist/{name}.wasm"));
        let built = std::fs::read(built_plugin(crate_name)).unwrap();
        assert!(
            committed == built,
            "plugins/dist/{name}.wasm is stale: run plugins/build and commit the result"
        );
    }
}
