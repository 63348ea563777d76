//! The committed header must be exactly what the Rust source generates.

#[test]
fn header_is_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/kuberef.h"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/kuberef.h");
    let committed = std::fs::read_to_string(path).expect("include/kuberef.h");
    assert!(
        generated == committed,
        "include/kuberef.h differs from what src/ffi generates; run `make header` and commit it"
    );
}
