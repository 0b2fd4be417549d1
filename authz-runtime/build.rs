//! Stamps the macros' hidden module with this crate's version (see `src/__private.rs`), and
//! tells the audit registry whether the target's linker gathers its sections (see
//! `src/registry.rs`).

use std::env;
use std::fs;
use std::path::Path;

/// The operating systems whose linkers gather the registry's section.
const LINKED_REGISTRY: &[&str] = &[
    "linux", "android", "macos", "ios", "tvos", "windows", "illumos", "freebsd", "openbsd",
    "fuchsia",
];

fn main() {
    let version = env::var("CARGO_PKG_VERSION").expect("cargo sets the package version");
    let name = format!("__private_{}", version.replace(['.', '-', '+'], "_"));
    let alias = format!(
        "/// The macros' hidden module, under the name `authz-macros` of the same version uses.\n\
         #[doc(hidden)]\npub use crate::__private as {name};\n"
    );
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out).join("private.rs"), alias).expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=build.rs");

    // The targets whose linkers `linkme` gathers sections for; the same list picks `linkme`
    // or `inventory` in Cargo.toml.
    println!("cargo::rustc-check-cfg=cfg(authz_linked_registry)");
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if LINKED_REGISTRY.contains(&target_os.as_str()) {
        println!("cargo::rustc-cfg=authz_linked_registry");
    }
}
