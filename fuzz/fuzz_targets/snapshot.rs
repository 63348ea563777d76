//! Fuzzes the snapshot file reader (`kuberef::persist::SnapshotReader`),
//! which `kuberef_load` and the `kuberef` tool run on files anyone may have
//! written: any bytes must give a result, never a panic, an allocation beyond
//! the input's size, or a read past it. After every input it checks:
//!
//! * the checking pass and the reading pass agree (same error, or both
//!   whole with the header's record count);
//! * every record a whole file yields respects the string limit and can be
//!   stored in a manager;
//! * a whole file is exactly what encoding its records again gives, byte for
//!   byte (so the format has one encoding, and the reader loses nothing).

#![no_main]

use std::io::Cursor;

use kuberef::persist::{encode_header, encode_record, Crc32, SnapshotReader};
use kuberef::{ContainerIdRef, RefManager, MAX_STR_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = match SnapshotReader::new(Cursor::new(data), data.len() as u64) {
        Ok(r) => r,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let header = *reader.header();
    let checked = reader.verify();
    let manager = RefManager::new();
    let mut payload = Vec::new();
    let read = reader.for_each_record(|at, id, r| {
        assert!(at >= 40 && at < data.len() as u64);
        for part in [id.typ, id.id].into_iter().chain(r.fields()) {
            assert!(part.len() <= MAX_STR_LEN);
        }
        manager.set(id, r).expect("within the limit");
        encode_record(&mut payload, ContainerIdRef::new(id.typ, id.id), r);
    });
    match (checked, read) {
        (Ok(()), Ok(n)) => {
            assert_eq!(n, header.count);
            assert!(manager.len() as u64 <= n);
            let mut again = encode_header(n, payload.len() as u64, Crc32::of(&payload)).to_vec();
            again.extend_from_slice(&payload);
            assert_eq!(again, data, "a whole file re-encodes to itself");
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("the passes disagree: {a:?} / {b:?}"),
    }
});
