//! `jitaudit queries`: the saved query library with titles and parameters.

use std::io::Write;

use anyhow::Result;

use crate::exit::Exit;
use crate::queries;

pub fn run() -> Result<Exit> {
    let mut w = std::io::stdout().lock();
    for q in queries::all() {
        writeln!(w, "{:<34} {}", q.name, q.title)?;
        writeln!(w, "{:<34} {}", "", q.description)?;
        for (name, meaning) in &q.params {
            writeln!(w, "{:<34} --param {name}=...  {meaning}", "")?;
        }
    }
    writeln!(
        w,
        "\nRun one: jitaudit query PATH --file queries/NAME.sql [--param name=value]"
    )?;
    Ok(Exit::Clean)
}
