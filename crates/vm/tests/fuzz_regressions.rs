//! Replays every input kept in `tests/fuzz/` (inputs the `decode_run` fuzz target once crashed on)
//! through the same harness.

mod support {
    pub(crate) mod decode_run;
}

#[test]
fn fuzz_inputs_replay_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut paths: Vec<_> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    paths.sort();
    assert!(!paths.is_empty(), "no inputs in {}", dir.display());
    for path in paths {
        eprintln!("{}", path.display());
        support::decode_run::decode_run(&std::fs::read(&path).unwrap());
    }
}
