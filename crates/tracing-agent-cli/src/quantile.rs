//! Distributions of numbers (tool calls per run, latencies, tokens, spend): count, mean,
//! quantiles, and a sample for rank tests, in memory bounded whatever the input.
//!
//! Up to [`EXACT_LIMIT`] values every value is kept, and quantiles are exact by the
//! nearest-rank definition (the p-quantile of n sorted values is the one at rank
//! `ceil(p * n)`, a value that was observed). Beyond that the values go into a DDSketch
//! (the `sketches-ddsketch` crate) with a relative accuracy of [`SKETCH_ALPHA`]: the
//! quantile it returns is within 1 % of the value at rank `floor(p * (n - 1))`, whatever
//! the distribution, and two sketches merge without loss. The kept values then become a
//! uniform reservoir sample of [`EXACT_LIMIT`] (Vitter's algorithm R), which is what the
//! rank tests of `drift` are computed on.

use sketches_ddsketch::{Config, DDSketch};

/// Values kept exactly per distribution: quantiles are exact up to this many values.
pub(crate) const EXACT_LIMIT: usize = 4096;

/// The DDSketch's relative accuracy beyond [`EXACT_LIMIT`].
pub(crate) const SKETCH_ALPHA: f64 = 0.01;

/// A distribution of non-negative numbers.
#[derive(Clone, Default)]
pub(crate) struct Distribution {
    count: u64,
    sum: f64,
    /// Every value while `count <= EXACT_LIMIT`; a uniform sample of them beyond.
    values: Vec<f64>,
    /// From the value that overflowed `values` on.
    sketch: Option<Box<DDSketch>>,
    /// Whether `values` is sorted (sorting is deferred to the first quantile asked).
    sorted: bool,
    /// The reservoir's random numbers: a fixed seed, so a report is reproducible.
    rng: u64,
}

impl std::fmt::Debug for Distribution {
    // `DDSketch` has no `Debug`; what a person debugging needs is the count and mode.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Distribution")
            .field("count", &self.count)
            .field("exact", &self.exact())
            .finish()
    }
}

impl Distribution {
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.count += 1;
        self.sum += value;
        self.sorted = false;
        if let Some(sketch) = &mut self.sketch {
            sketch.add(value);
            // Algorithm R: the n-th value replaces a kept one with probability k/n.
            let slot = self.next_random() % self.count;
            if let Some(kept) = self.values.get_mut(slot as usize) {
                *kept = value;
            }
            return;
        }
        if self.values.len() < EXACT_LIMIT {
            self.values.push(value);
            return;
        }
        let mut sketch = DDSketch::new(Config::new(SKETCH_ALPHA, 2048, 1e-9));
        for kept in &self.values {
            sketch.add(*kept);
        }
        sketch.add(value);
        self.sketch = Some(Box::new(sketch));
        self.rng = 0x9E37_79B9_7F4A_7C15;
        let slot = self.next_random() % self.count;
        if let Some(kept) = self.values.get_mut(slot as usize) {
            *kept = value;
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: the reservoir needs uniform slots, not cryptography.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// `None` when empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// Whether [`Distribution::quantile`] is exact.
    pub fn exact(&self) -> bool {
        self.sketch.is_none()
    }

    /// The `p`-quantile (`0 < p <= 1`); `None` when empty.
    pub fn quantile(&mut self, p: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        if let Some(sketch) = &self.sketch {
            return sketch.quantile(p.clamp(0.0, 1.0)).ok().flatten();
        }
        self.sort();
        let n = self.values.len();
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
        Some(self.values[rank - 1])
    }

    /// Every value, or a uniform sample of [`EXACT_LIMIT`] of them.
    pub fn sample(&self) -> &[f64] {
        &self.values
    }

    /// Adds every value of `other`, as if they had been added one by one: exact while
    /// both hold fewer than [`EXACT_LIMIT`] values together; beyond, the two sketches
    /// merge without loss (DDSketch is mergeable) and the sample keeps each side in
    /// proportion to its count. `report` merges buckets into longer ones this way.
    pub fn merge(&mut self, other: &Distribution) {
        if other.count == 0 {
            return;
        }
        let count = self.count + other.count;
        if self.sketch.is_none()
            && other.sketch.is_none()
            && self.values.len() + other.values.len() <= EXACT_LIMIT
        {
            self.values.extend_from_slice(&other.values);
        } else {
            let mut sketch = self.to_sketch();
            // Both sketches have the same configuration, so merging cannot fail.
            let _ = sketch.merge(&other.to_sketch());
            let mine = ((EXACT_LIMIT as f64) * self.count as f64 / count as f64).round() as usize;
            let mut values = spread(&self.values, mine);
            values.extend(spread(&other.values, EXACT_LIMIT.saturating_sub(mine)));
            self.values = values;
            self.sketch = Some(Box::new(sketch));
            if self.rng == 0 {
                self.rng = 0x9E37_79B9_7F4A_7C15;
            }
        }
        self.count = count;
        self.sum += other.sum;
        self.sorted = false;
    }

    /// The distribution as a sketch (made from the kept values while exact).
    fn to_sketch(&self) -> DDSketch {
        match &self.sketch {
            Some(sketch) => (**sketch).clone(),
            None => {
                let mut sketch = DDSketch::new(Config::new(SKETCH_ALPHA, 2048, 1e-9));
                self.values.iter().for_each(|v| sketch.add(*v));
                sketch
            }
        }
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.values.sort_by(f64::total_cmp);
            self.sorted = true;
        }
    }
}

/// At most `n` of `values`, evenly spaced: a sample that stays representative when the
/// values are sorted.
fn spread(values: &[f64], n: usize) -> Vec<f64> {
    if values.len() <= n {
        return values.to_vec();
    }
    (0..n).map(|i| values[i * values.len() / n]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: &[f64]) -> Distribution {
        let mut d = Distribution::default();
        values.iter().for_each(|v| d.add(*v));
        d
    }

    #[test]
    fn nearest_rank_quantiles_by_hand() {
        // Sorted: 1 2 3 4 5 6 7 8 9 10; p50 at rank 5, p95 at rank ceil(9.5) = 10.
        let mut d = of(&[7.0, 1.0, 10.0, 3.0, 2.0, 9.0, 4.0, 8.0, 6.0, 5.0]);
        assert_eq!(d.quantile(0.5), Some(5.0));
        assert_eq!(d.quantile(0.95), Some(10.0));
        assert_eq!(d.quantile(0.9), Some(9.0));
        assert_eq!(d.mean(), Some(5.5));
        assert_eq!(d.count(), 10);
        assert!(d.exact());
    }

    #[test]
    fn one_value_and_none() {
        let mut one = of(&[4.0]);
        assert_eq!(one.quantile(0.5), Some(4.0));
        assert_eq!(one.quantile(0.99), Some(4.0));
        let mut none = Distribution::default();
        assert_eq!(none.quantile(0.5), None);
        assert_eq!(none.mean(), None);
    }

    #[test]
    fn beyond_the_limit_the_sketch_is_within_its_bound() {
        // 1..=100_000: the p95 is 95_000, the p50 50_000.
        let n = 100_000;
        let mut d = of(&(1..=n).map(f64::from).collect::<Vec<_>>());
        assert!(!d.exact());
        assert_eq!(d.sample().len(), EXACT_LIMIT);
        for (p, truth) in [(0.5, 50_000.0), (0.95, 95_000.0), (0.99, 99_000.0)] {
            let got = d.quantile(p).unwrap();
            assert!(
                (got - truth).abs() <= truth * SKETCH_ALPHA + 1.0,
                "p{p}: {got}"
            );
        }
        assert_eq!(d.mean(), Some(50_000.5));
        // The reservoir is a sample of the whole stream, not of its first values.
        let late = d.sample().iter().filter(|v| **v > 50_000.0).count();
        assert!(
            (1500..2600).contains(&late),
            "{late} of the sample from the second half"
        );
    }

    #[test]
    fn nan_and_infinity_are_not_values() {
        let d = of(&[f64::NAN, f64::INFINITY, 1.0]);
        assert_eq!(d.count(), 1);
    }

    #[test]
    fn merged_is_as_if_added_one_by_one() {
        let mut a = of(&[1.0, 2.0, 3.0]);
        a.merge(&of(&[10.0, 4.0]));
        assert_eq!(a.count(), 5);
        assert_eq!(a.mean(), Some(4.0));
        assert_eq!(a.quantile(0.5), Some(3.0));
        assert_eq!(a.quantile(1.0), Some(10.0));
        assert!(a.exact());
        a.merge(&Distribution::default());
        assert_eq!(a.count(), 5);
    }

    #[test]
    fn merged_beyond_the_limit_is_within_the_sketch_bound() {
        // 1..=3000 and 3001..=10_000: p95 of the whole is 9500.
        let mut a = of(&(1..=3000).map(f64::from).collect::<Vec<_>>());
        a.merge(&of(&(3001..=10_000).map(f64::from).collect::<Vec<_>>()));
        assert!(!a.exact());
        assert_eq!(a.count(), 10_000);
        let p95 = a.quantile(0.95).unwrap();
        assert!((p95 - 9500.0).abs() <= 9500.0 * SKETCH_ALPHA + 1.0, "{p95}");
        assert!(a.sample().len() <= EXACT_LIMIT);
        // The sample keeps the sides in proportion: 30 % from the first.
        let first = a.sample().iter().filter(|v| **v <= 3000.0).count();
        assert!((1100..1400).contains(&first), "{first}");
    }
}
