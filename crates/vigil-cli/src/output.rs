//! How results reach the terminal: one JSON document on stdout with `--json`,
//! otherwise aligned text tables. Commands build a value once and hand it
//! here, so the two forms can never disagree.

use serde::Serialize;

pub struct Output {
    pub json: bool,
    /// When set, JSON documents are collected here instead of printed:
    /// `vigil demo` runs the real commands and reads what they would have
    /// printed under `--json`.
    sink: Option<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl Output {
    pub fn new(json: bool) -> Output {
        Output { json, sink: None }
    }

    /// A quiet output that keeps every JSON document a command emits (it
    /// behaves as `--json` otherwise: no progress bars, no tables).
    pub fn capture() -> Output {
        Output {
            json: true,
            sink: Some(std::sync::Mutex::new(Vec::new())),
        }
    }

    /// The documents captured since the last call, oldest first.
    pub fn take(&self) -> Vec<serde_json::Value> {
        match &self.sink {
            Some(m) => match m.lock() {
                Ok(mut v) => std::mem::take(&mut *v),
                Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
            },
            None => Vec::new(),
        }
    }

    /// Hands a JSON document to the sink; false when there is none.
    fn captured<T: Serialize>(&self, value: &T) -> anyhow::Result<bool> {
        let Some(m) = &self.sink else {
            return Ok(false);
        };
        let v = serde_json::to_value(value)?;
        match m.lock() {
            Ok(mut list) => list.push(v),
            Err(poisoned) => poisoned.into_inner().push(v),
        }
        Ok(true)
    }

    /// Prints `value` as JSON, or calls `human` to print it for people.
    pub fn emit<T: Serialize>(&self, value: &T, human: impl FnOnce(&T)) -> anyhow::Result<()> {
        if self.captured(value)? {
            return Ok(());
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            human(value);
        }
        Ok(())
    }
}

impl Output {
    /// Like [`Output::emit`], but the JSON is one line: for commands whose
    /// `--json` output is a stream (one object per line, the summary last).
    pub fn emit_line<T: Serialize>(&self, value: &T, human: impl FnOnce(&T)) -> anyhow::Result<()> {
        if self.captured(value)? {
            return Ok(());
        }
        if self.json {
            println!("{}", serde_json::to_string(value)?);
        } else {
            human(value);
        }
        Ok(())
    }
}

/// Prints rows as a left-aligned table with a header.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths.get(i).copied().unwrap_or(0)))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_uppercase()).collect());
    for row in rows {
        line(row);
    }
}

pub fn opt(v: &Option<impl ToString>) -> String {
    v.as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".into())
}
