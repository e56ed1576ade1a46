//! A latency recorder that stays small for idle workers: raw samples first, an HDR
//! histogram once there are many. Either way the aggregator's merge is exact.

use hdrhistogram::Histogram;

/// Samples kept raw before switching to a histogram (2 KiB of u32s).
const RAW_LIMIT: usize = 512;

/// Significant digits of every histogram (0.1% value resolution).
pub(crate) const SIGFIG: u8 = 3;

/// An empty auto-resizing histogram of microseconds with 3 significant digits.
pub(crate) fn new_histogram() -> Histogram<u64> {
    Histogram::new(SIGFIG).expect("3 significant digits is a valid histogram")
}

/// Records microsecond values; owned by one worker.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    raw: Vec<u32>,
    hist: Option<Box<Histogram<u64>>>,
}

impl Recorder {
    /// Records one value in µs.
    #[inline]
    pub(crate) fn record(&mut self, us: u64) {
        if let Some(h) = self.hist.as_mut() {
            let _ = h.record(us);
        } else if self.raw.len() < RAW_LIMIT {
            self.raw.push(us.min(u32::MAX as u64) as u32);
        } else {
            let mut h = Box::new(new_histogram());
            for v in self.raw.drain(..) {
                let _ = h.record(v as u64);
            }
            let _ = h.record(us);
            self.raw = Vec::new();
            self.hist = Some(h);
        }
    }

    /// Values recorded.
    pub(crate) fn count(&self) -> u64 {
        self.hist
            .as_ref()
            .map(|h| h.len())
            .unwrap_or(self.raw.len() as u64)
    }

    /// Whether nothing was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Adds every recorded value to `h` (exact).
    pub(crate) fn merge_into(&self, h: &mut Histogram<u64>) {
        if let Some(mine) = &self.hist {
            let _ = h.add(mine.as_ref());
        }
        for v in &self.raw {
            let _ = h.record(*v as u64);
        }
    }
}
