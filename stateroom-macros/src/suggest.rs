//! "Did you mean …?" for misspelt names.

/// Levenshtein distance between two short ASCII-ish names.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// The candidate `name` most plausibly meant, if any: an exact match once a
/// common prefix or suffix (`on_`, `handle_`, `_hook`, …) is removed, or one
/// within a small edit distance (1 for names of up to 5 letters, 2 beyond).
pub(crate) fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    const AFFIXES: [&str; 5] = ["on_", "handle_", "handle", "on", "_hook"];
    let lower = name.to_ascii_lowercase();
    let stripped = AFFIXES
        .iter()
        .find_map(|affix| {
            lower
                .strip_prefix(affix)
                .or_else(|| lower.strip_suffix(affix))
        })
        .unwrap_or(&lower);
    if let Some(exact) = candidates.iter().find(|c| **c == stripped) {
        return Some(exact);
    }
    candidates
        .iter()
        .map(|c| (distance(stripped, c), *c))
        .filter(|&(d, c)| d > 0 && d <= if c.len() <= 5 { 1 } else { 2 })
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOOKS: [&str; 5] = ["connect", "disconnect", "message", "binary", "timer"];

    #[test]
    fn distances() {
        assert_eq!(distance("mesage", "message"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest("on_message", &HOOKS), Some("message"));
        assert_eq!(closest("handle_connect", &HOOKS), Some("connect"));
        assert_eq!(closest("onTimer", &HOOKS), Some("timer"));
        assert_eq!(closest("mesage", &HOOKS), Some("message"));
        assert_eq!(closest("disconect", &HOOKS), Some("disconnect"));
        assert_eq!(closest("timers", &HOOKS), Some("timer"));
        assert_eq!(closest("broadcast", &HOOKS), None);
        assert_eq!(closest("tick", &HOOKS), None);
        assert_eq!(closest("names", &HOOKS), None);
    }
}
