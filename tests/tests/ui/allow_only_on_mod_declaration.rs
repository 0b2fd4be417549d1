use authz_runtime::allow_only;

// `admin/mod.rs` exists; `#[allow_only]` still needs the items written inline.
#[allow_only(in_group("admins"))]
mod admin;

fn main() {}
