//! Compiling `modes:`: weights, worker groups and suites.

use super::*;

/// Weights whose sum is past the largest number: no share of it can be drawn.
const WEIGHTS_TOO_LARGE: &str =
    "the weights add up to more than a number holds; they are relative, so give smaller ones";

impl Compiler<'_> {
    pub(super) fn modes(
        &mut self,
        raw: &RawWorkload,
        txs: &[Transaction],
    ) -> Vec<(String, Vec<f64>)> {
        let names = || -> String {
            txs.iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if raw.modes.is_empty() {
            let w: Vec<f64> = raw
                .transactions
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let w = t.weight.unwrap_or(1.0);
                    if !w.is_finite() || w < 0.0 {
                        self.err(
                            &format!("transactions[{i}].weight"),
                            "must be a non-negative number",
                        );
                    }
                    w
                })
                .collect();
            if !w.is_empty() {
                self.drawable(
                    "transactions",
                    &w,
                    "every weight is 0; give at least one a positive weight",
                );
            }
            return vec![("default".into(), w)];
        }
        let mut out: Vec<(String, Vec<f64>)> = Vec::new();
        let mut grouped = Vec::new();
        for (k, v) in &raw.modes {
            let mode = k.as_str().unwrap_or_default().to_string();
            let path = format!("modes.{mode}");
            if !ident_ok(&mode) {
                self.err(&path, "mode names must be lower-case letters, digits and _");
            }
            if let Some(suite) = v.get("suite") {
                let (order, passes) = self.suite(&path, v, suite, txs, raw.transactions.len());
                let mut weights = vec![0.0; txs.len()];
                for k in &order {
                    weights[*k] = 1.0;
                }
                self.suites.push((mode.clone(), order, passes));
                out.push((mode, weights));
                continue;
            }
            if v.get("groups").is_some() {
                // after the plain modes, which its groups may name
                grouped.push((mode, path, v));
                out.push((String::new(), Vec::new()));
                continue;
            }
            let weights = self.weights(&path, v, txs, &names);
            out.push((mode, weights));
        }
        let plain: Vec<(String, Vec<f64>)> =
            out.iter().filter(|(m, _)| !m.is_empty()).cloned().collect();
        let mut slots = out
            .iter()
            .enumerate()
            .filter(|(_, (m, _))| m.is_empty())
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
            .into_iter();
        for (mode, path, v) in grouped {
            let groups = self.groups(&path, v, txs, &plain, &names);
            // the mode's weights: every kind a group runs (for what the mode may write)
            let mut weights = vec![0.0; txs.len()];
            for g in &groups {
                for (w, x) in weights.iter_mut().zip(&g.weights) {
                    *w += x;
                }
            }
            if let Some(i) = slots.next() {
                out[i] = (mode.clone(), weights);
            }
            self.groups.push((mode, groups));
        }
        out
    }

    /// `modes.NAME.suite`: transactions run in order, each once per pass.
    fn suite(
        &mut self,
        path: &str,
        mode: &serde_yaml::Value,
        v: &serde_yaml::Value,
        txs: &[Transaction],
        from_folder: usize,
    ) -> (Vec<usize>, u64) {
        if mode.as_mapping().map(|m| m.len()) != Some(1) {
            self.err(path, "a suite mode has only the key suite");
        }
        let p = format!("{path}.suite");
        let Some(m) = v.as_mapping() else {
            self.err(
                &p,
                "expected {passes: N, transactions: [names]} (both optional)",
            );
            return (Vec::new(), 1);
        };
        let mut passes = 1;
        let mut order: Vec<usize> = (0..txs.len()).collect();
        for (key, val) in m {
            match key.as_str().unwrap_or_default() {
                "passes" => match val.as_u64() {
                    Some(n) if (1..=1_000_000).contains(&n) => passes = n,
                    _ => self.err(&format!("{p}.passes"), "a whole number from 1 to 1000000"),
                },
                "transactions" if val.as_str() == Some("folder") => {
                    order = (from_folder..txs.len()).collect();
                }
                "transactions" => {
                    order.clear();
                    for (i, t) in val.as_sequence().into_iter().flatten().enumerate() {
                        let name = t.as_str().unwrap_or_default();
                        match txs.iter().position(|x| x.name == name) {
                            Some(k) => order.push(k),
                            None => self.err(
                                &format!("{p}.transactions[{i}]"),
                                format!("unknown transaction '{name}'"),
                            ),
                        }
                    }
                }
                other => self.err(
                    &p,
                    format!("unknown key '{other}'; keys: passes, transactions"),
                ),
            }
        }
        // a suite of a folder left unset is refused when its mode is chosen, not here
        let of_folder = m.get("transactions").and_then(|v| v.as_str()) == Some("folder");
        if order.is_empty() && !of_folder {
            self.err(&p, "the suite has no transactions");
        }
        (order, passes)
    }

    /// A mapping of transaction name to weight.
    fn weights(
        &mut self,
        path: &str,
        v: &serde_yaml::Value,
        txs: &[Transaction],
        names: &dyn Fn() -> String,
    ) -> Vec<f64> {
        let mut weights = vec![0.0; txs.len()];
        let Some(map) = v.as_mapping() else {
            self.err(
                path,
                format!(
                    "expected a mapping of transaction name to weight; transactions: {}",
                    names()
                ),
            );
            return weights;
        };
        for (tk, tv) in map {
            let tx = tk.as_str().unwrap_or_default();
            let p = format!("{path}.{tx}");
            let Some(idx) = txs.iter().position(|t| t.name == tx) else {
                self.err(
                    &p,
                    format!("unknown transaction '{tx}'; transactions: {}", names()),
                );
                continue;
            };
            match tv.as_f64() {
                Some(w) if w.is_finite() && w >= 0.0 => weights[idx] = w,
                _ => self.err(&p, "the weight must be a non-negative number"),
            }
        }
        self.drawable(
            path,
            &weights,
            "no transaction has a positive weight in this mode",
        );
        weights
    }

    /// Whether a mix can be drawn from `weights`: a positive sum that a number holds;
    /// `none_positive` says what is wrong when none is above 0.
    fn drawable(&mut self, path: &str, weights: &[f64], none_positive: &str) {
        let sum = weights.iter().sum::<f64>();
        if sum <= 0.0 {
            self.err(path, none_positive);
        } else if sum.is_infinite() {
            self.err(path, WEIGHTS_TOO_LARGE);
        }
    }

    /// `modes.NAME.groups`: worker groups, each with its weights (or another mode's),
    /// its workers and its rate.
    fn groups(
        &mut self,
        path: &str,
        v: &serde_yaml::Value,
        txs: &[Transaction],
        plain: &[(String, Vec<f64>)],
        names: &dyn Fn() -> String,
    ) -> Vec<GroupDef> {
        let mut out = Vec::new();
        if v.as_mapping().map(|m| m.len()) != Some(1) {
            self.err(path, "a mode with groups has only the key groups");
        }
        let Some(groups) = v.get("groups").and_then(|g| g.as_mapping()) else {
            self.err(
                &format!("{path}.groups"),
                "expected a mapping of group name to {weights: ..., workers: N, rate: N}",
            );
            return out;
        };
        for (k, g) in groups {
            let name = k.as_str().unwrap_or_default().to_string();
            let p = format!("{path}.groups.{name}");
            if !ident_ok(&name) {
                self.err(&p, "group names are lower-case letters, digits and _");
            }
            let Some(m) = g.as_mapping() else {
                self.err(
                    &p,
                    "expected {weights: {...} or mode: NAME, workers: N, rate: N}",
                );
                continue;
            };
            let mut def = GroupDef {
                name,
                weights: Vec::new(),
                workers: None,
                rate: None,
            };
            for (key, val) in m {
                match key.as_str().unwrap_or_default() {
                    "weights" => {
                        def.weights = self.weights(&format!("{p}.weights"), val, txs, names)
                    }
                    "mode" => {
                        let want = val.as_str().unwrap_or_default();
                        match plain.iter().find(|(m, _)| m == want) {
                            Some((_, w)) => def.weights = w.clone(),
                            None => self.err(
                                &format!("{p}.mode"),
                                format!(
                                    "'{want}' is not a mode without groups; modes: {}",
                                    plain
                                        .iter()
                                        .map(|(m, _)| m.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            ),
                        }
                    }
                    "workers" => match val.as_u64() {
                        Some(n) if (1..=100_000).contains(&n) => def.workers = Some(n as usize),
                        _ => self.err(&format!("{p}.workers"), "a whole number from 1 to 100000"),
                    },
                    "rate" => match val.as_f64() {
                        Some(r) if r > 0.0 && r.is_finite() && r <= 10_000_000.0 => {
                            def.rate = Some(r)
                        }
                        _ => self.err(
                            &format!("{p}.rate"),
                            "transactions per second, above 0 (leave it out for a closed loop)",
                        ),
                    },
                    other => self.err(
                        &p,
                        format!("unknown key '{other}'; keys: weights, mode, workers, rate"),
                    ),
                }
            }
            if def.weights.is_empty() {
                self.err(
                    &p,
                    "give weights (transaction: weight) or mode (a mode's weights)",
                );
                continue;
            }
            out.push(def);
        }
        if out.is_empty() {
            self.err(&format!("{path}.groups"), "give at least one group");
        }
        out
    }
}
