//! Writes the hand-built sample report as HTML, to look at in a browser:
//! `cargo run -p shelf-report --example sample_report -- OUT.html [big]`
//! (`big` renders a 2,000-finding audit instead, to see the caps at work).

#[path = "../tests/support/sample.rs"]
mod sample;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: sample_report OUT.html [big]");
        std::process::exit(2);
    };
    let report = match args.next().as_deref() {
        Some("big") => sample::big_report(2_000),
        _ => sample::sample_report(),
    };
    std::fs::write(&path, shelf_report::html(&report))?;
    eprintln!("wrote {path}");
    Ok(())
}
