//! `ParsedKey::parse` and `validate_name` on arbitrary bytes: never panic; a parsed key has
//! valid names and a 16-digit version, and building it again gives the same bytes.
#![no_main]

use cache_version_core::key::{validate_name, NameKind, ParsedKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(p) = ParsedKey::parse(data) {
        assert!(validate_name(NameKind::Namespace, p.namespace).is_ok());
        assert!(validate_name(NameKind::Model, p.model).is_ok());
        assert_eq!(p.version.len(), 16);
        let mut rebuilt = Vec::with_capacity(data.len());
        for part in [p.namespace.as_bytes(), b":", p.model.as_bytes(), b":"] {
            rebuilt.extend_from_slice(part);
        }
        rebuilt.extend_from_slice(p.version.as_bytes());
        rebuilt.push(b':');
        rebuilt.extend_from_slice(p.logical);
        assert_eq!(rebuilt, data);
    }
    let text = String::from_utf8_lossy(data);
    for kind in [NameKind::Namespace, NameKind::Model] {
        match validate_name(kind, &text) {
            Ok(()) => assert!(!text.contains([':', '*', '?', '[', ']', '\\', '{', '}'])),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
