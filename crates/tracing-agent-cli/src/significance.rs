//! The tests `drift` uses to tell a change from noise; each returns a two-sided p-value.
//!
//! - [`mann_whitney`] for distributions (tool calls per run, latency, tokens, spend,
//!   durations): a rank test, so a handful of huge values (a stuck run) cannot make or
//!   hide a change, and no shape (normal, log-normal) is assumed of latencies or counts.
//!   Normal approximation with the tie correction and a continuity correction: exact
//!   enough from about 20 values a side, and `drift` asks for more (its `--min-runs`).
//! - [`two_proportions`] for rates (success, a stop reason's share, an error class's
//!   share of a tool's calls): the pooled two-proportion z-test.
//! - [`welch`] for means whose distribution is mostly zeros (a tool's calls or retries
//!   per run, of tools most runs do not call): Welch's unequal-variance test, from counts,
//!   sums and sums of squares, with the normal approximation (large samples).
//!
//! The normal distribution's tail is computed here: one function (`erfc`, W. J. Cody's
//! rational approximation as in Numerical Recipes' `erfcc`, relative error below
//! 1.2e-7) is all that is needed, where a statistics crate would bring a linear
//! algebra library with it.

/// P(|Z| >= |z|) for a standard normal Z.
pub(crate) fn two_sided(z: f64) -> f64 {
    if z.is_nan() {
        return 1.0;
    }
    erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// The complementary error function, relative error below 1.2e-7 everywhere.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let result = t * poly.exp();
    if x >= 0.0 {
        result
    } else {
        2.0 - result
    }
}

/// Mann–Whitney U: whether values of `a` and `b` tend to differ in size. 1.0 when either
/// is empty or every value is the same.
pub(crate) fn mann_whitney(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|v| (*v, true))
        .chain(b.iter().map(|v| (*v, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let (mut rank_sum_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Tied values share the mean of their ranks (1-based: i+1 ..= j+1).
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let in_a = all[i..=j].iter().filter(|(_, from_a)| *from_a).count();
        rank_sum_a += rank * in_a as f64;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    let u = rank_sum_a - na * (na + 1.0) / 2.0;
    let mean = na * nb / 2.0;
    let total = na + nb;
    let variance = na * nb / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let distance = ((u - mean).abs() - 0.5).max(0.0);
    two_sided(distance / variance.sqrt())
}

/// Whether `x1` of `n1` and `x2` of `n2` are different proportions. 1.0 when either
/// side is empty or both proportions are 0 or both 1.
pub(crate) fn two_proportions(x1: u64, n1: u64, x2: u64, n2: u64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    if se == 0.0 {
        return 1.0;
    }
    two_sided((x2 as f64 / n2f - x1 as f64 / n1f) / se)
}

/// A side of a test of means: how many values, their mean and sample variance.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Moments {
    pub count: u64,
    pub mean: f64,
    pub variance: f64,
}

/// Welch's test of whether two means differ, normal approximation. 1.0 when a side has
/// fewer than two values or neither varies.
pub(crate) fn welch(a: Moments, b: Moments) -> f64 {
    if a.count < 2 || b.count < 2 {
        return 1.0;
    }
    let se = (a.variance / a.count as f64 + b.variance / b.count as f64).sqrt();
    if se == 0.0 {
        return if a.mean == b.mean { 1.0 } else { 0.0 };
    }
    two_sided((b.mean - a.mean) / se)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, tolerance: f64) {
        assert!((got - want).abs() <= tolerance, "got {got}, want {want}");
    }

    #[test]
    fn the_normal_tail_matches_tables() {
        // Standard normal table: P(|Z| >= 1.96) = 0.04999579, P(|Z| >= 3) = 0.0026998.
        close(two_sided(1.959_964), 0.05, 1e-6);
        close(two_sided(3.0), 0.002_699_796, 1e-7);
        close(two_sided(0.0), 1.0, 1e-7);
        close(two_sided(-1.0), 0.317_310_5, 1e-6);
    }

    #[test]
    fn mann_whitney_by_hand() {
        // a = 1..=8, b = 5..=12: 5, 6, 7, 8 tie in pairs (ranks 5.5, 7.5, 9.5, 11.5), so
        // a's rank sum is 44 and U = 44 - 36 = 8 against a mean of 32; tie term 4 * 6,
        // variance 64/12 * (17 - 24/240) = 90.1333, z = (24 - 0.5) / 9.49386 = 2.475285,
        // p = erfc(z / sqrt 2) = 0.013313 (Python's math.erfc).
        let a: Vec<f64> = (1..=8).map(f64::from).collect();
        let b: Vec<f64> = (5..=12).map(f64::from).collect();
        close(mann_whitney(&a, &b), 0.013_313, 1e-5);
        close(mann_whitney(&b, &a), 0.013_313, 1e-5);
        // Identical samples: no evidence at all.
        close(mann_whitney(&a, &a), 1.0, 1e-9);
        assert_eq!(mann_whitney(&[], &a), 1.0);
        assert_eq!(mann_whitney(&[3.0, 3.0], &[3.0, 3.0, 3.0]), 1.0);
    }

    #[test]
    fn two_proportions_by_hand() {
        // 40/100 vs 60/100: pooled 0.5, se = sqrt(0.25 * 0.02) = 0.0707107, z = 2.828427,
        // p = 0.0046777.
        close(two_proportions(40, 100, 60, 100), 0.004_677_7, 1e-6);
        close(two_proportions(91, 100, 91, 100), 1.0, 1e-9);
        assert_eq!(two_proportions(0, 10, 0, 10), 1.0);
        assert_eq!(two_proportions(1, 0, 1, 10), 1.0);
    }

    #[test]
    fn welch_by_hand() {
        // means 1 and 2, variances 1 and 4, 100 each: se = sqrt(0.05), z = 4.472136,
        // p = 7.744e-6.
        let a = Moments {
            count: 100,
            mean: 1.0,
            variance: 1.0,
        };
        let b = Moments {
            count: 100,
            mean: 2.0,
            variance: 4.0,
        };
        close(welch(a, b), 7.744e-6, 1e-8);
        close(welch(a, a), 1.0, 1e-9);
    }
}
