//! Trains shelf's two CTR reference models on one CSV and reports their test metrics.
//!
//! ```sh
//! cargo run --release -p shelf-lift --example ctr_eval -- FILE.csv --label click \
//!     [--propensity COL --item COL --position COL] [--ignore COL,COL] [--bits 20] \
//!     [--seed 42] [--max-epochs 20] [--k 8] [--dropout 0.1] [--lr 0.01] [--batch 256] \
//!     [--valid-share 0.1] [--test-share 0.1] [--resamples 1000] [--reference-position 1]
//! cargo run --release -p shelf-lift --example ctr_eval -- --bench-auc 100000
//! ```
//!
//! Every column other than the label, the propensity and the ignored ones is a feature:
//! numeric when more than half of its non-empty values parse as numbers, else categorical;
//! the item and position columns are always categorical (an item id is a name, not a
//! quantity). An empty cell is the field's "missing" feature. The split key is the row's
//! text without its ignored columns: an index column or timestamp would move a row between
//! splits when rows around it change. Results go to stdout; progress to stderr.

use std::collections::BTreeSet;
use std::time::Instant;

use shelf_lift::ctr::{
    Ctr, Examples, Feature, FeatureHasher, Fm, FmOptions, GreedyPolicy, Logged, Logistic,
    PositionBias, Split, Splitter, TrainOptions, auc_bootstrap, ips, log_losses,
};
use shelf_lift::stats::{Bootstrap, SplitMix64};

struct Args {
    path: String,
    label: String,
    propensity: Option<String>,
    item: Option<String>,
    position: Option<String>,
    ignore: Vec<String>,
    bits: u32,
    train: TrainOptions,
    fm: FmOptions,
    splitter: Splitter,
    bootstrap: Bootstrap,
    reference_position: String,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        path: String::new(),
        label: String::new(),
        propensity: None,
        item: None,
        position: None,
        ignore: Vec::new(),
        bits: shelf_lift::ctr::DEFAULT_BITS,
        train: TrainOptions::default(),
        fm: FmOptions::default(),
        splitter: Splitter::default(),
        bootstrap: Bootstrap::default(),
        reference_position: "1".into(),
    };
    fn num<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
        let v = v.ok_or(format!("{flag} needs a value"))?;
        v.parse().map_err(|_| format!("{flag}: cannot read {v:?}"))
    }
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--label" => a.label = it.next().ok_or("--label needs a column")?,
            "--propensity" => a.propensity = it.next(),
            "--item" => a.item = it.next(),
            "--position" => a.position = it.next(),
            "--ignore" => {
                a.ignore = it
                    .next()
                    .ok_or("--ignore needs columns")?
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            "--bits" => a.bits = num(&arg, it.next())?,
            "--seed" => {
                let s: u64 = num(&arg, it.next())?;
                a.train.seed = s;
                a.bootstrap.seed = s;
            }
            "--max-epochs" => a.train.max_epochs = num(&arg, it.next())?,
            "--lr" => a.train.learning_rate = num(&arg, it.next())?,
            "--batch" => a.train.batch_size = num(&arg, it.next())?,
            "--k" => a.fm.k = num(&arg, it.next())?,
            "--dropout" => a.fm.dropout = num(&arg, it.next())?,
            "--valid-share" => a.splitter.validation = num(&arg, it.next())?,
            "--test-share" => a.splitter.test = num(&arg, it.next())?,
            "--resamples" => a.bootstrap.resamples = num(&arg, it.next())?,
            "--reference-position" => a.reference_position = it.next().ok_or("needs a value")?,
            "--bench-auc" => {
                bench_auc(num(&arg, it.next())?, a.bootstrap);
                std::process::exit(0);
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => a.path = arg,
        }
    }
    if a.path.is_empty() || a.label.is_empty() {
        return Err("usage: ctr_eval FILE --label COLUMN [options]".into());
    }
    Ok(a)
}

/// Times `auc_bootstrap` on synthetic scores: n rows, the configured resamples.
fn bench_auc(n: usize, bootstrap: Bootstrap) {
    let mut rng = SplitMix64(1);
    let labels: Vec<bool> = (0..n).map(|_| rng.unit() < 0.1).collect();
    let a: Vec<f64> = labels
        .iter()
        .map(|&y| y as u8 as f64 + 2.0 * rng.unit())
        .collect();
    let b: Vec<f64> = labels
        .iter()
        .map(|&y| y as u8 as f64 + 1.5 * rng.unit())
        .collect();
    let start = Instant::now();
    let c = auc_bootstrap(&labels, &a, &b, &bootstrap);
    println!(
        "auc_bootstrap: {n} rows x {} resamples in {:.2} s on {} threads; a {:.4} b {:.4} delta {:+.4} [{:+.4}, {:+.4}]",
        bootstrap.resamples,
        start.elapsed().as_secs_f64(),
        rayon::current_num_threads(),
        c.a.value,
        c.b.value,
        c.delta.delta,
        c.delta.ci95[0],
        c.delta.ci95[1]
    );
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ctr_eval: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("ctr_eval: {e}");
        std::process::exit(2);
    }
}

fn run(a: &Args) -> Result<(), String> {
    let mut reader = csv::Reader::from_path(&a.path).map_err(|e| format!("{}: {e}", a.path))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{}: {e}", a.path))?
        .iter()
        .map(String::from)
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("no column {name:?}; the columns are {}", header.join(", ")))
    };
    let label = col(&a.label)?;
    let propensity = a.propensity.as_deref().map(col).transpose()?;
    let item = a.item.as_deref().map(col).transpose()?;
    let position = a.position.as_deref().map(col).transpose()?;
    let ignored: Vec<usize> = a.ignore.iter().map(|c| col(c)).collect::<Result<_, _>>()?;
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", a.path))?;

    let features: Vec<usize> = (0..header.len())
        .filter(|c| *c != label && Some(*c) != propensity && !ignored.contains(c))
        .collect();
    let numeric: Vec<bool> = features
        .iter()
        .map(|&c| {
            if Some(c) == item || Some(c) == position {
                return false;
            }
            let (mut filled, mut parsed) = (0, 0);
            for r in &rows {
                let v = r.get(c).unwrap_or("");
                if !v.is_empty() {
                    filled += 1;
                    parsed += v.parse::<f64>().is_ok() as usize;
                }
            }
            parsed * 2 > filled
        })
        .collect();

    let hasher = FeatureHasher::new(a.bits, a.train.seed);
    let mut all = Examples::new(hasher);
    let (mut splits, mut logged, mut items) = (Vec::new(), Vec::new(), Vec::new());
    let mut skipped = 0;
    let mut fs: Vec<(&str, Feature)> = Vec::new();
    for r in &rows {
        let Some(y) = r.get(label).and_then(|v| v.parse::<f64>().ok()) else {
            skipped += 1;
            continue;
        };
        fs.clear();
        for (&c, &is_num) in features.iter().zip(&numeric) {
            let v = r.get(c).unwrap_or("");
            let f = match v.parse::<f64>() {
                _ if v.is_empty() => Feature::Missing,
                Ok(x) if is_num => Feature::Num(x),
                _ => Feature::Cat(v),
            };
            fs.push((header[c].as_str(), f));
        }
        all.push(&fs, y > 0.0, None);
        let key: Vec<&str> = (0..r.len())
            .filter(|c| !ignored.contains(c))
            .map(|c| &r[c])
            .collect();
        splits.push(a.splitter.assign(key.join(",").as_bytes()));
        if let (Some(p), Some(i)) = (propensity, item) {
            items.push(r[i].to_string());
            logged.push((r[p].parse::<f64>().unwrap_or(f64::NAN), y > 0.0));
        }
    }
    let pick = |s: Split| {
        (0..all.len())
            .filter(|&i| splits[i] == s)
            .collect::<Vec<_>>()
    };
    let (train_rows, valid_rows, test_rows) = (
        pick(Split::Train),
        pick(Split::Validation),
        pick(Split::Test),
    );
    let (train, valid, test) = (
        all.select(&train_rows),
        all.select(&valid_rows),
        all.select(&test_rows),
    );
    let clicks = |e: &Examples| e.labels().iter().filter(|&&y| y).count();
    println!("data: {}", a.path);
    println!(
        "rows {} (skipped {skipped}: label not a number); features {} ({} numeric); train / valid / test {} / {} / {} rows, {} / {} / {} clicks",
        all.len(),
        features.len(),
        numeric.iter().filter(|&&n| n).count(),
        train.len(),
        valid.len(),
        test.len(),
        clicks(&train),
        clicks(&valid),
        clicks(&test)
    );
    println!(
        "settings: bits {} seed {} lr {} batch {} max_epochs {} patience {} weight_decay {}; fm k {} dropout {}; {} resamples; rayon threads {}",
        a.bits,
        a.train.seed,
        a.train.learning_rate,
        a.train.batch_size,
        a.train.max_epochs,
        a.train.patience,
        a.train.weight_decay,
        a.fm.k,
        a.fm.dropout,
        a.bootstrap.resamples,
        rayon::current_num_threads()
    );

    eprintln!("training lr ...");
    let (lr, lr_fit) = Logistic::fit(&train, &valid, &a.train);
    eprintln!("training fm ...");
    let (fm, fm_fit) = Fm::fit(&train, &valid, &a.train, &a.fm);
    let (p_lr, p_fm) = (lr.predict(&test), fm.predict(&test));
    let auc = auc_bootstrap(test.labels(), &p_lr, &p_fm, &a.bootstrap);
    let (l_lr, l_fm) = (
        log_losses(test.labels(), &p_lr),
        log_losses(test.labels(), &p_fm),
    );
    let (ll_lr, ll_fm) = (a.bootstrap.mean(&l_lr), a.bootstrap.mean(&l_fm));
    let ll_delta = a.bootstrap.paired(&l_lr, &l_fm);
    if auc.resamples_used < a.bootstrap.resamples || clicks(&test) < 30 {
        println!(
            "warning: {} clicks in the test rows ({} of {} resamples had a click and a non-click): the intervals below are not trustworthy",
            clicks(&test),
            auc.resamples_used,
            a.bootstrap.resamples
        );
    }
    println!(
        "model  test_auc [95% CI]            test_logloss [95% CI]        epochs (best)  train_s"
    );
    for (name, au, ll, fit) in [("lr", auc.a, ll_lr, &lr_fit), ("fm", auc.b, ll_fm, &fm_fit)] {
        println!(
            "{name:<6} {:.4} [{:.4}, {:.4}]  {:.5} [{:.5}, {:.5}]  {:>3} ({:>2})      {:.2}",
            au.value,
            au.ci95[0],
            au.ci95[1],
            ll.value,
            ll.ci95[0],
            ll.ci95[1],
            fit.epochs,
            fit.best_epoch,
            fit.seconds
        );
    }
    println!(
        "fm-lr  auc {:+.4} [{:+.4}, {:+.4}]  logloss {:+.5} [{:+.5}, {:+.5}]",
        auc.delta.delta,
        auc.delta.ci95[0],
        auc.delta.ci95[1],
        ll_delta.delta,
        ll_delta.ci95[0],
        ll_delta.ci95[1]
    );

    if let (Some(_), Some(item_col)) = (propensity, item) {
        let names: Vec<String> = items
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let item_field = header[item_col].as_str();
        let candidates: Vec<u32> = names
            .iter()
            .map(|n| hasher.id(item_field, Feature::Cat(n)))
            .collect();
        let rows: Vec<Logged> = test_rows
            .iter()
            .map(|&i| Logged {
                action: names.binary_search(&items[i]).unwrap_or(usize::MAX),
                click: logged[i].1,
                propensity: logged[i].0,
            })
            .collect();
        let mut modes = vec![("as logged", PositionBias::AsLogged)];
        if let Some(p) = position {
            let field = header[p].as_str();
            let id = hasher.id(field, Feature::Cat(&a.reference_position));
            modes.push(("reference", PositionBias::Reference { field, id }));
        }
        println!(
            "ips on the {} test rows, {} candidate items (greedy policy = argmax of the model's CTR):",
            rows.len(),
            names.len()
        );
        println!(
            "model  position           value [95% CI]                  matches  vs logged rate [95% CI]"
        );
        let models: [&dyn Ctr; 2] = [&lr, &fm];
        let mut logged_rate = None;
        for m in models {
            for &(mode, bias) in &modes {
                let policy = GreedyPolicy {
                    item_field,
                    candidates: &candidates,
                    position: bias,
                };
                let e = ips(&rows, &policy.choose(m, &test), &a.bootstrap);
                logged_rate = Some(e.logged);
                let mode = if mode == "reference" {
                    format!("= {}", a.reference_position)
                } else {
                    mode.to_string()
                };
                println!(
                    "{:<6} {mode:<18} {:.5} [{:.5}, {:.5}]  {:>7}  {:+.5} [{:+.5}, {:+.5}]",
                    m.name(),
                    e.policy.value,
                    e.policy.ci95[0],
                    e.policy.ci95[1],
                    e.matches,
                    e.lift.delta,
                    e.lift.ci95[0],
                    e.lift.ci95[1]
                );
            }
        }
        if let Some(l) = logged_rate {
            println!(
                "logged click rate {:.5} [{:.5}, {:.5}]",
                l.value, l.ci95[0], l.ci95[1]
            );
        }
    }
    Ok(())
}
