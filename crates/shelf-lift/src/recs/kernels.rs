//! The dense f32 kernels under ALS (`dot`, `axpy`, `matvec`), compiled twice: plain loops
//! the compiler vectorises for the build's target (SSE2 in a default x86-64 build), and
//! 8-wide AVX2 with fused multiply-add, chosen at run time when the CPU has them (via
//! `pulp`'s checked `V3` token, so the crate stays free of `unsafe`).
//!
//! Why both: a default build may run on any x86-64, and AVX2 + FMA does about twice the
//! multiply-adds per cycle of SSE2. The AVX2 path only pays when the whole row solve is
//! compiled inside the AVX2 context, so callers hand [`run`] a [`KernelOp`] — one whole unit
//! of work (a row's conjugate-gradient solve, a user's scores) written once, generic over
//! [`Kernels`] and `#[inline(always)]` down to the loops — rather than calling a kernel at a
//! time. Inside an op, call kernels from loops, not closures: a closure is compiled as a
//! function of its own, outside the AVX2 context, and each kernel call in it stays a call.
//!
//! The two paths sum in different orders, so their results differ in the last bits: a fit is
//! reproducible on one machine (and across thread counts), not bit for bit across CPUs with
//! and without AVX2.

/// `dot` and `axpy` over equal-length f32 slices; `matvec` from them.
pub(crate) trait Kernels: Copy {
    /// `Σ aᵢ·bᵢ`
    fn dot(self, a: &[f32], b: &[f32]) -> f32;

    /// `y += a x`
    fn axpy(self, a: f32, x: &[f32], y: &mut [f32]);

    /// `out = m v` for a *symmetric* row-major `m` (YᵀY + λI): summed as columns,
    /// `Σⱼ vⱼ·m[j]`, so the work is axpys with no horizontal sum per output.
    #[inline(always)]
    fn matvec(self, m: &[f32], v: &[f32], out: &mut [f32]) {
        out.fill(0.0);
        for (&vj, row) in v.iter().zip(m.chunks_exact(v.len())) {
            self.axpy(vj, row, out);
        }
    }
}

/// One unit of work written once for either kernel set.
pub(crate) trait KernelOp {
    type Output;
    fn run<K: Kernels>(self, kernels: K) -> Self::Output;
}

/// Runs `op` with AVX2 + FMA kernels when the CPU has them, else with [`Portable`].
#[inline]
pub(crate) fn run<Op: KernelOp>(op: Op) -> Op::Output {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = pulp::x86::V3::try_new() {
        return pulp::Simd::vectorize(v3, InV3(op, v3));
    }
    op.run(Portable)
}

/// `a·b` through [`run`], so a single score agrees with the scores a batch computes.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    struct Dot<'a>(&'a [f32], &'a [f32]);
    impl KernelOp for Dot<'_> {
        type Output = f32;
        #[inline(always)]
        fn run<K: Kernels>(self, k: K) -> f32 {
            k.dot(self.0, self.1)
        }
    }
    run(Dot(a, b))
}

/// Plain loops for the build's target.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

impl Kernels for Portable {
    /// Four 4-wide partial sums so the compiler keeps them in four SSE registers (a single
    /// f32 accumulator is a serial dependency chain it may not reorder), folded pairwise at
    /// the end. Written as `[[f32; 4]; 4]`: with one flat 16-lane array the compiler chose
    /// 2-wide vectors (seen in `objdump`), half the throughput.
    #[inline(always)]
    fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        let mut acc = [[0f32; 4]; 4];
        let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
        let tail: f32 = ca
            .remainder()
            .iter()
            .zip(cb.remainder())
            .map(|(x, y)| x * y)
            .sum();
        for (x, y) in ca.zip(cb) {
            for (j, acc) in acc.iter_mut().enumerate() {
                let x: &[f32; 4] = x[4 * j..4 * j + 4].try_into().unwrap();
                let y: &[f32; 4] = y[4 * j..4 * j + 4].try_into().unwrap();
                for l in 0..4 {
                    acc[l] += x[l] * y[l];
                }
            }
        }
        let mut s = [0f32; 4];
        for (l, s) in s.iter_mut().enumerate() {
            *s = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]);
        }
        ((s[0] + s[2]) + (s[1] + s[3])) + tail
    }

    #[inline(always)]
    fn axpy(self, a: f32, x: &[f32], y: &mut [f32]) {
        y.iter_mut().zip(x).for_each(|(y, &x)| *y += a * x);
    }
}

#[cfg(target_arch = "x86_64")]
use pulp::Simd as _;

/// 8-wide AVX2 with fused multiply-add; only constructed from a detected `V3` token.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2Fma(pulp::x86::V3);

#[cfg(target_arch = "x86_64")]
impl Kernels for Avx2Fma {
    /// Two 8-wide accumulators (a 64-factor row is 8 vectors, 4 per chain), then the scalar
    /// tail.
    #[inline(always)]
    fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        let simd = self.0;
        let (va, ta) = pulp::x86::V3::as_simd_f32s(a);
        let (vb, tb) = pulp::x86::V3::as_simd_f32s(b);
        let mut acc = [simd.splat_f32s(0.0); 2];
        let (pa, pb) = (va.chunks_exact(2), vb.chunks_exact(2));
        let (ra, rb) = (pa.remainder(), pb.remainder());
        for (x, y) in pa.zip(pb) {
            acc[0] = simd.mul_add_f32s(x[0], y[0], acc[0]);
            acc[1] = simd.mul_add_f32s(x[1], y[1], acc[1]);
        }
        for (&x, &y) in ra.iter().zip(rb) {
            acc[0] = simd.mul_add_f32s(x, y, acc[0]);
        }
        let tail: f32 = ta.iter().zip(tb).map(|(x, y)| x * y).sum();
        simd.reduce_sum_f32s(simd.add_f32s(acc[0], acc[1])) + tail
    }

    #[inline(always)]
    fn axpy(self, a: f32, x: &[f32], y: &mut [f32]) {
        let simd = self.0;
        let (vx, tx) = pulp::x86::V3::as_simd_f32s(x);
        let (vy, ty) = pulp::x86::V3::as_mut_simd_f32s(y);
        let va = simd.splat_f32s(a);
        for (y, &x) in vy.iter_mut().zip(vx) {
            *y = simd.mul_add_f32s(va, x, *y);
        }
        for (y, &x) in ty.iter_mut().zip(tx) {
            *y += a * x;
        }
    }
}

/// Adapts a [`KernelOp`] to `pulp`'s entry point, which compiles `with_simd` (and everything
/// inlined into it) with the AVX2 + FMA target features.
#[cfg(target_arch = "x86_64")]
struct InV3<Op>(Op, pulp::x86::V3);

#[cfg(target_arch = "x86_64")]
impl<Op: KernelOp> pulp::WithSimd for InV3<Op> {
    type Output = Op::Output;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> Self::Output {
        self.0.run(Avx2Fma(self.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::SplitMix64;

    struct Both<'a>(&'a [f32], &'a [f32]);

    impl KernelOp for Both<'_> {
        type Output = (f32, Vec<f32>, Vec<f32>);
        fn run<K: Kernels>(self, k: K) -> Self::Output {
            let mut y = self.1.to_vec();
            k.axpy(0.5, self.0, &mut y);
            let f = 5;
            let mut out = vec![0.0; f];
            k.matvec(&self.0[..f * f], &self.1[..f], &mut out);
            (k.dot(self.0, self.1), y, out)
        }
    }

    #[test]
    fn both_kernel_sets_match_naive_sums() {
        let mut rng = SplitMix64(3);
        // 64 + 21: whole vectors, an odd vector and a scalar tail.
        for n in [64, 85, 3] {
            let a: Vec<f32> = (0..n.max(25)).map(|_| rng.unit() as f32 - 0.5).collect();
            let b: Vec<f32> = (0..n.max(25)).map(|_| rng.unit() as f32 - 0.5).collect();
            let naive_dot: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(x * y)).sum();
            let (portable, dispatched) = (Both(&a, &b).run(Portable), run(Both(&a, &b)));
            for (dot, y, out) in [portable, dispatched] {
                assert!((f64::from(dot) - naive_dot).abs() < 1e-5, "n {n}");
                for i in 0..a.len() {
                    assert!((y[i] - (b[i] + 0.5 * a[i])).abs() < 1e-6);
                }
                for (r, o) in out.iter().enumerate() {
                    // a[..25] read as a 5×5 matrix m; out = Σⱼ b[j]·m[j] (m symmetric or not).
                    let want: f32 = (0..5).map(|j| b[j] * a[j * 5 + r]).sum();
                    assert!((o - want).abs() < 1e-5);
                }
            }
        }
    }
}
