//! Integration and compile-error tests of authz live in `tests/`.
