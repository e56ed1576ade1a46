//! The vocabulary of `text`: pronounceable pseudo-words built from syllables, fixed by a
//! seed, drawn with zipfian frequencies (word `i` has rank `i + 1`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rand::Rng as _;

use crate::core::Rng;

/// Largest vocabulary: 1,000,000 words.
pub(crate) const MAX_VOCABULARY: usize = 1_000_000;
/// Most words of one `text` value: 100,000.
pub(crate) const MAX_TEXT_WORDS: usize = 100_000;

const ONSETS: &[&str] = &[
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "bl",
    "br", "ch", "cr", "dr", "fl", "fr", "gl", "gr", "kl", "pl", "pr", "sh", "sk", "sl", "sp", "st",
    "th", "tr",
];
const NUCLEI: &[&str] = &[
    "a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ee", "io", "oo", "ou",
];
const CODAS: &[&str] = &[
    "", "", "", "", "n", "r", "l", "m", "nd", "nt", "rk", "st", "x",
];

/// English stop words (the Snowball list PostgreSQL's `english` configuration drops): a
/// generated word that happens to be one is replaced, so every word is searchable.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "s",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "t",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// A generated vocabulary and its zipfian word frequencies.
#[derive(Debug)]
pub(crate) struct Vocabulary {
    /// Every word, one after the other.
    text: String,
    /// Where each word ends in `text`.
    ends: Vec<u32>,
    /// Cumulative weights: word `i` has weight `(i + 1)^-theta`.
    cumulative: Vec<f64>,
    /// Bytes of the longest word.
    longest: usize,
}

impl Vocabulary {
    /// The vocabulary of `size`, `theta` and `seed`, built once per process: a workload
    /// names the same one for several columns, and every workload file is compiled when
    /// the registry is read (building one takes milliseconds).
    pub(crate) fn shared(size: usize, theta: f64, seed: u64) -> Arc<Vocabulary> {
        type Built = HashMap<(usize, u64, u64), Arc<Vocabulary>>;
        static BUILT: OnceLock<Mutex<Built>> = OnceLock::new();
        let mut built = BUILT
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        built
            .entry((size, theta.to_bits(), seed))
            .or_insert_with(|| Arc::new(Vocabulary::new(size, theta, seed)))
            .clone()
    }

    /// `size` distinct words (1 to [`MAX_VOCABULARY`]), the same for the same seed;
    /// frequent words are shorter, as in natural languages.
    pub(crate) fn new(size: usize, theta: f64, seed: u64) -> Self {
        let size = size.clamp(1, MAX_VOCABULARY);
        let mut rng = crate::core::rng(seed, 0x7465_7874);
        // stop words count as taken: a draw of one is drawn again, as a repeated word is
        let mut seen: std::collections::HashSet<String> =
            STOP_WORDS.iter().map(|w| w.to_string()).collect();
        seen.reserve(size);
        let mut text = String::with_capacity(size * 10);
        let mut ends = Vec::with_capacity(size);
        let mut longest = 0;
        for i in 0..size {
            let (lo, hi) = match i {
                0..=49 => (1, 1),
                50..=1_999 => (1, 2),
                2_000..=49_999 => (2, 3),
                _ => (2, 4),
            };
            let mut extra = 0;
            let word = loop {
                let w = pseudo_word(&mut rng, lo + extra / 8, hi + extra / 8);
                if seen.insert(w.clone()) {
                    break w;
                }
                // a crowded length: after a few collisions, try longer words
                extra += 1;
            };
            longest = longest.max(word.len());
            text.push_str(&word);
            ends.push(text.len() as u32);
        }
        let mut acc = 0.0;
        let cumulative = (0..size)
            .map(|i| {
                acc += ((i + 1) as f64).powf(-theta);
                acc
            })
            .collect();
        Vocabulary {
            text,
            ends,
            cumulative,
            longest,
        }
    }

    /// Words in the vocabulary.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Word `i` (rank `i + 1`).
    pub(crate) fn word(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// Bytes of the longest word.
    pub(crate) fn longest(&self) -> usize {
        self.longest
    }

    /// Draws a word index by its zipfian weight.
    #[inline]
    pub(crate) fn draw(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative[self.cumulative.len() - 1];
        let u = rng.gen::<f64>() * total;
        self.cumulative
            .partition_point(|c| *c <= u)
            .min(self.len() - 1)
    }

    /// `min..=max` words joined by single spaces.
    pub(crate) fn text(&self, rng: &mut Rng, min: usize, max: usize) -> String {
        let n = rng.gen_range(min..=max);
        let mut s = String::with_capacity(n * 8);
        for k in 0..n {
            if k > 0 {
                s.push(' ');
            }
            let i = self.draw(rng);
            s.push_str(self.word(i));
        }
        s
    }
}

/// A word of `lo..=hi` syllables, each an onset, a vowel and maybe a closing consonant.
fn pseudo_word(rng: &mut Rng, lo: usize, hi: usize) -> String {
    let syllables = rng.gen_range(lo..=hi);
    let mut w = String::with_capacity(syllables * 4);
    for _ in 0..syllables {
        w.push_str(ONSETS[rng.gen_range(0..ONSETS.len())]);
        w.push_str(NUCLEI[rng.gen_range(0..NUCLEI.len())]);
        w.push_str(CODAS[rng.gen_range(0..CODAS.len())]);
    }
    w
}
