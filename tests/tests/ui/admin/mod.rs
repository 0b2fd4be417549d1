// The out-of-line module of `allow_only_on_mod_declaration.rs`: it exists, so that the only
// errors are about `#[allow_only]` on `mod admin;`.

pub async fn home() {}
