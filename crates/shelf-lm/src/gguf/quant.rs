//! Quantized weight matrices for the GGUF [`decoder`](super::decoder) and the integer dot
//! products under them.
//!
//! Key decisions:
//! - Q4_1 and Q8_0 run on kernels of our own. candle 0.11 has no SIMD path for Q4_1: its
//!   `vec_dot` is the scalar fallback, and in a `perf` profile of SmolLM2 (a Q4_1 file) decoding
//!   that fallback took 77 % of the time. Every other type (the K-quants of a Q4_K_M file, f16,
//!   …) goes through candle's `QMatMul`, whose kernels for them are SIMD already.
//! - Activations are quantized to 8 bits per block of 32 values, as llama.cpp does, so a dot
//!   product is integer multiply-adds. Scales are kept as f32 (llama.cpp rounds them to f16).
//! - Weight scales are widened from f16 to f32 at load: converting on the fly needs F16C, which
//!   `pulp`'s AVX2 token does not carry, and this crate forbids `unsafe`. It costs 4 bytes per
//!   Q4_1 block of 20 (Q8_0: 2 of 34).
//! - The AVX2 + FMA kernels are chosen at run time (`pulp`'s checked `V3` token), with plain
//!   loops for any other CPU; both give the same integer sums, so they differ only in the order
//!   the f32 block results are added.
//! - [`Matrix::matmul`] splits the *weight rows* across the pool and runs each over every input
//!   row before moving on, so a weight row is read from memory once per batch, not once per
//!   row. That is what makes batched decoding pay: decoding is bound by reading the weights.

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use half::f16;
use rayon::prelude::*;

/// Values per quantized block, for every type shelf runs natively.
pub(crate) const BLOCK: usize = 32;

/// Weight rows per parallel task: small enough to split a 576-row matrix across threads, large
/// enough that scheduling costs little next to the dot products.
const ROWS_PER_TASK: usize = 32;

/// A Q4_1 block: `value = d·q + m` for 4-bit `q`; low nibbles hold values 0–15, high 16–31.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Q4_1 {
    d: f32,
    m: f32,
    qs: [u8; 16],
}

/// A Q8_0 block: `value = d·q` for signed 8-bit `q`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Q8_0 {
    d: f32,
    qs: [i8; 32],
}

/// A block of quantized activations: `value ≈ d·q`, with `s = d·Σq` for Q4_1's offset term.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Q8Act {
    d: f32,
    s: f32,
    qs: [i8; 32],
}

/// Quantizes `x` (a multiple of [`BLOCK`] long) to 8-bit blocks.
pub(crate) fn quantize_activations(x: &[f32], out: &mut Vec<Q8Act>) {
    out.clear();
    out.extend(x.chunks_exact(BLOCK).map(|v| {
        let amax = v.iter().fold(0f32, |a, x| a.max(x.abs()));
        let d = amax / 127.0;
        let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
        let mut block = Q8Act {
            d,
            ..Q8Act::default()
        };
        let mut sum = 0i32;
        for (q, &x) in block.qs.iter_mut().zip(v) {
            *q = (x * inv).round() as i8;
            sum += i32::from(*q);
        }
        block.s = d * sum as f32;
        block
    }));
}

/// A weight block type with a native dot product against [`Q8Act`] blocks.
pub(crate) trait WeightBlock: Copy + Send + Sync + 'static {
    /// Bytes per block in a GGUF file.
    const BYTES: usize;
    /// Reads one block from its GGUF bytes (`BYTES` long, little-endian f16 scales).
    fn read(bytes: &[u8]) -> Self;
    /// `Σ w·x` over equal-length block runs, with plain loops.
    fn dot(w: &[Self], x: &[Q8Act]) -> f32;
    /// The same with AVX2 + FMA.
    #[cfg(target_arch = "x86_64")]
    fn dot_v3(simd: pulp::x86::V3, w: &[Self], x: &[Q8Act]) -> f32;
    /// Writes the block's 32 values.
    fn dequantize(self, out: &mut [f32]);
}

fn half(bytes: &[u8]) -> f32 {
    f16::from_bits(u16::from_le_bytes([bytes[0], bytes[1]])).to_f32()
}

impl WeightBlock for Q4_1 {
    const BYTES: usize = 20;

    fn read(bytes: &[u8]) -> Self {
        let mut qs = [0u8; 16];
        qs.copy_from_slice(&bytes[4..20]);
        Self {
            d: half(&bytes[0..2]),
            m: half(&bytes[2..4]),
            qs,
        }
    }

    #[inline(always)]
    fn dot(w: &[Self], x: &[Q8Act]) -> f32 {
        let mut sum = 0f32;
        for (b, a) in w.iter().zip(x) {
            let mut acc = 0i32;
            for j in 0..16 {
                acc += i32::from(b.qs[j] & 0x0F) * i32::from(a.qs[j])
                    + i32::from(b.qs[j] >> 4) * i32::from(a.qs[j + 16]);
            }
            sum += b.d * a.d * acc as f32 + b.m * a.s;
        }
        sum
    }

    /// llama.cpp's AVX2 shape: the 32 nibbles widened to bytes (low nibbles in the low lane),
    /// `maddubs` (unsigned 4-bit × signed 8-bit → i16 pairs), `madd` with ones (→ i32), then
    /// one f32 multiply-add per block by `d_w·d_x`; the offset `m_w·s_x` is summed apart.
    /// Two blocks per step on two accumulators: one chain of dependent multiply-adds would
    /// wait out each one's latency.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn dot_v3(simd: pulp::x86::V3, w: &[Self], x: &[Q8Act]) -> f32 {
        use core::arch::x86_64::{__m128i, __m256, __m256i};
        use pulp::bytemuck::cast;
        // A nested `fn`, not a closure: closures do not inherit the AVX2 context.
        #[inline(always)]
        fn block(simd: pulp::x86::V3, b: &Q4_1, a: &Q8Act, acc: __m256) -> __m256 {
            let (nibble, ones) = (
                simd.avx._mm256_set1_epi8(0x0F),
                simd.avx._mm256_set1_epi16(1),
            );
            let packed: __m128i = cast(b.qs);
            let high = simd.sse2._mm_srli_epi16::<4>(packed);
            let q4 = simd
                .avx2
                ._mm256_and_si256(simd.avx._mm256_set_m128i(high, packed), nibble);
            let q8: __m256i = cast(a.qs);
            let pairs = simd.avx2._mm256_maddubs_epi16(q4, q8);
            let quads = simd.avx2._mm256_madd_epi16(pairs, ones);
            let scale = simd.avx._mm256_set1_ps(b.d * a.d);
            simd.fma
                ._mm256_fmadd_ps(scale, simd.avx._mm256_cvtepi32_ps(quads), acc)
        }
        let mut acc = [simd.avx._mm256_setzero_ps(); 2];
        let mut offsets = [0f32; 2];
        let (pw, px) = (w.chunks_exact(2), x.chunks_exact(2));
        let tail = pw.remainder().iter().zip(px.remainder());
        for (b, a) in pw.zip(px) {
            acc[0] = block(simd, &b[0], &a[0], acc[0]);
            acc[1] = block(simd, &b[1], &a[1], acc[1]);
            offsets[0] += b[0].m * a[0].s;
            offsets[1] += b[1].m * a[1].s;
        }
        for (b, a) in tail {
            acc[0] = block(simd, b, a, acc[0]);
            offsets[0] += b.m * a.s;
        }
        let acc = simd.avx._mm256_add_ps(acc[0], acc[1]);
        pulp::Simd::reduce_sum_f32s(simd, cast(acc)) + (offsets[0] + offsets[1])
    }

    fn dequantize(self, out: &mut [f32]) {
        for j in 0..16 {
            out[j] = self.d * f32::from(self.qs[j] & 0x0F) + self.m;
            out[j + 16] = self.d * f32::from(self.qs[j] >> 4) + self.m;
        }
    }
}

impl WeightBlock for Q8_0 {
    const BYTES: usize = 34;

    fn read(bytes: &[u8]) -> Self {
        let mut qs = [0i8; 32];
        for (q, &b) in qs.iter_mut().zip(&bytes[2..34]) {
            *q = b as i8;
        }
        Self {
            d: half(&bytes[0..2]),
            qs,
        }
    }

    #[inline(always)]
    fn dot(w: &[Self], x: &[Q8Act]) -> f32 {
        let mut sum = 0f32;
        for (b, a) in w.iter().zip(x) {
            let acc: i32 = (0..32)
                .map(|j| i32::from(b.qs[j]) * i32::from(a.qs[j]))
                .sum();
            sum += b.d * a.d * acc as f32;
        }
        sum
    }

    /// Signed × signed through `maddubs` (unsigned × signed): `|w|` times `x` with `w`'s sign.
    /// Two accumulators, as in Q4_1's.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn dot_v3(simd: pulp::x86::V3, w: &[Self], x: &[Q8Act]) -> f32 {
        use core::arch::x86_64::{__m256, __m256i};
        use pulp::bytemuck::cast;
        #[inline(always)]
        fn block(simd: pulp::x86::V3, b: &Q8_0, a: &Q8Act, acc: __m256) -> __m256 {
            let ones = simd.avx._mm256_set1_epi16(1);
            let qw: __m256i = cast(b.qs);
            let qx: __m256i = cast(a.qs);
            let magnitude = simd.avx2._mm256_sign_epi8(qw, qw);
            let signed = simd.avx2._mm256_sign_epi8(qx, qw);
            let pairs = simd.avx2._mm256_maddubs_epi16(magnitude, signed);
            let quads = simd.avx2._mm256_madd_epi16(pairs, ones);
            let scale = simd.avx._mm256_set1_ps(b.d * a.d);
            simd.fma
                ._mm256_fmadd_ps(scale, simd.avx._mm256_cvtepi32_ps(quads), acc)
        }
        let mut acc = [simd.avx._mm256_setzero_ps(); 2];
        let (pw, px) = (w.chunks_exact(2), x.chunks_exact(2));
        let tail = pw.remainder().iter().zip(px.remainder());
        for (b, a) in pw.zip(px) {
            acc[0] = block(simd, &b[0], &a[0], acc[0]);
            acc[1] = block(simd, &b[1], &a[1], acc[1]);
        }
        for (b, a) in tail {
            acc[0] = block(simd, b, a, acc[0]);
        }
        let acc = simd.avx._mm256_add_ps(acc[0], acc[1]);
        pulp::Simd::reduce_sum_f32s(simd, cast(acc))
    }

    fn dequantize(self, out: &mut [f32]) {
        for (o, &q) in out.iter_mut().zip(&self.qs) {
            *o = self.d * f32::from(q);
        }
    }
}

/// How a matrix's rows are stored.
enum Storage {
    Q4_1(Vec<Q4_1>),
    Q8_0(Vec<Q8_0>),
    /// Any other GGUF type, multiplied by candle.
    Candle(QMatMul),
}

/// A `rows × cols` weight matrix (`rows` outputs, `cols` inputs), as GGUF stores linear layers.
pub(crate) struct Matrix {
    rows: usize,
    cols: usize,
    storage: Storage,
    /// The AVX2 + FMA token when this CPU has them.
    #[cfg(target_arch = "x86_64")]
    v3: Option<pulp::x86::V3>,
}

impl Matrix {
    /// Takes over a tensor read from a GGUF file: Q4_1 and Q8_0 are re-read into native
    /// blocks, anything else stays a candle matrix.
    pub(crate) fn new(tensor: QTensor) -> candle_core::Result<Self> {
        let (rows, cols) = tensor.shape().dims2()?;
        let native = cols % BLOCK == 0;
        let storage = match tensor.dtype() {
            GgmlDType::Q4_1 if native => Storage::Q4_1(read_blocks(&tensor.data()?)),
            GgmlDType::Q8_0 if native => Storage::Q8_0(read_blocks(&tensor.data()?)),
            _ => Storage::Candle(QMatMul::from_qtensor(tensor)?),
        };
        Ok(Self {
            rows,
            cols,
            storage,
            #[cfg(target_arch = "x86_64")]
            v3: pulp::x86::V3::try_new(),
        })
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    pub(crate) fn cols(&self) -> usize {
        self.cols
    }

    /// Whether [`Matrix::row`] can read single rows (native storage).
    pub(crate) fn has_rows(&self) -> bool {
        !matches!(self.storage, Storage::Candle(_))
    }

    /// Writes row `r` as f32 into `out` (`cols` long); `false` for candle storage.
    pub(crate) fn row(&self, r: usize, out: &mut [f32]) -> bool {
        let per_row = self.cols / BLOCK;
        match &self.storage {
            Storage::Q4_1(b) => dequantize_row(&b[r * per_row..(r + 1) * per_row], out),
            Storage::Q8_0(b) => dequantize_row(&b[r * per_row..(r + 1) * per_row], out),
            Storage::Candle(_) => return false,
        }
        true
    }

    /// `out[i·rows + j] = Σₖ x[i·cols + k] · W[j][k]` for every input row `i` of `x`.
    /// Runs on the rayon pool it is called from.
    pub(crate) fn matmul(&self, x: &[f32], out: &mut [f32]) -> candle_core::Result<()> {
        let m = x.len() / self.cols;
        debug_assert_eq!(x.len(), m * self.cols);
        debug_assert_eq!(out.len(), m * self.rows);
        match &self.storage {
            Storage::Q4_1(b) => self.native(b, x, m, out),
            Storage::Q8_0(b) => self.native(b, x, m, out),
            Storage::Candle(mm) => {
                let t = Tensor::from_slice(x, (m, self.cols), &Device::Cpu)?;
                let y = mm.forward(&t)?.flatten_all()?.to_vec1::<f32>()?;
                out.copy_from_slice(&y);
            }
        }
        Ok(())
    }

    fn native<B: WeightBlock>(&self, blocks: &[B], x: &[f32], m: usize, out: &mut [f32]) {
        let per_row = self.cols / BLOCK;
        let mut xq = Vec::with_capacity(m * per_row);
        quantize_activations(x, &mut xq);
        let task = Dots {
            per_row,
            m,
            x: &xq,
            #[cfg(target_arch = "x86_64")]
            v3: self.v3,
        };
        if m == 1 {
            out.par_chunks_mut(ROWS_PER_TASK)
                .zip(blocks.par_chunks(ROWS_PER_TASK * per_row))
                .for_each(|(out, w)| task.run(w, out));
            return;
        }
        // Row-major per weight row (all `m` results of weight row j together), then transposed.
        let mut by_weight = vec![0f32; m * self.rows];
        by_weight
            .par_chunks_mut(ROWS_PER_TASK * m)
            .zip(blocks.par_chunks(ROWS_PER_TASK * per_row))
            .for_each(|(out, w)| task.run(w, out));
        for (j, results) in by_weight.chunks_exact(m).enumerate() {
            for (i, &v) in results.iter().enumerate() {
                out[i * self.rows + j] = v;
            }
        }
    }
}

/// One parallel task's dot products: weight rows `w` against every quantized input row.
#[derive(Clone, Copy)]
struct Dots<'a> {
    per_row: usize,
    m: usize,
    x: &'a [Q8Act],
    #[cfg(target_arch = "x86_64")]
    v3: Option<pulp::x86::V3>,
}

impl Dots<'_> {
    /// `out[j·m + i] = w_j · x_i` for the weight rows in `w`.
    fn run<B: WeightBlock>(self, w: &[B], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = self.v3 {
            pulp::Simd::vectorize(
                v3,
                InV3 {
                    v3,
                    dots: self,
                    w,
                    out,
                },
            );
            return;
        }
        for (row, out) in w
            .chunks_exact(self.per_row)
            .zip(out.chunks_exact_mut(self.m))
        {
            for (o, x) in out.iter_mut().zip(self.x.chunks_exact(self.per_row)) {
                *o = B::dot(row, x);
            }
        }
    }
}

/// [`Dots::run`] compiled with AVX2 + FMA: loops, not closures, so the kernel inlines into
/// the target-feature context `pulp` sets up (a closure would be compiled outside it).
#[cfg(target_arch = "x86_64")]
struct InV3<'a, B> {
    v3: pulp::x86::V3,
    dots: Dots<'a>,
    w: &'a [B],
    out: &'a mut [f32],
}

#[cfg(target_arch = "x86_64")]
impl<B: WeightBlock> pulp::WithSimd for InV3<'_, B> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let v3 = self.v3;
        let (per_row, m) = (self.dots.per_row, self.dots.m);
        for (row, out) in self
            .w
            .chunks_exact(per_row)
            .zip(self.out.chunks_exact_mut(m))
        {
            for (o, x) in out.iter_mut().zip(self.dots.x.chunks_exact(per_row)) {
                *o = B::dot_v3(v3, row, x);
            }
        }
    }
}

fn read_blocks<B: WeightBlock>(bytes: &[u8]) -> Vec<B> {
    bytes.chunks_exact(B::BYTES).map(B::read).collect()
}

fn dequantize_row<B: WeightBlock>(blocks: &[B], out: &mut [f32]) {
    for (b, out) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
        b.dequantize(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 20_000) as f32 / 10_000.0 - 1.0
            })
            .collect()
    }

    /// Quantizes `w` (rows × cols) with candle into `dtype` and takes it over.
    fn matrix(w: &[f32], rows: usize, cols: usize, dtype: GgmlDType) -> Matrix {
        let t = Tensor::from_slice(w, (rows, cols), &Device::Cpu).unwrap();
        Matrix::new(QTensor::quantize(&t, dtype).unwrap()).unwrap()
    }

    fn reference_weights(w: &[f32], rows: usize, cols: usize, dtype: GgmlDType) -> Vec<f32> {
        let t = Tensor::from_slice(w, (rows, cols), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&t, dtype).unwrap();
        q.dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    }

    fn naive(w: &[f32], x: &[f32], cols: usize) -> Vec<f32> {
        x.chunks_exact(cols)
            .flat_map(|x| {
                w.chunks_exact(cols)
                    .map(|r| r.iter().zip(x).map(|(a, b)| a * b).sum::<f32>())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn native_matmuls_match_candle_and_the_exact_product() {
        let (rows, cols) = (70, 128);
        let w = values(rows * cols, 1);
        for dtype in [GgmlDType::Q4_1, GgmlDType::Q8_0] {
            let native = matrix(&w, rows, cols, dtype);
            assert!(native.has_rows(), "{dtype:?}");
            let t = Tensor::from_slice(&w, (rows, cols), &Device::Cpu).unwrap();
            let reference = QMatMul::from_qtensor(QTensor::quantize(&t, dtype).unwrap()).unwrap();
            for m in [1, 3] {
                let x = values(m * cols, 2 + m as u32);
                let mut out = vec![0f32; m * rows];
                native.matmul(&x, &mut out).unwrap();
                let xt = Tensor::from_slice(&x, (m, cols), &Device::Cpu).unwrap();
                let want: Vec<f32> = reference
                    .forward(&xt)
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1()
                    .unwrap();
                // The weights as stored, times the activations unquantized: what is left is
                // the activations' 8-bit rounding.
                let stored: Vec<f32> = reference_weights(&w, rows, cols, dtype);
                let exact = naive(&stored, &x, cols);
                for ((o, c), e) in out.iter().zip(&want).zip(&exact) {
                    // candle rounds the activation scales to f16, shelf keeps f32.
                    assert!((o - c).abs() < 0.02, "{dtype:?} m {m}: {o} vs candle {c}");
                    assert!((o - e).abs() < 0.05, "{dtype:?} m {m}: {o} vs exact {e}");
                }
            }
        }
    }

    #[test]
    fn portable_and_avx2_kernels_agree() {
        let (rows, cols) = (4, 256);
        let w = values(rows * cols, 5);
        let x = values(cols, 6);
        let mut xq = Vec::new();
        quantize_activations(&x, &mut xq);
        let q4 = matrix(&w, rows, cols, GgmlDType::Q4_1);
        let q8 = matrix(&w, rows, cols, GgmlDType::Q8_0);
        let (Storage::Q4_1(b4), Storage::Q8_0(b8)) = (&q4.storage, &q8.storage) else {
            panic!("not native");
        };
        let per_row = cols / BLOCK;
        let portable = (
            Q4_1::dot(&b4[..per_row], &xq),
            Q8_0::dot(&b8[..per_row], &xq),
        );
        let mut out4 = vec![0f32; rows];
        let mut out8 = vec![0f32; rows];
        q4.matmul(&x, &mut out4).unwrap();
        q8.matmul(&x, &mut out8).unwrap();
        assert!((portable.0 - out4[0]).abs() < 1e-3, "{portable:?} {out4:?}");
        assert!((portable.1 - out8[0]).abs() < 1e-3, "{portable:?} {out8:?}");
    }

    #[test]
    fn rows_dequantize_to_what_candle_dequantizes() {
        let (rows, cols) = (3, 64);
        let w = values(rows * cols, 9);
        for dtype in [GgmlDType::Q4_1, GgmlDType::Q8_0] {
            let t = Tensor::from_slice(&w, (rows, cols), &Device::Cpu).unwrap();
            let q = QTensor::quantize(&t, dtype).unwrap();
            let want: Vec<f32> = q
                .dequantize(&Device::Cpu)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let m = Matrix::new(q).unwrap();
            let mut row = vec![0f32; cols];
            assert!(m.row(2, &mut row));
            for (a, b) in row.iter().zip(&want[2 * cols..]) {
                assert!((a - b).abs() < 1e-6, "{dtype:?}");
            }
        }
    }
}
