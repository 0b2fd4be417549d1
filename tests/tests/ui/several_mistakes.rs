use authz_runtime::require;

#[require(any(is_usr("rms"), in_group(5)), mesage = "Only rms or group 5")]
async fn remove_post() {}

fn main() {}
