//! The authz demo.
fn main() {}
