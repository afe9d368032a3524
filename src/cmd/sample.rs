//! `jitaudit sample`: write the synthetic tenant.

use anyhow::Result;

use crate::cli::SampleArgs;
use crate::exit::Exit;
use crate::sample::{self, Estate, Settings};

pub fn run(args: SampleArgs) -> Result<Exit> {
    let settings = Settings {
        seed: args.seed,
        days: args.days,
        scale: args.scale,
        jsonl_only: args.jsonl_only,
        nsg_share: args.nsg_share,
        estate: args.subscriptions.map(|n| Estate {
            subscriptions: n,
            vms: args.vms.unwrap_or(20 * n),
            people: args.people.unwrap_or(3 * n),
            log_shape: args.log_shape,
        }),
    };
    let written = sample::generate(&args.out, &settings)?;
    let bytes: u64 = written
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "wrote {} files ({bytes} bytes) of a synthetic tenant to {}",
        written.len(),
        args.out.display()
    );
    Ok(Exit::Clean)
}
