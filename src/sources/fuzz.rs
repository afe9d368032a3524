//! No input may panic the program: the detector and every parser, on arbitrary bytes and on
//! valid fixtures cut short or corrupted. Odd inputs found here become fixtures.

use proptest::prelude::*;

use super::fast::prefilter::{Need, Prefilter};
use super::{Batch, FileReport, detect};

fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn run(data: &[u8]) {
    let mut report = FileReport::new("fuzz".into(), String::new(), data.len() as u64);
    let mut batch = Batch::default();
    if let Ok(content) = detect::detect(data) {
        let _ = detect::read(content, data, &mut batch, &mut report, None);
    }
    assert_eq!(
        report.records_read,
        report.records_used + report.records_rejected
    );
    let _ = batch.finish();
    // And through the prefilter: every record still counted once.
    let filter = Prefilter::for_need(&Need::Jit);
    let mut report = FileReport::new("fuzz".into(), String::new(), data.len() as u64);
    let mut batch = Batch::default();
    if let Ok(content) = detect::detect(data) {
        let _ = detect::read(content, data, &mut batch, &mut report, filter.as_ref());
    }
    assert_eq!(
        report.records_read,
        report.records_used + report.records_rejected + report.records_skipped
    );
    let _ = batch.finish();
}

fn seeds() -> Vec<Vec<u8>> {
    [
        "microsoft/GetJitNetworkAccessPoliciesSubscription_example.json",
        "microsoft/activity-log-schema-administrative-event.json",
        "microsoft/activity-log-eventhubs-records.json",
        "microsoft/PT1H.json",
        "microsoft/NetworkSecurityGroupGet.json",
        "quirks/AzureActivity.csv",
        "quirks/portal-activity-log.csv",
        "quirks/la-query-response.json",
        "dedupe/activity-page-1.json",
    ]
    .iter()
    .map(|f| std::fs::read(fixture(f)).unwrap())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        run(&data);
    }

    #[test]
    fn fixtures_cut_and_corrupted(which in 0usize..9, cut in 0.0f64..1.0, flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..6)) {
        let mut data = seeds()[which].clone();
        for (at, byte) in flips {
            let i = ((data.len() as f64) * at) as usize;
            if i < data.len() {
                data[i] = byte;
            }
        }
        data.truncate(((data.len() as f64) * cut) as usize);
        run(&data);
    }
}

/// Regression fixtures: odd inputs that once broke a parser, kept as they were found.
#[test]
fn odd_inputs_found_by_fuzzing() {
    for data in [
        &b"\xef\xbb\xbf"[..],
        b"{\"value\": [1, 2]}",
        b"{\"records\": \"no\"}",
        b"[null]",
        b"{\"tables\": [{\"columns\": 3, \"rows\": [[1]]}]}",
        b"{}\n{}\n",
        b"Operation name,Time\n,\n",
        b"TimeGenerated\n\"",
    ] {
        run(data);
    }
}
