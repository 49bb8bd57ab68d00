//! `Lockfile::parse` on arbitrary text: never panics; what parses prints back to text that
//! parses to the same lockfile.
#![no_main]

use cache_version_core::lockfile::Lockfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Arbitrary bytes, read as UTF-8 the way a tool reading a file lossily would.
    let text = String::from_utf8_lossy(data);
    match Lockfile::parse(&text) {
        Ok(lock) => {
            let printed = lock.to_text();
            let again = Lockfile::parse(&printed).expect("printed lockfile parses");
            assert_eq!(again, lock, "print/parse round trip");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
