//! Stamps the macros' hidden module with this crate's version (see `src/__private.rs`).

use std::env;
use std::fs;
use std::path::Path;

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
}
