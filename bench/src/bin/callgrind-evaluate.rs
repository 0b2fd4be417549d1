//! Evaluates one rule of `benches/evaluate.rs` on warm credentials `--count` times, for
//! callgrind: the instructions of one evaluation are the difference between two counts over
//! the difference of `--count`, which no other load on the host changes.
//!
//! ```text
//! valgrind --tool=callgrind callgrind-evaluate --rule deep --count 1000
//! valgrind --tool=callgrind callgrind-evaluate --rule deep --count 11000
//! ```

use std::hint::black_box;

use authz_bench::rules;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut rule, mut count) = (String::from("deep"), 1000_u64);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--rule" => rule = value,
            "--count" => count = value.parse().expect("--count is a number"),
            _ => panic!("unknown argument {arg}"),
        }
    }
    let mut request = rules::rms();
    let met = match rule.as_str() {
        "admin" => rules::run(&mut request, &rules::admin(), count),
        "deep" => rules::run(&mut request, &rules::deep(), count),
        "deep-not-any" => rules::run(&mut request, &rules::deep_not_any(), count),
        _ => panic!("unknown rule {rule}: admin, deep or deep-not-any"),
    };
    black_box(met);
}
