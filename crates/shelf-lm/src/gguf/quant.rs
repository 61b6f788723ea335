//! Quantized weight matrices for the GGUF [`decoder`](super::decoder) and the integer dot
//! products under them.
//!
//! Key decisions:
//! - Q4_1, Q8_0, Q4_K and Q6_K (SmolLM2's Q4_1 file, Qwen2.5's Q4_K_M) run on kernels of our
//!   own. candle 0.11 has no SIMD path for Q4_1 at all (its scalar fallback was 77 % of
//!   SmolLM2's decode time in a `perf` profile), and its K-quant matmul reads every weight once
//!   per input row, so a batch would not pay. Any other type goes through candle's `QMatMul`.
//! - Activations are quantized to 8 bits, as llama.cpp does, so a dot product is integer
//!   multiply-adds: [`Q8Act`] (one f32 scale per 32 values) for Q4_1 / Q8_0, [`Q8K`] (one per
//!   256, with each 16 values' sum) for the K-quants, so a super-block's eight pieces add their
//!   integer sums before any float work and its offsets (Q4_K's mins, Q6_K's `−32`) are one
//!   vector multiply-add against those sums.
//! - Weight blocks are re-laid at load only where it pays: f16 scales widened to f32
//!   (converting on the fly needs F16C, which `pulp`'s AVX2 token does not carry, and this
//!   crate forbids `unsafe`) and Q4_K's packed 6-bit scales unpacked: 4 bytes more per Q4_1
//!   block of 20, 8 per Q4_K block of 144, 2 per Q6_K block of 210. Q6_K's split bits stay
//!   split and are joined in registers: one byte per value (276 bytes a block) was 10 % more
//!   to read per Qwen2.5 token, and with the offsets moved out of the inner loop the packed
//!   form decodes faster on one thread and on two.
//! - The AVX2 + FMA kernels are chosen at run time (`pulp`'s checked `V3` token), with plain
//!   loops for any other CPU; both give the same integer sums and differ only in the order
//!   the f32 results are added.
//! - [`Matrix::matmul`] splits the *weight rows* across the pool; each task runs its rows over
//!   every input row, four at a time, unpacking each weight piece once for the four. That is
//!   what makes batched decoding pay. A row's result is the same bits in any batch.

use candle_core::quantized::ggml_file::qtensor_from_ggml;
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Tensor};
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

/// Quantized activations, the other side of a weight block's dot product.
pub(crate) trait Activation: Copy + Default + Send + Sync + 'static {
    /// Values per block, all under one scale.
    const VALUES: usize;
    /// Quantizes `v` (`VALUES` long) to one block: `d = max|v| / 127`, `q = round(v / d)`.
    fn quantize(v: &[f32]) -> Self;
}

/// `d = max|v| / 127` and its inverse (0 for an all-zero `v`).
fn scale_of(v: &[f32]) -> (f32, f32) {
    let d = v.iter().fold(0f32, |a, x| a.max(x.abs())) / 127.0;
    (d, if d > 0.0 { 1.0 / d } else { 0.0 })
}

/// 32 activations for Q4_1 and Q8_0: `value ≈ d·q`, with `Σq` for Q4_1's offset.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Q8Act {
    d: f32,
    sum: i32,
    qs: [i8; 32],
}

impl Q8Act {
    /// `d·Σq`: the block's values summed.
    #[inline(always)]
    fn s(&self) -> f32 {
        self.d * self.sum as f32
    }
}

impl Activation for Q8Act {
    const VALUES: usize = BLOCK;

    fn quantize(v: &[f32]) -> Self {
        let (d, inv) = scale_of(v);
        let mut block = Q8Act {
            d,
            ..Q8Act::default()
        };
        for (q, &x) in block.qs.iter_mut().zip(v) {
            *q = (x * inv).round() as i8;
            block.sum += i32::from(*q);
        }
        block
    }
}

/// 256 activations for the K-quants (llama.cpp's Q8_K): one scale for a whole super-block, so
/// its eight pieces add their integer sums before any float work, and `Σq` of each 16 values,
/// so a super-block's offsets (Q4_K's mins, Q6_K's `−32`) are one vector multiply-add.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Q8K {
    d: f32,
    sums: [i16; 16],
    qs: [[i8; 32]; 8],
}

impl Activation for Q8K {
    const VALUES: usize = 256;

    fn quantize(v: &[f32]) -> Self {
        let (d, inv) = scale_of(v);
        let mut block = Q8K {
            d,
            ..Q8K::default()
        };
        for (k, &x) in v.iter().enumerate() {
            let q = (x * inv).round() as i8;
            block.qs[k / 32][k % 32] = q;
            block.sums[k / 16] += i16::from(q);
        }
        block
    }
}

/// Quantizes `x` (a multiple of `A::VALUES` long) block by block.
pub(crate) fn quantize_activations<A: Activation>(x: &[f32], out: &mut Vec<A>) {
    out.clear();
    out.extend(x.chunks_exact(A::VALUES).map(A::quantize));
}

/// A weight block type with a native dot product against one activation block of its own
/// size.
pub(crate) trait WeightBlock: Copy + Send + Sync + 'static {
    /// The activation blocks it multiplies: [`Q8Act`], or [`Q8K`] for the K-quants.
    type Act: Activation;
    /// Values per block: [`BLOCK`], or 256 for the K-quants' super-blocks (the same as
    /// `Act::VALUES`).
    const VALUES: usize = <Self::Act as Activation>::VALUES;
    /// Bytes per block in a GGUF file.
    const BYTES: usize;
    /// Reads one block from its GGUF bytes (`BYTES` long, little-endian f16 scales).
    fn read(bytes: &[u8]) -> Self;
    /// `Σ w·x` over a row's blocks `w` and its activation blocks `x` (one per weight block),
    /// with plain loops.
    fn dot(w: &[Self], x: &[Self::Act]) -> f32;
    /// The same for `R` input rows at once with AVX2 + FMA. Each row's result must be the same
    /// bits whatever `R`, so batching never changes a token.
    #[cfg(target_arch = "x86_64")]
    fn dot_rows_v3<const R: usize>(
        simd: pulp::x86::V3,
        w: &[Self],
        x: [&[Self::Act]; R],
    ) -> [f32; R];
    /// Writes the block's `VALUES` values.
    fn dequantize(self, out: &mut [f32]);
}

/// A 32-value block type for [`dot_pieces_v3`].
#[cfg(target_arch = "x86_64")]
trait Piece: WeightBlock<Act = Q8Act> {
    /// The block's values as AVX2 registers, ready for [`Piece::apply_v3`] (unpacked once,
    /// then applied to every input row of a batch).
    fn unpack_v3(simd: pulp::x86::V3, b: &Self) -> [V256i; 2];
    /// `acc` plus the block's scaled integer sums with activation block `a`.
    fn apply_v3(simd: pulp::x86::V3, w: [V256i; 2], b: &Self, a: &Q8Act, acc: V256) -> V256;
    /// The constant part of the block's product with `a`, summed apart; 0 for types without
    /// an offset.
    #[inline(always)]
    fn offset(&self, _a: &Q8Act) -> f32 {
        0.0
    }
}

/// A 256-value super-block type for [`dot_superblocks_v3`].
#[cfg(target_arch = "x86_64")]
trait SuperBlock: WeightBlock<Act = Q8K> {
    /// The block's sub-scales in registers, widened once per super-block.
    type Scales: Copy;
    /// The super-block's float scale.
    fn d(&self) -> f32;
    /// The float scale of its offsets (Q4_K's `dmin`, Q6_K's `d`).
    fn dmin(&self) -> f32;
    fn scales_v3(simd: pulp::x86::V3, b: &Self) -> Self::Scales;
    /// Pieces `2c` and `2c + 1`, each as its values (unsigned bytes) and its sub-scales (i16
    /// lanes, where `maddubs` leaves each pair of values), ready for [`isum_v3`] (unpacked
    /// once, then applied to every input row of a batch).
    fn unpack_pair_v3(
        simd: pulp::x86::V3,
        b: &Self,
        scales: Self::Scales,
        c: usize,
    ) -> [[V256i; 2]; 2];
    /// The super-block's integer offsets with `a` as 8 × i32: the block adds
    /// `−dmin · d_x · Σ lanes`.
    fn offsets_v3(simd: pulp::x86::V3, b: &Self, scales: Self::Scales, a: &Q8K) -> V256i;
}

#[cfg(target_arch = "x86_64")]
type V256i = core::arch::x86_64::__m256i;
#[cfg(target_arch = "x86_64")]
type V256 = core::arch::x86_64::__m256;

/// An unpacked super-block piece's products with activations `qs` as 8 × i32, already times its
/// integer sub-scales: `maddubs` of the unsigned values with `qs`, pairs summed by `madd`
/// against the sub-scales. Q6_K's `−32` and Q4_K's mins are [`SuperBlock::offsets_v3`]'s.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn isum_v3(simd: pulp::x86::V3, [values, scales]: [V256i; 2], qs: &[i8; 32]) -> V256i {
    let pairs = simd
        .avx2
        ._mm256_maddubs_epi16(values, pulp::bytemuck::cast(*qs));
    simd.avx2._mm256_madd_epi16(pairs, scales)
}

/// Super-blocks: per row, the eight pieces' integer sums (each times its sub-scale) are
/// added as i32, then one multiply-add by `d_w·d_x` per super-block, and one more for the
/// offsets.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn dot_superblocks_v3<B: SuperBlock, const R: usize>(
    simd: pulp::x86::V3,
    w: &[B],
    x: [&[Q8K]; R],
) -> [f32; R] {
    let x = x.map(|x| &x[..w.len()]);
    let mut acc = [simd.avx._mm256_setzero_ps(); R];
    let mut offsets = [simd.avx._mm256_setzero_ps(); R];
    for (i, b) in w.iter().enumerate() {
        let scales = B::scales_v3(simd, b);
        // Integer: one float chain per super-block, not eight (a float add waits for the last).
        let mut isum = [simd.avx._mm256_setzero_si256(); R];
        for c in 0..4 {
            let [u0, u1] = B::unpack_pair_v3(simd, b, scales, c);
            for r in 0..R {
                let qs = &x[r][i].qs;
                let both = simd.avx2._mm256_add_epi32(
                    isum_v3(simd, u0, &qs[2 * c]),
                    isum_v3(simd, u1, &qs[2 * c + 1]),
                );
                isum[r] = simd.avx2._mm256_add_epi32(isum[r], both);
            }
        }
        for r in 0..R {
            let a = &x[r][i];
            let scale = simd.avx._mm256_set1_ps(b.d() * a.d);
            acc[r] = simd
                .fma
                ._mm256_fmadd_ps(scale, simd.avx._mm256_cvtepi32_ps(isum[r]), acc[r]);
            let offset = simd.avx._mm256_set1_ps(-b.dmin() * a.d);
            let ioffsets = B::offsets_v3(simd, b, scales, a);
            offsets[r] =
                simd.fma
                    ._mm256_fmadd_ps(offset, simd.avx._mm256_cvtepi32_ps(ioffsets), offsets[r]);
        }
    }
    let mut out = [0f32; R];
    for r in 0..R {
        let sum = simd.avx._mm256_add_ps(acc[r], offsets[r]);
        out[r] = pulp::Simd::reduce_sum_f32s(simd, pulp::bytemuck::cast(sum));
    }
    out
}

/// 32-value blocks: each block is unpacked once and applied to all `R` rows; even and odd
/// blocks go to two accumulators (one chain of dependent multiply-adds would wait out each
/// one's latency). Accumulators live in fixed arrays indexed only by the unrolled `r`:
/// indexing them by a run-time parity made the compiler keep them in memory.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn dot_pieces_v3<B: Piece, const R: usize>(
    simd: pulp::x86::V3,
    w: &[B],
    x: [&[Q8Act]; R],
) -> [f32; R] {
    let x = x.map(|x| &x[..w.len()]);
    let zero = simd.avx._mm256_setzero_ps();
    let (mut even, mut odd) = ([zero; R], [zero; R]);
    let (mut even_off, mut odd_off) = ([0f32; R], [0f32; R]);
    let pairs = w.chunks_exact(2);
    let tail = pairs.remainder();
    for (g, pair) in pairs.enumerate() {
        let (b0, b1) = (&pair[0], &pair[1]);
        let (u0, u1) = (B::unpack_v3(simd, b0), B::unpack_v3(simd, b1));
        for r in 0..R {
            let (a0, a1) = (&x[r][2 * g], &x[r][2 * g + 1]);
            even[r] = B::apply_v3(simd, u0, b0, a0, even[r]);
            odd[r] = B::apply_v3(simd, u1, b1, a1, odd[r]);
            even_off[r] += b0.offset(a0);
            odd_off[r] += b1.offset(a1);
        }
    }
    if let Some(b) = tail.first() {
        let u = B::unpack_v3(simd, b);
        let last = w.len() - 1;
        for r in 0..R {
            even[r] = B::apply_v3(simd, u, b, &x[r][last], even[r]);
            even_off[r] += b.offset(&x[r][last]);
        }
    }
    let mut out = [0f32; R];
    for r in 0..R {
        let sum = simd.avx._mm256_add_ps(even[r], odd[r]);
        out[r] = pulp::Simd::reduce_sum_f32s(simd, pulp::bytemuck::cast(sum))
            + (even_off[r] + odd_off[r]);
    }
    out
}

/// `maddubs` (unsigned × signed bytes → i16 pairs), `madd` with ones (→ 8 × i32), as f32.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn int_dot_v3(simd: pulp::x86::V3, unsigned: V256i, signed: V256i) -> V256 {
    let pairs = simd.avx2._mm256_maddubs_epi16(unsigned, signed);
    let quads = simd
        .avx2
        ._mm256_madd_epi16(pairs, simd.avx._mm256_set1_epi16(1));
    simd.avx._mm256_cvtepi32_ps(quads)
}

/// Signed × signed bytes through `maddubs`: `|w|` times `x` carrying `w`'s sign.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn signed_unpack_v3(simd: pulp::x86::V3, w: V256i) -> [V256i; 2] {
    [w, simd.avx2._mm256_sign_epi8(w, w)]
}

fn half(bytes: &[u8]) -> f32 {
    f16::from_bits(u16::from_le_bytes([bytes[0], bytes[1]])).to_f32()
}

/// `N` bytes as signed 8-bit values.
fn signed<const N: usize>(bytes: &[u8]) -> [i8; N] {
    let mut out = [0i8; N];
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = b as i8;
    }
    out
}

impl WeightBlock for Q4_1 {
    type Act = Q8Act;
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
            sum += b.d * a.d * acc as f32 + b.m * a.s();
        }
        sum
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn dot_rows_v3<const R: usize>(simd: pulp::x86::V3, w: &[Self], x: [&[Q8Act]; R]) -> [f32; R] {
        dot_pieces_v3(simd, w, x)
    }

    fn dequantize(self, out: &mut [f32]) {
        for j in 0..16 {
            out[j] = self.d * f32::from(self.qs[j] & 0x0F) + self.m;
            out[j + 16] = self.d * f32::from(self.qs[j] >> 4) + self.m;
        }
    }
}
#[cfg(target_arch = "x86_64")]
impl Piece for Q4_1 {
    /// llama.cpp's AVX2 shape: the 32 nibbles widened to bytes (low nibbles in the low lane).
    #[inline(always)]
    fn unpack_v3(simd: pulp::x86::V3, b: &Self) -> [V256i; 2] {
        let packed: core::arch::x86_64::__m128i = pulp::bytemuck::cast(b.qs);
        let high = simd.sse2._mm_srli_epi16::<4>(packed);
        let both = simd.avx._mm256_set_m128i(high, packed);
        let q4 = simd
            .avx2
            ._mm256_and_si256(both, simd.avx._mm256_set1_epi8(0x0F));
        [q4, q4]
    }

    /// One multiply-add by `d_w·d_x`; the offset `m_w·s_x` is summed apart.
    #[inline(always)]
    fn apply_v3(simd: pulp::x86::V3, w: [V256i; 2], b: &Self, a: &Q8Act, acc: V256) -> V256 {
        let sums = int_dot_v3(simd, w[0], pulp::bytemuck::cast(a.qs));
        let scale = simd.avx._mm256_set1_ps(b.d * a.d);
        simd.fma._mm256_fmadd_ps(scale, sums, acc)
    }

    #[inline(always)]
    fn offset(&self, a: &Q8Act) -> f32 {
        self.m * a.s()
    }
}

impl WeightBlock for Q8_0 {
    type Act = Q8Act;
    const BYTES: usize = 34;

    fn read(bytes: &[u8]) -> Self {
        Self {
            d: half(&bytes[0..2]),
            qs: signed(&bytes[2..34]),
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
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn dot_rows_v3<const R: usize>(simd: pulp::x86::V3, w: &[Self], x: [&[Q8Act]; R]) -> [f32; R] {
        dot_pieces_v3(simd, w, x)
    }

    fn dequantize(self, out: &mut [f32]) {
        for (o, &q) in out.iter_mut().zip(&self.qs) {
            *o = self.d * f32::from(q);
        }
    }
}
#[cfg(target_arch = "x86_64")]
impl Piece for Q8_0 {
    #[inline(always)]
    fn unpack_v3(simd: pulp::x86::V3, b: &Self) -> [V256i; 2] {
        signed_unpack_v3(simd, pulp::bytemuck::cast(b.qs))
    }

    #[inline(always)]
    fn apply_v3(simd: pulp::x86::V3, w: [V256i; 2], b: &Self, a: &Q8Act, acc: V256) -> V256 {
        let signed = simd.avx2._mm256_sign_epi8(pulp::bytemuck::cast(a.qs), w[0]);
        let sums = int_dot_v3(simd, w[1], signed);
        let scale = simd.avx._mm256_set1_ps(b.d * a.d);
        simd.fma._mm256_fmadd_ps(scale, sums, acc)
    }
}

/// A Q4_K super-block, re-laid at load: `value = d·scale[j]·q − dmin·min[j]` for 4-bit `q` in
/// sub-block `j` of 32. `qs[c]` holds sub-block `2c` in its low nibbles and `2c + 1` in its
/// high ones, both in natural order, so one 32-byte load gives two sub-blocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Q4K {
    d: f32,
    dmin: f32,
    scales: [u8; 8],
    mins: [u8; 8],
    qs: [[u8; 32]; 4],
}

impl WeightBlock for Q4K {
    type Act = Q8K;
    const BYTES: usize = 144;

    /// GGUF packs the eight 6-bit scales and mins into 12 bytes (llama.cpp's
    /// `get_scale_min_k4`); they are unpacked once here.
    fn read(bytes: &[u8]) -> Self {
        let p = &bytes[4..16];
        let (mut scales, mut mins) = ([0u8; 8], [0u8; 8]);
        for j in 0..8 {
            (scales[j], mins[j]) = if j < 4 {
                (p[j] & 63, p[j + 4] & 63)
            } else {
                (
                    (p[j + 4] & 0x0F) | ((p[j - 4] >> 6) << 4),
                    (p[j + 4] >> 4) | ((p[j] >> 6) << 4),
                )
            };
        }
        let mut qs = [[0u8; 32]; 4];
        for (c, q) in qs.iter_mut().enumerate() {
            q.copy_from_slice(&bytes[16 + 32 * c..48 + 32 * c]);
        }
        Self {
            d: half(&bytes[0..2]),
            dmin: half(&bytes[2..4]),
            scales,
            mins,
            qs,
        }
    }

    #[inline(always)]
    fn dot(w: &[Self], x: &[Q8K]) -> f32 {
        let mut sum = 0f32;
        for (b, a) in w.iter().zip(x) {
            let (mut isum, mut imin) = (0i32, 0i32);
            for j in 0..8 {
                let shift = 4 * (j % 2);
                let piece: i32 = (0..32)
                    .map(|l| i32::from((b.qs[j / 2][l] >> shift) & 0x0F) * i32::from(a.qs[j][l]))
                    .sum();
                isum += i32::from(b.scales[j]) * piece;
                imin += i32::from(b.mins[j])
                    * (i32::from(a.sums[2 * j]) + i32::from(a.sums[2 * j + 1]));
            }
            sum += b.d * a.d * isum as f32 - b.dmin * a.d * imin as f32;
        }
        sum
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn dot_rows_v3<const R: usize>(simd: pulp::x86::V3, w: &[Self], x: [&[Q8K]; R]) -> [f32; R] {
        dot_superblocks_v3(simd, w, x)
    }

    fn dequantize(self, out: &mut [f32]) {
        for (j, out) in out.chunks_exact_mut(32).enumerate() {
            let (scale, min) = (
                self.d * f32::from(self.scales[j]),
                self.dmin * f32::from(self.mins[j]),
            );
            let shift = 4 * (j % 2);
            for (o, &q) in out.iter_mut().zip(&self.qs[j / 2]) {
                *o = scale * f32::from((q >> shift) & 0x0F) - min;
            }
        }
    }
}
#[cfg(target_arch = "x86_64")]
impl SuperBlock for Q4K {
    /// The eight sub-scales as i16, in both 128-bit halves.
    type Scales = V256i;

    #[inline(always)]
    fn d(&self) -> f32 {
        self.d
    }

    #[inline(always)]
    fn dmin(&self) -> f32 {
        self.dmin
    }

    #[inline(always)]
    fn scales_v3(simd: pulp::x86::V3, b: &Self) -> V256i {
        simd.avx2._mm256_broadcastsi128_si256(
            simd.sse4_1
                ._mm_cvtepu8_epi16(simd.sse2._mm_set_epi64x(0, i64::from_le_bytes(b.scales))),
        )
    }

    /// Sub-blocks `2c` and `2c + 1`: the low and high nibbles of one 32-byte load, each with
    /// its sub-scale in all 16 i16 lanes, picked by one byte shuffle (a broadcast per piece
    /// from its byte took three instructions).
    #[inline(always)]
    fn unpack_pair_v3(simd: pulp::x86::V3, b: &Self, scales: V256i, c: usize) -> [[V256i; 2]; 2] {
        let packed: V256i = pulp::bytemuck::cast(b.qs[c]);
        let nibble = simd.avx._mm256_set1_epi8(0x0F);
        let low = simd.avx2._mm256_and_si256(packed, nibble);
        let high = simd
            .avx2
            ._mm256_and_si256(simd.avx2._mm256_srli_epi16::<4>(packed), nibble);
        let pick = |j: usize| {
            let lane = i16_lane(j);
            simd.avx2
                ._mm256_shuffle_epi8(scales, simd.avx._mm256_set1_epi16(lane))
        };
        [[low, pick(2 * c)], [high, pick(2 * c + 1)]]
    }

    /// `min[j]·Σq` of sub-block `j`: each min twice (once per 16 values), `madd` against the
    /// activations' 16-value sums.
    #[inline(always)]
    fn offsets_v3(simd: pulp::x86::V3, b: &Self, _: V256i, a: &Q8K) -> V256i {
        let mins = simd.sse2._mm_set_epi64x(0, i64::from_le_bytes(b.mins));
        let twice = simd
            .avx2
            ._mm256_cvtepu8_epi16(simd.sse2._mm_unpacklo_epi8(mins, mins));
        simd.avx2
            ._mm256_madd_epi16(twice, pulp::bytemuck::cast(a.sums))
    }
}

/// The `pshufb` control that copies i16 lane `j` (of 8) to every i16 lane of a 128-bit half.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn i16_lane(j: usize) -> i16 {
    (((2 * j + 1) << 8) | (2 * j)) as i16
}

/// A Q6_K super-block as GGUF lays it out, f16 scale widened: `value = d·scale[k/16]·(q − 32)`
/// for the unsigned 6-bit `q` of value `k`. Each half of 128 values keeps `q`'s low 4 bits in
/// `ql` (64 bytes: values l and l+32 in the low nibbles, l+64 and l+96 in the high, l < 32)
/// and its high 2 bits in `qh` (32 bytes, four values per byte), as llama.cpp's
/// `dequantize_row_q6_K` reads them. 212 bytes a block where one byte per value took 276.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Q6K {
    d: f32,
    scales: [i8; 16],
    ql: [u8; 128],
    qh: [u8; 64],
}

impl Q6K {
    /// Value `k`'s unsigned 6-bit `q` (0–63).
    #[inline(always)]
    fn q(&self, k: usize) -> u8 {
        let (half, piece, l) = (k / 128, k % 128 / 32, k % 32);
        let low = self.ql[64 * half + 32 * (piece % 2) + l] >> (4 * (piece / 2));
        let high = self.qh[32 * half + l] >> (2 * piece);
        (low & 0x0F) | ((high & 3) << 4)
    }
}

impl WeightBlock for Q6K {
    type Act = Q8K;
    const BYTES: usize = 210;

    fn read(bytes: &[u8]) -> Self {
        let mut block = Self {
            d: half(&bytes[208..210]),
            scales: signed(&bytes[192..208]),
            ql: [0; 128],
            qh: [0; 64],
        };
        block.ql.copy_from_slice(&bytes[0..128]);
        block.qh.copy_from_slice(&bytes[128..192]);
        block
    }

    #[inline(always)]
    fn dot(w: &[Self], x: &[Q8K]) -> f32 {
        let mut sum = 0f32;
        for (b, a) in w.iter().zip(x) {
            let mut isum = 0i32;
            for (k16, scale) in b.scales.iter().enumerate() {
                let part: i32 = (16 * k16..16 * k16 + 16)
                    .map(|k| (i32::from(b.q(k)) - 32) * i32::from(a.qs[k / 32][k % 32]))
                    .sum();
                isum += i32::from(*scale) * part;
            }
            sum += b.d * a.d * isum as f32;
        }
        sum
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn dot_rows_v3<const R: usize>(simd: pulp::x86::V3, w: &[Self], x: [&[Q8K]; R]) -> [f32; R] {
        dot_superblocks_v3(simd, w, x)
    }

    fn dequantize(self, out: &mut [f32]) {
        for (k, o) in out.iter_mut().enumerate() {
            *o = self.d * f32::from(self.scales[k / 16]) * (f32::from(self.q(k)) - 32.0);
        }
    }
}
#[cfg(target_arch = "x86_64")]
impl SuperBlock for Q6K {
    /// Scales 0–7 as i16 in both 128-bit halves, scales 8–15 likewise, and all 16 in order.
    type Scales = [V256i; 3];

    #[inline(always)]
    fn d(&self) -> f32 {
        self.d
    }

    #[inline(always)]
    fn dmin(&self) -> f32 {
        self.d
    }

    #[inline(always)]
    fn scales_v3(simd: pulp::x86::V3, b: &Self) -> [V256i; 3] {
        let all = simd
            .avx2
            ._mm256_cvtepi8_epi16(pulp::bytemuck::cast(b.scales));
        [
            simd.avx2._mm256_permute2x128_si256::<0x00>(all, all),
            simd.avx2._mm256_permute2x128_si256::<0x11>(all, all),
            all,
        ]
    }

    /// Pieces `2c` and `2c + 1` as unsigned bytes: the low (even `c`) or high (odd `c`)
    /// nibbles of their half's two `ql` rows, joined with their two bits of `qh`. Piece `j`'s
    /// scales `2j` (low half) and `2j + 1` (high half) come from one byte shuffle.
    #[inline(always)]
    fn unpack_pair_v3(
        simd: pulp::x86::V3,
        b: &Self,
        [low_scales, high_scales, _]: [V256i; 3],
        c: usize,
    ) -> [[V256i; 2]; 2] {
        let half = c / 2;
        let load = |bytes: &[u8]| -> V256i {
            let bytes: [u8; 32] = bytes.try_into().unwrap();
            pulp::bytemuck::cast(bytes)
        };
        let ql0 = load(&b.ql[64 * half..64 * half + 32]);
        let ql1 = load(&b.ql[64 * half + 32..64 * half + 64]);
        let qh = load(&b.qh[32 * half..32 * half + 32]);
        let (nibble, top) = (
            simd.avx._mm256_set1_epi8(0x0F),
            simd.avx._mm256_set1_epi8(0x30),
        );
        let and = |v: V256i, m: V256i| simd.avx2._mm256_and_si256(v, m);
        // Shifts are per 16-bit lane; the masks keep only bits that came from their own byte.
        let (low0, low1, high0, high1) = if c.is_multiple_of(2) {
            (
                and(ql0, nibble),
                and(ql1, nibble),
                and(simd.avx2._mm256_slli_epi16::<4>(qh), top),
                and(simd.avx2._mm256_slli_epi16::<2>(qh), top),
            )
        } else {
            (
                and(simd.avx2._mm256_srli_epi16::<4>(ql0), nibble),
                and(simd.avx2._mm256_srli_epi16::<4>(ql1), nibble),
                and(qh, top),
                and(simd.avx2._mm256_srli_epi16::<2>(qh), top),
            )
        };
        let scale = |j: usize| {
            let source = if j < 4 { low_scales } else { high_scales };
            let control = simd.avx._mm256_set_m128i(
                simd.sse2._mm_set1_epi16(i16_lane((2 * j + 1) % 8)),
                simd.sse2._mm_set1_epi16(i16_lane((2 * j) % 8)),
            );
            simd.avx2._mm256_shuffle_epi8(source, control)
        };
        [
            [simd.avx2._mm256_or_si256(low0, high0), scale(2 * c)],
            [simd.avx2._mm256_or_si256(low1, high1), scale(2 * c + 1)],
        ]
    }

    /// `32·scale[i]·Σq` over each 16 values: one `madd` of the scales with the sums.
    #[inline(always)]
    fn offsets_v3(simd: pulp::x86::V3, _: &Self, [.., all]: [V256i; 3], a: &Q8K) -> V256i {
        let products = simd
            .avx2
            ._mm256_madd_epi16(all, pulp::bytemuck::cast(a.sums));
        simd.avx2._mm256_slli_epi32::<5>(products)
    }
}

/// How a matrix's rows are stored.
enum Storage {
    Q4_1(Vec<Q4_1>),
    Q8_0(Vec<Q8_0>),
    Q4K(Vec<Q4K>),
    Q6K(Vec<Q6K>),
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
        let fits = |values: usize| cols % values == 0;
        let storage = match tensor.dtype() {
            GgmlDType::Q4_1 if fits(Q4_1::VALUES) => Storage::Q4_1(read_blocks(&tensor.data()?)),
            GgmlDType::Q8_0 if fits(Q8_0::VALUES) => Storage::Q8_0(read_blocks(&tensor.data()?)),
            GgmlDType::Q4K if fits(Q4K::VALUES) => Storage::Q4K(read_blocks(&tensor.data()?)),
            GgmlDType::Q6K if fits(Q6K::VALUES) => Storage::Q6K(read_blocks(&tensor.data()?)),
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

    /// Writes row `r` as f32 into `out` (`cols` long): a token's embedding. Native blocks are
    /// widened here; candle's are handed to candle one row at a time, so no type needs the
    /// whole table as f32 (Qwen2.5-1.5B's would be 0.9 GB).
    pub(crate) fn row(&self, r: usize, out: &mut [f32]) -> candle_core::Result<()> {
        match &self.storage {
            Storage::Q4_1(b) => dequantize_row(b, self.cols, r, out),
            Storage::Q8_0(b) => dequantize_row(b, self.cols, r, out),
            Storage::Q4K(b) => dequantize_row(b, self.cols, r, out),
            Storage::Q6K(b) => dequantize_row(b, self.cols, r, out),
            Storage::Candle(QMatMul::QTensor(t)) => {
                let dtype = t.dtype();
                let bytes = self.cols / dtype.block_size() * dtype.type_size();
                let data = t.data()?;
                let row = qtensor_from_ggml(
                    dtype,
                    &data[r * bytes..(r + 1) * bytes],
                    vec![self.cols],
                    &Device::Cpu,
                )?;
                out.copy_from_slice(&row.dequantize(&Device::Cpu)?.to_vec1::<f32>()?);
            }
            Storage::Candle(QMatMul::Tensor(w) | QMatMul::TensorF16(w)) => {
                out.copy_from_slice(&w.get(r)?.to_dtype(DType::F32)?.to_vec1::<f32>()?);
            }
        }
        Ok(())
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
            Storage::Q4K(b) => self.native(b, x, m, out),
            Storage::Q6K(b) => self.native(b, x, m, out),
            Storage::Candle(mm) => {
                let t = Tensor::from_slice(x, (m, self.cols), &Device::Cpu)?;
                let y = mm.forward(&t)?.flatten_all()?.to_vec1::<f32>()?;
                out.copy_from_slice(&y);
            }
        }
        Ok(())
    }

    fn native<B: WeightBlock>(&self, blocks: &[B], x: &[f32], m: usize, out: &mut [f32]) {
        let per_row = self.cols / B::VALUES;
        let mut xq: Vec<B::Act> = Vec::with_capacity(m * per_row);
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
struct Dots<'a, A> {
    /// Weight blocks per row, and activation blocks per input row.
    per_row: usize,
    m: usize,
    x: &'a [A],
    #[cfg(target_arch = "x86_64")]
    v3: Option<pulp::x86::V3>,
}

// Derived `Clone` would ask `A: Clone` of the borrowed activations' type too.
impl<A> Clone for Dots<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A> Copy for Dots<'_, A> {}

impl<A: Activation> Dots<'_, A> {
    /// `out[j·m + i] = w_j · x_i` for the weight rows in `w`.
    fn run<B: WeightBlock<Act = A>>(self, w: &[B], out: &mut [f32]) {
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
        // Inputs outer, weight rows inner, for the reason given in `InV3::with_simd`.
        for (i, x) in self.x.chunks_exact(self.per_row).enumerate() {
            for (row, out) in w
                .chunks_exact(self.per_row)
                .zip(out.chunks_exact_mut(self.m))
            {
                out[i] = B::dot(row, x);
            }
        }
    }
}

/// [`Dots::run`] compiled with AVX2 + FMA: loops, not closures, so the kernel inlines into
/// the target-feature context `pulp` sets up (a closure would be compiled outside it).
#[cfg(target_arch = "x86_64")]
struct InV3<'a, B: WeightBlock> {
    v3: pulp::x86::V3,
    dots: Dots<'a, B::Act>,
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
        let xn = self.dots.per_row;
        // Input rows four at a time (then one at a time) in the outer loop, this task's weight
        // rows in the inner one: a group of inputs is read once per task, while the task's
        // weight rows (a few hundred KB at most) stay in L2. The other order re-read every
        // input row for every weight row, which for Qwen2.5-1.5B's 8,960-wide rows is
        // gigabytes per step from L2.
        let groups = self.dots.x.chunks_exact(4 * xn);
        let rest = groups.remainder();
        let grouped = 4 * (self.dots.x.len() / (4 * xn));
        for (g, x) in groups.enumerate() {
            let (x01, x23) = x.split_at(2 * xn);
            let (x0, x1) = x01.split_at(xn);
            let (x2, x3) = x23.split_at(xn);
            for (row, out) in self
                .w
                .chunks_exact(per_row)
                .zip(self.out.chunks_exact_mut(m))
            {
                out[4 * g..4 * g + 4].copy_from_slice(&B::dot_rows_v3(v3, row, [x0, x1, x2, x3]));
            }
        }
        for (i, x) in rest.chunks_exact(xn).enumerate() {
            for (row, out) in self
                .w
                .chunks_exact(per_row)
                .zip(self.out.chunks_exact_mut(m))
            {
                [out[grouped + i]] = B::dot_rows_v3(v3, row, [x]);
            }
        }
    }
}

fn read_blocks<B: WeightBlock>(bytes: &[u8]) -> Vec<B> {
    bytes.chunks_exact(B::BYTES).map(B::read).collect()
}

/// Row `r` of a matrix `cols` wide.
fn dequantize_row<B: WeightBlock>(blocks: &[B], cols: usize, r: usize, out: &mut [f32]) {
    let per_row = cols / B::VALUES;
    let row = &blocks[r * per_row..(r + 1) * per_row];
    for (b, out) in row.iter().zip(out.chunks_exact_mut(B::VALUES)) {
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
        let (rows, cols) = (70, 512);
        let w = values(rows * cols, 1);
        for dtype in [
            GgmlDType::Q4_1,
            GgmlDType::Q8_0,
            GgmlDType::Q4K,
            GgmlDType::Q6K,
        ] {
            let native = matrix(&w, rows, cols, dtype);
            assert!(!matches!(native.storage, Storage::Candle(_)), "{dtype:?}");
            let t = Tensor::from_slice(&w, (rows, cols), &Device::Cpu).unwrap();
            let reference = QMatMul::from_qtensor(QTensor::quantize(&t, dtype).unwrap()).unwrap();
            for m in [1, 3, 6] {
                let x = values(m * cols, 2 + m as u32);
                let mut out = vec![0f32; m * rows];
                native.matmul(&x, &mut out).unwrap();
                // Each row exactly as it comes out alone: batching must not change a result.
                for (xi, oi) in x.chunks_exact(cols).zip(out.chunks_exact(rows)) {
                    let mut alone = vec![0f32; rows];
                    native.matmul(xi, &mut alone).unwrap();
                    assert_eq!(alone, oi, "{dtype:?} m {m}");
                }
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
                // Rounding an activation to 8 bits moves it by at most half a step, amax/254
                // of its block (256 values here: candle's K-quants quantize activations per
                // 256, shelf per 32, whose amax is never larger).
                let step: Vec<f32> = x
                    .chunks_exact(256)
                    .flat_map(|b| {
                        let amax = b.iter().fold(0f32, |a, v| a.max(v.abs()));
                        std::iter::repeat_n(amax / 254.0, 256)
                    })
                    .collect();
                for (i, ((o, c), e)) in out.iter().zip(&want).zip(&exact).enumerate() {
                    let (xi, j) = (i / rows, i % rows);
                    let bound: f32 = stored[j * cols..(j + 1) * cols]
                        .iter()
                        .zip(&step[xi * cols..(xi + 1) * cols])
                        .map(|(w, s)| w.abs() * s)
                        .sum::<f32>()
                        + 1e-3;
                    assert!(
                        (o - e).abs() < bound,
                        "{dtype:?} m {m}: {o} vs exact {e} (±{bound})"
                    );
                    assert!(
                        (o - c).abs() < 2.0 * bound,
                        "{dtype:?} m {m}: {o} vs candle {c}"
                    );
                }
            }
        }
    }

    #[test]
    fn portable_and_avx2_kernels_agree() {
        let (rows, cols) = (4, 512);
        let w = values(rows * cols, 5);
        let x = values(cols, 6);
        /// Row 0 with the plain loops, against `matmul` (AVX2 where the CPU has it).
        fn check<B: WeightBlock>(blocks: &[B], m: &Matrix, x: &[f32]) {
            let mut xq: Vec<B::Act> = Vec::new();
            quantize_activations(x, &mut xq);
            let portable = B::dot(&blocks[..m.cols / B::VALUES], &xq);
            let mut out = vec![0f32; m.rows];
            m.matmul(x, &mut out).unwrap();
            assert!((portable - out[0]).abs() < 1e-3, "{portable} vs {}", out[0]);
        }
        for dtype in [
            GgmlDType::Q4_1,
            GgmlDType::Q8_0,
            GgmlDType::Q4K,
            GgmlDType::Q6K,
        ] {
            let m = matrix(&w, rows, cols, dtype);
            match &m.storage {
                Storage::Q4_1(b) => check(b, &m, &x),
                Storage::Q8_0(b) => check(b, &m, &x),
                Storage::Q4K(b) => check(b, &m, &x),
                Storage::Q6K(b) => check(b, &m, &x),
                Storage::Candle(_) => panic!("{dtype:?} is not native"),
            }
        }
    }

    #[test]
    fn rows_dequantize_to_what_candle_dequantizes() {
        let (rows, cols) = (3, 256);
        let w = values(rows * cols, 9);
        for dtype in [
            GgmlDType::Q4_1,
            GgmlDType::Q8_0,
            GgmlDType::Q4K,
            GgmlDType::F32,
        ] {
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
            m.row(2, &mut row).unwrap();
            for (a, b) in row.iter().zip(&want[2 * cols..]) {
                assert!((a - b).abs() < 1e-6, "{dtype:?}");
            }
        }
    }
}
