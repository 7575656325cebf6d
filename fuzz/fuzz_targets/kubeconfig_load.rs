//! Loading any bytes as a kubeconfig never panics, and whatever loads survives save → load
//! unchanged (the writer and both YAML readers agree on it).

#![no_main]

use kubetrust_kubeconfig::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(config) = Config::from_bytes(data) else {
        return;
    };
    let yaml = config.to_yaml().expect("a loaded config serializes");
    let reloaded = Config::from_bytes(yaml.as_bytes()).expect("our own output loads");
    assert_eq!(reloaded, config, "{yaml}");
    let json = config.to_json().expect("a loaded config serializes as JSON");
    assert_eq!(
        Config::from_bytes(json.as_bytes()).expect("our own JSON loads"),
        config
    );
    for context in config.contexts.iter().map(|c| c.name.as_str()) {
        let _ = config.minify(Some(context));
    }
});
