//! Fits the recommendation reference models on a plain CSV log and scores them on a
//! leave-last-out split.
//!
//! ```text
//! recs_eval LOG.csv [--alpha F] [--factors N] [--seed N]
//!                   [--bench-iterations N] [--bench-repeats R] [--bench-only]
//!                   [--dump DIR] [--json PATH]
//! ```
//!
//! `LOG.csv` has a header and the columns `user,item,weight,time` (ids are strings, mapped to
//! dense indexes in sorted id order, so the file's row order does not matter; no quoting).
//! stdout gets the table; `--json` writes the same figures for scripts; `--dump DIR` writes
//! the split (`train.csv`, `validation.csv`, `test.csv` as `user,item,weight` indexes) so
//! another library can be trained on exactly the same rows. `--bench-iterations N` also times
//! `R` plain fits of exactly N ALS iterations (no validation) and scores the last one on test:
//! the figure to compare with other ALS implementations; `--bench-only` skips everything else
//! (so a benchmark script can alternate short runs of both libraries).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::time::Instant;

use shelf_lift::recs::{
    Als, Evaluation, Event, ItemKnn, Metric, Popularity, Recommender, Split, SplitRule, Stage,
    evaluate,
};
use shelf_lift::stats::Bootstrap;

struct Args {
    path: String,
    als: Als,
    bench_iterations: Option<usize>,
    bench_repeats: usize,
    bench_only: bool,
    dump: Option<String>,
    json: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        path: String::new(),
        als: Als::default(),
        bench_iterations: None,
        bench_repeats: 3,
        bench_only: false,
        dump: None,
        json: None,
    };
    let num = |v: Option<String>, name: &str| -> Result<f64, String> {
        v.ok_or(format!("{name} needs a value"))?
            .parse::<f64>()
            .map_err(|e| format!("{name}: {e}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--alpha" => args.als.alpha = num(it.next(), &a)? as f32,
            "--factors" => args.als.factors = num(it.next(), &a)? as usize,
            "--seed" => args.als.seed = num(it.next(), &a)? as u64,
            "--bench-iterations" => args.bench_iterations = Some(num(it.next(), &a)? as usize),
            "--bench-repeats" => args.bench_repeats = num(it.next(), &a)?.max(1.0) as usize,
            "--bench-only" => args.bench_only = true,
            "--dump" => args.dump = Some(it.next().ok_or("--dump needs a folder")?),
            "--json" => args.json = Some(it.next().ok_or("--json needs a path")?),
            flag if flag.starts_with("--") => {
                return Err(format!(
                    "unknown option {flag}; valid: --alpha --factors --seed --bench-iterations \
                     --bench-repeats --bench-only --dump --json"
                ));
            }
            path => args.path = path.to_string(),
        }
    }
    if args.bench_only && args.bench_iterations.is_none() {
        return Err("--bench-only needs --bench-iterations".into());
    }
    if args.path.is_empty() {
        return Err("usage: recs_eval LOG.csv [options]".into());
    }
    Ok(args)
}

/// The log with ids mapped to dense indexes (sorted id order).
struct Log {
    users: Vec<String>,
    items: Vec<String>,
    events: Vec<Event>,
}

fn read_log(path: &str) -> Result<Log, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut rows: Vec<(String, String, f32, i64)> = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate().skip(1) {
        let line = line.map_err(|e| format!("{path}: {e}"))?;
        let f: Vec<&str> = line.split(',').collect();
        let [user, item, weight, time] = f[..] else {
            return Err(format!(
                "{path}:{}: expected 4 fields, got {}",
                n + 1,
                f.len()
            ));
        };
        let weight = weight
            .parse()
            .map_err(|e| format!("{path}:{}: {e}", n + 1))?;
        let time = time.parse().map_err(|e| format!("{path}:{}: {e}", n + 1))?;
        rows.push((user.to_string(), item.to_string(), weight, time));
    }
    let index = |ids: Vec<&String>| -> BTreeMap<String, u32> {
        let mut ids: Vec<String> = ids.into_iter().cloned().collect();
        ids.sort();
        ids.dedup();
        ids.into_iter()
            .enumerate()
            .map(|(i, s)| (s, i as u32))
            .collect()
    };
    let users = index(rows.iter().map(|r| &r.0).collect());
    let items = index(rows.iter().map(|r| &r.1).collect());
    let events = rows
        .iter()
        .map(|(u, i, weight, time)| Event {
            user: users[u],
            item: items[i],
            weight: *weight,
            time: *time,
        })
        .collect();
    Ok(Log {
        users: users.into_keys().collect(),
        items: items.into_keys().collect(),
        events,
    })
}

fn dump(split: &Split, dir: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    let write = |name: &str, body: String| {
        let path = format!("{dir}/{name}");
        std::fs::write(&path, body).map_err(|e| format!("{path}: {e}"))
    };
    let mut train = String::from("user,item,weight\n");
    for u in 0..split.train.users() {
        let (items, weights) = split.train.user_items().row(u);
        for (i, w) in items.iter().zip(weights) {
            writeln!(train, "{u},{i},{w}").unwrap();
        }
    }
    write("train.csv", train)?;
    for (name, held) in [
        ("validation.csv", &split.validation),
        ("test.csv", &split.test),
    ] {
        let mut body = String::from("user,item\n");
        for (u, items) in held.iter() {
            for i in items {
                writeln!(body, "{u},{i}").unwrap();
            }
        }
        write(name, body)?;
    }
    Ok(())
}

fn json_estimate(e: &shelf_lift::stats::Estimate) -> String {
    format!(
        "{{\"value\": {}, \"ci95\": [{}, {}]}}",
        e.value, e.ci95[0], e.ci95[1]
    )
}

/// Fits and scores the three models; prints the table. Returns the JSON of each model and of
/// the early-stopped ALS fit.
fn models(args: &Args, split: &Split) -> (Vec<String>, String) {
    let t = Instant::now();
    let popularity = Popularity::fit(&split.train);
    let pop_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let knn = ItemKnn::default().fit(&split.train);
    let knn_seconds = t.elapsed().as_secs_f64();
    let fit = args.als.fit(split);
    eprintln!(
        "als validation Recall@20 by iteration: {:?}",
        fit.validation_recall
    );

    let boot = Bootstrap::default();
    let k = 20;
    let models: [(&dyn Recommender, f64); 3] = [
        (&popularity, pop_seconds),
        (&knn, knn_seconds),
        (&fit.model, fit.train_seconds),
    ];
    let evals: Vec<(Evaluation, f64)> = models
        .iter()
        .map(|(m, s)| (evaluate(*m, split, Stage::Test, k), *s))
        .collect();
    println!(
        "{:<12} {:>26} {:>26} {:>11} {:>9}",
        "model", "Recall@20 [95% CI]", "NDCG@20 [95% CI]", "coverage@20", "fit s"
    );
    let mut json_models = Vec::new();
    for (e, seconds) in &evals {
        let r = boot.mean(e.values(Metric::Recall));
        let n = boot.mean(e.values(Metric::Ndcg));
        println!(
            "{:<12} {:>8.4} [{:.4}, {:.4}] {:>8.4} [{:.4}, {:.4}] {:>11.4} {:>9.3}",
            e.model,
            r.value,
            r.ci95[0],
            r.ci95[1],
            n.value,
            n.ci95[0],
            n.ci95[1],
            e.coverage,
            seconds
        );
        json_models.push(format!(
            "{{\"model\": \"{}\", \"recall\": {}, \"ndcg\": {}, \"coverage\": {}, \"fit_seconds\": {}}}",
            e.model,
            json_estimate(&r),
            json_estimate(&n),
            e.coverage,
            seconds
        ));
    }
    println!(
        "als: best iteration {} of {} run (alpha {}, factors {}); {:.3} s in ALS sweeps, {:.3} s \
         validating",
        fit.best_iteration,
        fit.validation_recall.len(),
        args.als.alpha,
        args.als.factors,
        fit.train_seconds,
        fit.validation_seconds
    );

    let als_summary = format!(
        "{{\"best_iteration\": {}, \"validation_recall\": {:?}, \"train_seconds\": {}, \
         \"validation_seconds\": {}}}",
        fit.best_iteration, fit.validation_recall, fit.train_seconds, fit.validation_seconds
    );
    (json_models, als_summary)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let log = read_log(&args.path)?;
    let (n_users, n_items) = (log.users.len() as u32, log.items.len() as u32);
    let split = Split::new(n_users, n_items, &log.events, SplitRule::LeaveLastOut);
    if let Some(dir) = &args.dump {
        dump(&split, dir)?;
    }
    let threads = rayon::current_num_threads();
    println!(
        "{}: {} events, {n_users} users, {n_items} items; train {} pairs, validation {} users, \
         test {} users; {threads} threads",
        args.path,
        log.events.len(),
        split.train.nnz(),
        split.validation.len(),
        split.test.len(),
    );

    let (json_models, als_summary) = if args.bench_only {
        (Vec::new(), String::from("null"))
    } else {
        models(&args, &split)
    };

    let mut json_bench = String::from("null");
    if let Some(iterations) = args.bench_iterations {
        let mut seconds = Vec::new();
        let mut model = None;
        for _ in 0..args.bench_repeats {
            let t = Instant::now();
            model = Some(args.als.fit_iterations(&split.train, iterations));
            seconds.push(t.elapsed().as_secs_f64());
        }
        let model = model.unwrap();
        let recall = evaluate(&model, &split, Stage::Test, 20).mean(Metric::Recall);
        let mut sorted = seconds.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "bench: {iterations} ALS iterations, {threads} threads: min {:.3} s, median {:.3} s \
             over {} fits; test Recall@20 {recall:.4}",
            sorted[0],
            sorted[sorted.len() / 2],
            sorted.len()
        );
        json_bench = format!(
            "{{\"iterations\": {iterations}, \"threads\": {threads}, \"seconds\": {seconds:?}, \
             \"test_recall\": {recall}}}"
        );
    }

    if let Some(path) = &args.json {
        let body = format!(
            "{{\"users\": {n_users}, \"items\": {n_items}, \"train_pairs\": {}, \
             \"test_users\": {}, \"threads\": {threads}, \"als\": {als_summary}, \
             \"models\": [{}], \"bench\": {json_bench}}}\n",
            split.train.nnz(),
            split.test.len(),
            json_models.join(", ")
        );
        std::fs::File::create(path)
            .and_then(|mut f| f.write_all(body.as_bytes()))
            .map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}
