// Attention family: the kit's OWN causal attention kernels in the style of FlashAttention-2 (variant
// "own-fa2-style"), not FlashAttention-2 or -3 themselves, which are not available to the kit. Their rates are
// what this code reaches, a lower bound on what a tuned library reaches on the same GPU.
//
// Forward (one block per 64 query rows of one head, 4 warps of 16 rows): K and V tiles of 64 keys pass through
// shared memory; S = Q K^T and O += P V run on the tensor cores through WMMA bf16 fragments with fp32 accumulation;
// the softmax is online (running row max and sum, the output rescaled per tile), and the kernel stores O (bf16) and
// the log-sum-exp of each row (fp32) for the backward pass. Causal masking skips tiles above the diagonal.
//
// Backward (one block per 64 keys of one head, looping over the query tiles at or below the diagonal): P is
// recomputed from the saved log-sum-exp; each warp accumulates dV = P^T dO and dK = dS^T Q for its 16 keys in
// registers; dQ = dS K is added to an fp32 buffer with atomics, as FlashAttention-2 does; Delta = rowsum(dO * O) is
// computed by a small kernel first and dQ is converted to bf16 last. The timed unit is all four launches.
//
// Layout [batch, heads, seq, 128] bf16, head dimension 128, seq a multiple of 64, softmax scale 1/sqrt(128).
// FLOP convention (FlashAttention's): forward 4 b h s^2 d / 2 (two GEMMs over s x s, half masked); backward 2.5 x
// forward (five GEMMs). Bytes: Q, K, V read and O, LSE written (forward); Q, K, V, O, dO, LSE read and dQ, dK, dV
// written (backward).
#include <mma.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "calibrate/kernels/kit.cuh"

namespace tcsim::kernels {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kD = 128;    // head dimension
constexpr int kTile = 64;  // query rows and key rows per tile
constexpr int kWarps = 4;  // 16 rows each
constexpr int kThreads = kWarps * 32;
constexpr int kLdH = kD + 8;     // bf16 row stride of Q/K/V/dO tiles in shared memory (pads bank conflicts)
constexpr int kLdS = kTile + 4;  // fp32 row stride of score tiles
constexpr int kLdP = kTile + 8;  // bf16 row stride of probability tiles
constexpr int kLdO = kD + 4;     // fp32 row stride of output tiles
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major>;
using FragAT = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::col_major>;
using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major>;
using FragBT = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

// Shared-memory regions in bytes; each a multiple of 128 so every WMMA pointer is 32-byte aligned.
constexpr size_t kTileBytes = size_t(kTile) * kLdH * sizeof(bf16);  // one 64 x 128 bf16 tile
constexpr size_t kWarpS = 16 * kLdS * sizeof(float);                // one warp's 16 x 64 fp32 scores
constexpr size_t kWarpP = 16 * kLdP * sizeof(bf16);                 // one warp's 16 x 64 bf16 probabilities
constexpr size_t kWarpO = 16 * kLdO * sizeof(float);                // one warp's 16 x 128 fp32 output rows
constexpr size_t kBwdScratch = std::max(2 * kWarpS, kWarpO);        // scores and dP, later dQ rows
constexpr size_t kFwdSmem = 3 * kTileBytes + kWarps * (kWarpS + kWarpP + kWarpO);
constexpr size_t kBwdSmem =
    4 * kTileBytes + kWarps * (kBwdScratch + kWarpP) + size_t(kTile) * kLdP * sizeof(bf16) + 2 * kTile * sizeof(float);
static_assert(kTileBytes % 128 == 0 && kWarpS % 128 == 0 && kWarpP % 128 == 0 && kWarpO % 128 == 0 &&
              kBwdScratch % 128 == 0);

struct FwdArgs {
  const bf16* q;
  const bf16* k;
  const bf16* v;
  bf16* o;
  float* lse;  // natural log-sum-exp of the scaled scores, [batch * heads, seq]
  int seq;
  float scale_log2;  // softmax scale x log2(e)
};

struct BwdArgs {
  const bf16* q;
  const bf16* k;
  const bf16* v;
  const bf16* dout;
  const float* lse;
  const float* delta;  // rowsum(dO * O), [batch * heads, seq]
  float* dq_acc;       // fp32, zeroed before the launch
  bf16* dk;
  bf16* dv;
  int seq;
  float scale;
  float scale_log2;
};

// Copies a 64 x 128 bf16 tile (global row stride kD) to shared memory (row stride kLdH), 16 bytes per access.
__device__ inline void load_tile(bf16* dst, const bf16* src) {
  constexpr int kVecsPerRow = kD / 8;
#pragma unroll
  for (int i = 0; i < kTile * kVecsPerRow / kThreads; ++i) {
    const int v = int(threadIdx.x) + i * kThreads;
    const int r = v / kVecsPerRow;
    const int c = (v % kVecsPerRow) * 8;
    *reinterpret_cast<uint4*>(dst + r * kLdH + c) = *reinterpret_cast<const uint4*>(src + size_t(r) * kD + c);
  }
}

// Writes 64 fp32 values (times `mul`) from shared memory as bf16 to global memory, 16 bytes per store.
__device__ inline void store_row_half(bf16* dst, const float* src, float mul) {
#pragma unroll
  for (int c = 0; c < 64; c += 8) {
    float f[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) f[j] = src[c + j] * mul;
    *reinterpret_cast<uint4*>(dst + c) = pack_bf16x8(f);
  }
}

__global__ __launch_bounds__(kThreads) void attention_fwd_kernel(FwdArgs a) {
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* s_q = reinterpret_cast<bf16*>(smem);
  bf16* s_k = reinterpret_cast<bf16*>(smem + kTileBytes);
  bf16* s_v = reinterpret_cast<bf16*>(smem + 2 * kTileBytes);
  const int warp = int(threadIdx.x) / 32;
  const int lane = int(threadIdx.x) % 32;
  unsigned char* warp_base = smem + 3 * kTileBytes;
  float* s_s = reinterpret_cast<float*>(warp_base + warp * kWarpS);
  bf16* s_p = reinterpret_cast<bf16*>(warp_base + kWarps * kWarpS + warp * kWarpP);
  float* s_o = reinterpret_cast<float*>(warp_base + kWarps * (kWarpS + kWarpP) + warp * kWarpO);

  const int q_tiles = a.seq / kTile;
  const int qt = q_tiles - 1 - int(blockIdx.x);  // longest rows first
  const size_t head = blockIdx.y;
  const size_t base = head * size_t(a.seq) * kD;
  const int q0 = qt * kTile;
  load_tile(s_q, a.q + base + size_t(q0) * kD);
  for (int i = lane; i < 16 * kLdO; i += 32) s_o[i] = 0.0f;

  // Softmax bookkeeping: lane pair (2r, 2r+1) owns row r of the warp's 16, each lane 32 of the tile's 64 columns.
  const int r = lane / 2;
  const int half = lane % 2;
  const int q_idx = q0 + warp * 16 + r;
  float row_max = -INFINITY;  // in log2 units of the scaled scores
  float row_sum = 0.0f;

  for (int kt = 0; kt <= qt; ++kt) {
    __syncthreads();  // every warp is done with the previous K and V tiles
    load_tile(s_k, a.k + base + size_t(kt) * kTile * kD);
    load_tile(s_v, a.v + base + size_t(kt) * kTile * kD);
    __syncthreads();

    // S (16 x 64) = Q_warp (16 x 128) K^T (128 x 64)
#pragma unroll
    for (int nt = 0; nt < kTile / 16; ++nt) {
      FragC acc;
      wmma::fill_fragment(acc, 0.0f);
#pragma unroll
      for (int kk = 0; kk < kD / 16; ++kk) {
        FragA fa;
        FragBT fb;
        wmma::load_matrix_sync(fa, s_q + warp * 16 * kLdH + kk * 16, kLdH);
        wmma::load_matrix_sync(fb, s_k + nt * 16 * kLdH + kk * 16, kLdH);  // K^T: K row-major read as col-major
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(s_s + nt * 16, acc, kLdS, wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax on row r, columns half*32 .. half*32+31 of this tile.
    float s[32];
    float tile_max = -INFINITY;
    const float* s_row = s_s + r * kLdS + half * 32;
#pragma unroll
    for (int c = 0; c < 32; ++c) {
      const int key = kt * kTile + half * 32 + c;
      s[c] = key <= q_idx ? s_row[c] * a.scale_log2 : -INFINITY;
      tile_max = fmaxf(tile_max, s[c]);
    }
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xFFFFFFFFu, tile_max, 1));
    // Finite: tile 0 holds key 0 <= q_idx, so row_max is finite from the first tile on.
    const float new_max = fmaxf(row_max, tile_max);
    const float rescale = exp2f(row_max - new_max);  // 0 on the first tile (row_max = -inf)
    float tile_sum = 0.0f;
    bf16* p_row = s_p + r * kLdP + half * 32;
#pragma unroll
    for (int c = 0; c < 32; ++c) {
      const float p = exp2f(s[c] - new_max);
      p_row[c] = __float2bfloat16_rn(p);  // P enters P V in bf16; the row sum and LSE stay in fp32
      tile_sum += p;
    }
    tile_sum += __shfl_xor_sync(0xFFFFFFFFu, tile_sum, 1);
    row_sum = row_sum * rescale + tile_sum;
    row_max = new_max;
    float* o_row = s_o + r * kLdO + half * 64;
#pragma unroll
    for (int c = 0; c < 64; ++c) o_row[c] *= rescale;
    __syncwarp();

    // O_warp (16 x 128) += P (16 x 64) V (64 x 128)
#pragma unroll
    for (int nt = 0; nt < kD / 16; ++nt) {
      FragC acc;
      wmma::load_matrix_sync(acc, s_o + nt * 16, kLdO, wmma::mem_row_major);
#pragma unroll
      for (int kk = 0; kk < kTile / 16; ++kk) {
        FragA fa;
        FragB fb;
        wmma::load_matrix_sync(fa, s_p + kk * 16, kLdP);
        wmma::load_matrix_sync(fb, s_v + kk * 16 * kLdH + nt * 16, kLdH);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(s_o + nt * 16, acc, kLdO, wmma::mem_row_major);
    }
    __syncwarp();
  }

  store_row_half(a.o + base + size_t(q_idx) * kD + half * 64, s_o + r * kLdO + half * 64, 1.0f / row_sum);
  if (half == 0) a.lse[head * size_t(a.seq) + size_t(q_idx)] = (row_max + log2f(row_sum)) * kLn2;
}

// Delta[row] = sum_d dO[row, d] O[row, d]: 16 lanes per row, 8 elements each.
__global__ void attention_bwd_delta_kernel(const bf16* __restrict__ o, const bf16* __restrict__ dout,
                                           float* __restrict__ delta, size_t rows) {
  const size_t row = (blockIdx.x * size_t(blockDim.x) + threadIdx.x) / 16;
  const int sub = int(threadIdx.x) % 16;
  float sum = 0.0f;
  if (row < rows) {
    float of[8];
    float df[8];
    unpack_bf16x8(*reinterpret_cast<const uint4*>(o + row * kD + sub * 8), of);
    unpack_bf16x8(*reinterpret_cast<const uint4*>(dout + row * kD + sub * 8), df);
#pragma unroll
    for (int j = 0; j < 8; ++j) sum += of[j] * df[j];
  }
#pragma unroll
  for (int offset = 8; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xFFFFFFFFu, sum, offset);
  if (row < rows && sub == 0) delta[row] = sum;
}

__global__ void attention_bwd_convert_kernel(const float* __restrict__ in, bf16* __restrict__ out, size_t vecs) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < vecs; i += size_t(gridDim.x) * blockDim.x) {
    const float4 x = reinterpret_cast<const float4*>(in)[2 * i];
    const float4 y = reinterpret_cast<const float4*>(in)[2 * i + 1];
    reinterpret_cast<uint4*>(out)[i] =
        make_uint4(pack_bf16x2(x.x, x.y), pack_bf16x2(x.z, x.w), pack_bf16x2(y.x, y.y), pack_bf16x2(y.z, y.w));
  }
}

__global__ __launch_bounds__(kThreads) void attention_bwd_kernel(BwdArgs a) {
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* s_k = reinterpret_cast<bf16*>(smem);
  bf16* s_v = reinterpret_cast<bf16*>(smem + kTileBytes);
  bf16* s_q = reinterpret_cast<bf16*>(smem + 2 * kTileBytes);
  bf16* s_do = reinterpret_cast<bf16*>(smem + 3 * kTileBytes);
  const int warp = int(threadIdx.x) / 32;
  const int lane = int(threadIdx.x) % 32;
  unsigned char* rest = smem + 4 * kTileBytes;
  float* scratch = reinterpret_cast<float*>(rest + warp * kBwdScratch);
  float* s_st = scratch;               // S^T rows of this warp's 16 keys: 16 x 64
  float* s_dpt = scratch + 16 * kLdS;  // dP^T: 16 x 64
  float* s_dq = scratch;               // later: this warp's 16 dQ rows, 16 x 128
  bf16* s_pt = reinterpret_cast<bf16*>(rest + kWarps * kBwdScratch + warp * kWarpP);  // P^T, 16 x 64
  bf16* s_dst = reinterpret_cast<bf16*>(rest + kWarps * (kBwdScratch + kWarpP));      // dS^T, 64 x 64
  float* s_lse = reinterpret_cast<float*>(rest + kWarps * (kBwdScratch + kWarpP) + kTile * kLdP * sizeof(bf16));
  float* s_delta = s_lse + kTile;

  const int kt = int(blockIdx.x);
  const size_t head = blockIdx.y;
  const size_t base = head * size_t(a.seq) * kD;
  const int k0 = kt * kTile;
  load_tile(s_k, a.k + base + size_t(k0) * kD);
  load_tile(s_v, a.v + base + size_t(k0) * kD);

  FragC dk[kD / 16];
  FragC dv[kD / 16];
#pragma unroll
  for (int nt = 0; nt < kD / 16; ++nt) {
    wmma::fill_fragment(dk[nt], 0.0f);
    wmma::fill_fragment(dv[nt], 0.0f);
  }
  const int r = lane / 2;
  const int half = lane % 2;
  const int key = k0 + warp * 16 + r;

  for (int qt = kt; qt < a.seq / kTile; ++qt) {
    const int q0 = qt * kTile;
    __syncthreads();  // previous iteration's reads of Q, dO, dS^T are done
    load_tile(s_q, a.q + base + size_t(q0) * kD);
    load_tile(s_do, a.dout + base + size_t(q0) * kD);
    if (threadIdx.x < kTile) {
      s_lse[threadIdx.x] = a.lse[head * size_t(a.seq) + size_t(q0) + threadIdx.x] * kLog2e;
      s_delta[threadIdx.x] = a.delta[head * size_t(a.seq) + size_t(q0) + threadIdx.x];
    }
    __syncthreads();

    // S^T (16 keys x 64 queries) = K_warp Q^T and dP^T = V_warp dO^T
#pragma unroll
    for (int nt = 0; nt < kTile / 16; ++nt) {
      FragC acc_s;
      FragC acc_dp;
      wmma::fill_fragment(acc_s, 0.0f);
      wmma::fill_fragment(acc_dp, 0.0f);
#pragma unroll
      for (int kk = 0; kk < kD / 16; ++kk) {
        FragA fk;
        FragBT fq;
        wmma::load_matrix_sync(fk, s_k + warp * 16 * kLdH + kk * 16, kLdH);
        wmma::load_matrix_sync(fq, s_q + nt * 16 * kLdH + kk * 16, kLdH);
        wmma::mma_sync(acc_s, fk, fq, acc_s);
        FragA fv;
        FragBT fdo;
        wmma::load_matrix_sync(fv, s_v + warp * 16 * kLdH + kk * 16, kLdH);
        wmma::load_matrix_sync(fdo, s_do + nt * 16 * kLdH + kk * 16, kLdH);
        wmma::mma_sync(acc_dp, fv, fdo, acc_dp);
      }
      wmma::store_matrix_sync(s_st + nt * 16, acc_s, kLdS, wmma::mem_row_major);
      wmma::store_matrix_sync(s_dpt + nt * 16, acc_dp, kLdS, wmma::mem_row_major);
    }
    __syncwarp();

    // P^T = exp(S^T scale - LSE) (0 above the diagonal), dS^T = P^T (dP^T - Delta); lane pair per key row.
#pragma unroll
    for (int c = 0; c < 32; ++c) {
      const int col = half * 32 + c;
      const float p = key <= q0 + col ? exp2f(s_st[r * kLdS + col] * a.scale_log2 - s_lse[col]) : 0.0f;
      const float ds = p * (s_dpt[r * kLdS + col] - s_delta[col]);
      s_pt[r * kLdP + col] = __float2bfloat16_rn(p);
      s_dst[(warp * 16 + r) * kLdP + col] = __float2bfloat16_rn(ds);
    }
    __syncwarp();

    // dV_warp += P^T (16 x 64) dO (64 x 128); dK_warp += dS^T (16 x 64) Q (64 x 128). The kk loops stay rolled
    // so that only one k-step's operands are live beside the 128 accumulator registers.
#pragma unroll 1
    for (int kk = 0; kk < kTile / 16; ++kk) {
      FragA fp;
      wmma::load_matrix_sync(fp, s_pt + kk * 16, kLdP);
#pragma unroll
      for (int nt = 0; nt < kD / 16; ++nt) {
        FragB fdo;
        wmma::load_matrix_sync(fdo, s_do + kk * 16 * kLdH + nt * 16, kLdH);
        wmma::mma_sync(dv[nt], fp, fdo, dv[nt]);
      }
    }
#pragma unroll 1
    for (int kk = 0; kk < kTile / 16; ++kk) {
      FragA fds;
      wmma::load_matrix_sync(fds, s_dst + warp * 16 * kLdP + kk * 16, kLdP);
#pragma unroll
      for (int nt = 0; nt < kD / 16; ++nt) {
        FragB fq;
        wmma::load_matrix_sync(fq, s_q + kk * 16 * kLdH + nt * 16, kLdH);
        wmma::mma_sync(dk[nt], fds, fq, dk[nt]);
      }
    }
    __syncthreads();  // every warp's dS^T rows are in shared memory

    // dQ rows q0 + 16 warp .. (16 x 128) = dS (16 x 64 keys) K (64 x 128), dS read as the transpose of dS^T.
#pragma unroll
    for (int nt = 0; nt < kD / 16; ++nt) {
      FragC acc;
      wmma::fill_fragment(acc, 0.0f);
#pragma unroll
      for (int kk = 0; kk < kTile / 16; ++kk) {
        FragAT fds;
        FragB fk;
        wmma::load_matrix_sync(fds, s_dst + kk * 16 * kLdP + warp * 16, kLdP);
        wmma::load_matrix_sync(fk, s_k + kk * 16 * kLdH + nt * 16, kLdH);
        wmma::mma_sync(acc, fds, fk, acc);
      }
      wmma::store_matrix_sync(s_dq + nt * 16, acc, kLdO, wmma::mem_row_major);
    }
    __syncwarp();
    float* dq_rows = a.dq_acc + base + size_t(q0 + warp * 16) * kD;
    for (int e = lane; e < 16 * kD; e += 32) {
      atomicAdd(dq_rows + (e / kD) * kD + e % kD, s_dq[(e / kD) * kLdO + e % kD] * a.scale);
    }
  }

  // dV and dK (scaled) rows of this warp's 16 keys, through the warp's scratch.
  __syncwarp();
  bf16* dv_row = a.dv + base + size_t(key) * kD + half * 64;
  bf16* dk_row = a.dk + base + size_t(key) * kD + half * 64;
#pragma unroll
  for (int nt = 0; nt < kD / 16; ++nt) wmma::store_matrix_sync(scratch + nt * 16, dv[nt], kLdO, wmma::mem_row_major);
  __syncwarp();
  store_row_half(dv_row, scratch + r * kLdO + half * 64, 1.0f);
  __syncwarp();
#pragma unroll
  for (int nt = 0; nt < kD / 16; ++nt) wmma::store_matrix_sync(scratch + nt * 16, dk[nt], kLdO, wmma::mem_row_major);
  __syncwarp();
  store_row_half(dk_row, scratch + r * kLdO + half * 64, a.scale);
}

// ---------------------------------------------------------------------------------------------------------------
// Host side

struct AttnShape {
  int64_t batch;
  int64_t heads;
  int64_t seq;
  bool backward;
};

struct AttnSet {
  DeviceBuffer<bf16> q, k, v, o;
  DeviceBuffer<float> lse;
  DeviceBuffer<bf16> dout, dq, dk, dv;
  DeviceBuffer<float> delta, dq_acc;
};

size_t elements(const AttnShape& s) { return size_t(s.batch * s.heads * s.seq) * kD; }
size_t rows(const AttnShape& s) { return size_t(s.batch * s.heads * s.seq); }

uint64_t set_bytes(const AttnShape& s) {
  const uint64_t e = elements(s);
  const uint64_t r = rows(s);
  uint64_t b = 4 * e * sizeof(bf16) + r * sizeof(float);
  if (s.backward) b += 4 * e * sizeof(bf16) + r * sizeof(float) + e * sizeof(float);
  return b;
}

AttnSet make_set(Bench& bench, const AttnShape& s) {
  const size_t e = elements(s);
  const size_t r = rows(s);
  AttnSet set;
  set.q = DeviceBuffer<bf16>(e);
  set.k = DeviceBuffer<bf16>(e);
  set.v = DeviceBuffer<bf16>(e);
  set.o = DeviceBuffer<bf16>(e);
  set.lse = DeviceBuffer<float>(r);
  if (s.backward) {
    set.dout = DeviceBuffer<bf16>(e);
    set.dq = DeviceBuffer<bf16>(e);
    set.dk = DeviceBuffer<bf16>(e);
    set.dv = DeviceBuffer<bf16>(e);
    set.delta = DeviceBuffer<float>(r);
    set.dq_acc = DeviceBuffer<float>(e);
  }
  const cudaStream_t stream = bench.stream();
  // Scores of order one after scaling (q, k in (-2, 2) over 128 dimensions), so the softmax is far from uniform.
  fill_uniform(set.q.get(), e, bench.next_seed(), -2.0f, 2.0f, stream);
  fill_uniform(set.k.get(), e, bench.next_seed(), -2.0f, 2.0f, stream);
  fill_uniform(set.v.get(), e, bench.next_seed(), -1.0f, 1.0f, stream);
  if (s.backward) fill_uniform(set.dout.get(), e, bench.next_seed(), -1.0f, 1.0f, stream);
  return set;
}

float softmax_scale() { return 1.0f / std::sqrt(float(kD)); }

void launch_forward(const AttnSet& t, const AttnShape& s, cudaStream_t stream) {
  const FwdArgs args{.q = t.q.get(),
                     .k = t.k.get(),
                     .v = t.v.get(),
                     .o = t.o.get(),
                     .lse = t.lse.get(),
                     .seq = int(s.seq),
                     .scale_log2 = softmax_scale() * kLog2e};
  const dim3 grid(unsigned(s.seq / kTile), unsigned(s.batch * s.heads));
  attention_fwd_kernel<<<grid, kThreads, kFwdSmem, stream>>>(args);
  TCSIM_LAUNCH_CHECK();
}

void launch_backward(const AttnSet& t, const AttnShape& s, cudaStream_t stream) {
  const size_t e = elements(s);
  const size_t r = rows(s);
  TCSIM_CUDA_CHECK(cudaMemsetAsync(t.dq_acc.get(), 0, e * sizeof(float), stream));
  attention_bwd_delta_kernel<<<unsigned((r * 16 + 255) / 256), 256, 0, stream>>>(t.o.get(), t.dout.get(), t.delta.get(),
                                                                                 r);
  TCSIM_LAUNCH_CHECK();
  const BwdArgs args{.q = t.q.get(),
                     .k = t.k.get(),
                     .v = t.v.get(),
                     .dout = t.dout.get(),
                     .lse = t.lse.get(),
                     .delta = t.delta.get(),
                     .dq_acc = t.dq_acc.get(),
                     .dk = t.dk.get(),
                     .dv = t.dv.get(),
                     .seq = int(s.seq),
                     .scale = softmax_scale(),
                     .scale_log2 = softmax_scale() * kLog2e};
  const dim3 grid(unsigned(s.seq / kTile), unsigned(s.batch * s.heads));
  attention_bwd_kernel<<<grid, kThreads, kBwdSmem, stream>>>(args);
  TCSIM_LAUNCH_CHECK();
  const size_t vecs = e / 8;
  attention_bwd_convert_kernel<<<unsigned(std::min<size_t>((vecs + 255) / 256, 65535)), 256, 0, stream>>>(
      t.dq_acc.get(), t.dq.get(), vecs);
  TCSIM_LAUNCH_CHECK();
}

// One head's tensors on the host in float64, row-major [seq, kD].
struct HostHead {
  int64_t seq = 0;
  std::vector<double> q, k, v, o, dout;
};

std::vector<double> head_rows(const DeviceBuffer<bf16>& t, size_t head, int64_t seq) {
  const std::vector<bf16> h = download(t.get(), head * size_t(seq) * kD, size_t(seq) * kD);
  std::vector<double> out(h.size());
  for (size_t i = 0; i < h.size(); ++i) out[i] = bf16_value(h[i]);
  return out;
}

double dot(const double* x, const double* y) {
  double s = 0.0;
  for (int d = 0; d < kD; ++d) s += x[d] * y[d];
  return s;
}

// Float64 reference of one query row: O[i] and its natural log-sum-exp.
double reference_forward_row(const HostHead& h, int64_t i, std::vector<double>& o_row) {
  const double scale = 1.0 / std::sqrt(double(kD));
  std::vector<double> s(size_t(i) + 1);
  double mx = -INFINITY;
  for (int64_t j = 0; j <= i; ++j) {
    s[size_t(j)] = scale * dot(&h.q[size_t(i) * kD], &h.k[size_t(j) * kD]);
    mx = std::max(mx, s[size_t(j)]);
  }
  double sum = 0.0;
  o_row.assign(kD, 0.0);
  for (int64_t j = 0; j <= i; ++j) {
    const double p = std::exp(s[size_t(j)] - mx);
    sum += p;
    for (int d = 0; d < kD; ++d) o_row[size_t(d)] += p * h.v[size_t(j) * kD + size_t(d)];
  }
  for (double& x : o_row) x /= sum;
  return mx + std::log(sum);
}

// dQ[i] given every row's log-sum-exp and Delta.
void reference_dq_row(const HostHead& h, int64_t i, const std::vector<double>& lse, const std::vector<double>& delta,
                      std::vector<double>& dq_row) {
  const double scale = 1.0 / std::sqrt(double(kD));
  dq_row.assign(kD, 0.0);
  for (int64_t j = 0; j <= i; ++j) {
    const double p = std::exp(scale * dot(&h.q[size_t(i) * kD], &h.k[size_t(j) * kD]) - lse[size_t(i)]);
    const double dp = dot(&h.dout[size_t(i) * kD], &h.v[size_t(j) * kD]);
    const double ds = p * (dp - delta[size_t(i)]);
    for (int d = 0; d < kD; ++d) dq_row[size_t(d)] += scale * ds * h.k[size_t(j) * kD + size_t(d)];
  }
}

// dK[j] and dV[j] given every row's log-sum-exp and Delta.
void reference_dkdv_row(const HostHead& h, int64_t j, const std::vector<double>& lse, const std::vector<double>& delta,
                        std::vector<double>& dk_row, std::vector<double>& dv_row) {
  const double scale = 1.0 / std::sqrt(double(kD));
  dk_row.assign(kD, 0.0);
  dv_row.assign(kD, 0.0);
  for (int64_t i = j; i < h.seq; ++i) {
    const double p = std::exp(scale * dot(&h.q[size_t(i) * kD], &h.k[size_t(j) * kD]) - lse[size_t(i)]);
    const double dp = dot(&h.dout[size_t(i) * kD], &h.v[size_t(j) * kD]);
    const double ds = p * (dp - delta[size_t(i)]);
    for (int d = 0; d < kD; ++d) {
      dv_row[size_t(d)] += p * h.dout[size_t(i) * kD + size_t(d)];
      dk_row[size_t(d)] += scale * ds * h.q[size_t(i) * kD + size_t(d)];
    }
  }
}

void add_row(ErrorNorm& error, const std::vector<double>& device_head, int64_t row, const std::vector<double>& ref) {
  for (int d = 0; d < kD; ++d) error.add(device_head[size_t(row) * kD + size_t(d)], ref[size_t(d)]);
}

// Checks the forward outputs of heads `heads` against float64: every row when `all_rows`, else a sample.
void check_forward(const std::string& what, const AttnSet& t, const AttnShape& s, const std::vector<size_t>& heads,
                   bool all_rows) {
  ErrorNorm o_error;
  ErrorNorm lse_error;
  for (size_t head : heads) {
    HostHead h;
    h.seq = s.seq;
    h.q = head_rows(t.q, head, s.seq);
    h.k = head_rows(t.k, head, s.seq);
    h.v = head_rows(t.v, head, s.seq);
    const std::vector<double> o_dev = head_rows(t.o, head, s.seq);
    const std::vector<float> lse_dev = download(t.lse.get(), head * size_t(s.seq), size_t(s.seq));
    const std::vector<size_t> sample = spread_indices(size_t(s.seq), all_rows ? size_t(s.seq) : 8);
    std::vector<double> o_row;
    for (size_t i : sample) {
      const double lse = reference_forward_row(h, int64_t(i), o_row);
      add_row(o_error, o_dev, int64_t(i), o_row);
      lse_error.add(lse_dev[i], lse);
    }
  }
  expect_close(what + " O", o_error, kBf16Tolerance);
  expect_close(what + " log-sum-exp", lse_error, 1e-4);  // fp32 arithmetic on exact bf16 inputs
}

// Checks dQ, dK and dV of heads `heads`. With `exact`, LSE and Delta come from the float64 forward (an independent
// reference, affordable for short sequences); otherwise from the device's (already checked) LSE and O, so the cost
// stays linear in seq per checked row.
void check_backward(const std::string& what, const AttnSet& t, const AttnShape& s, const std::vector<size_t>& heads,
                    bool exact) {
  ErrorNorm dq_error;
  ErrorNorm dk_error;
  ErrorNorm dv_error;
  for (size_t head : heads) {
    HostHead h;
    h.seq = s.seq;
    h.q = head_rows(t.q, head, s.seq);
    h.k = head_rows(t.k, head, s.seq);
    h.v = head_rows(t.v, head, s.seq);
    h.o = head_rows(t.o, head, s.seq);
    h.dout = head_rows(t.dout, head, s.seq);
    std::vector<double> lse(size_t(s.seq));
    std::vector<double> delta(size_t(s.seq));
    if (exact) {
      std::vector<double> o_row;
      for (int64_t i = 0; i < s.seq; ++i) {
        lse[size_t(i)] = reference_forward_row(h, i, o_row);
        delta[size_t(i)] = dot(&h.dout[size_t(i) * kD], o_row.data());
      }
    } else {
      const std::vector<float> lse_dev = download(t.lse.get(), head * size_t(s.seq), size_t(s.seq));
      for (int64_t i = 0; i < s.seq; ++i) {
        lse[size_t(i)] = lse_dev[size_t(i)];
        delta[size_t(i)] = dot(&h.dout[size_t(i) * kD], &h.o[size_t(i) * kD]);
      }
    }
    const std::vector<double> dq_dev = head_rows(t.dq, head, s.seq);
    const std::vector<double> dk_dev = head_rows(t.dk, head, s.seq);
    const std::vector<double> dv_dev = head_rows(t.dv, head, s.seq);
    const std::vector<size_t> sample = spread_indices(size_t(s.seq), exact ? size_t(s.seq) : 8);
    std::vector<double> a;
    std::vector<double> b;
    for (size_t i : sample) {
      reference_dq_row(h, int64_t(i), lse, delta, a);
      add_row(dq_error, dq_dev, int64_t(i), a);
      reference_dkdv_row(h, int64_t(i), lse, delta, a, b);
      add_row(dk_error, dk_dev, int64_t(i), a);
      add_row(dv_error, dv_dev, int64_t(i), b);
    }
  }
  expect_close(what + " dQ", dq_error, kBf16Tolerance);
  expect_close(what + " dK", dk_error, kBf16Tolerance);
  expect_close(what + " dV", dv_error, kBf16Tolerance);
}

Point attention_point(const AttnShape& s, bool backward) {
  const auto b = uint64_t(s.batch), h = uint64_t(s.heads), n = uint64_t(s.seq), d = uint64_t(kD);
  const uint64_t fwd_flops = 4 * b * h * n * n * d / 2;
  const uint64_t e = b * h * n * d;
  return Point{.family = backward ? "attention_bwd" : "attention_fwd",
               .variant = "own-fa2-style",
               .dtype = "bf16",
               .m = s.seq,
               .n = s.heads,
               .k = kD,
               .groups = s.batch,
               .flops = backward ? fwd_flops * 5 / 2 : fwd_flops,
               .bytes = backward ? 8 * e * sizeof(bf16) + b * h * n * sizeof(float)
                                 : 4 * e * sizeof(bf16) + b * h * n * sizeof(float)};
}

// The first check: a short sequence, two batches of two heads, every row of every output against float64.
void verify_small(Bench& bench) {
  const AttnShape s{.batch = 2, .heads = 2, .seq = 256, .backward = true};
  const cudaStream_t stream = bench.stream();
  const AttnSet t = make_set(bench, s);
  poison(t.o.get(), t.o.bytes(), stream);
  poison(t.lse.get(), t.lse.bytes(), stream);
  poison(t.dq.get(), t.dq.bytes(), stream);
  poison(t.dk.get(), t.dk.bytes(), stream);
  poison(t.dv.get(), t.dv.bytes(), stream);
  launch_forward(t, s, stream);
  launch_backward(t, s, stream);
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  const std::string what = "attention (own-fa2-style) check b=2 h=2 seq=256";
  expect_all_written(what + " O", count_nonfinite(t.o.get(), elements(s), stream), elements(s));
  expect_all_written(what + " LSE", count_nonfinite(t.lse.get(), rows(s), stream), rows(s));
  expect_all_written(what + " dQ", count_nonfinite(t.dq.get(), elements(s), stream), elements(s));
  expect_all_written(what + " dK", count_nonfinite(t.dk.get(), elements(s), stream), elements(s));
  expect_all_written(what + " dV", count_nonfinite(t.dv.get(), elements(s), stream), elements(s));
  const std::vector<size_t> all_heads = {0, 1, 2, 3};
  check_forward(what, t, s, all_heads, true);
  check_backward(what, t, s, all_heads, true);
  std::fprintf(stderr, "  %s: passed\n", what.c_str());
}

void measure_attention(Bench& bench, const AttnShape& s) {
  const Point fwd = attention_point(s, false);
  const int sets = bench.rotation_sets(set_bytes(s));
  if (sets < 1) {
    bench.skip(describe(fwd) + (s.backward ? " (and backward)" : ""), "does not fit in free device memory");
    return;
  }
  const cudaStream_t stream = bench.stream();
  std::vector<AttnSet> data;
  for (int i = 0; i < sets; ++i) data.push_back(make_set(bench, s));
  const std::vector<size_t> heads = {0, size_t(s.batch * s.heads) - 1};

  // Forward: checked run on poisoned outputs, then timed.
  std::string what = describe(fwd);
  poison(data[0].o.get(), data[0].o.bytes(), stream);
  poison(data[0].lse.get(), data[0].lse.bytes(), stream);
  launch_forward(data[0], s, stream);
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  expect_all_written(what + " O", count_nonfinite(data[0].o.get(), elements(s), stream), elements(s));
  expect_all_written(what + " LSE", count_nonfinite(data[0].lse.get(), rows(s), stream), rows(s));
  check_forward(what, data[0], s, heads, false);
  bench.record(fwd, bench.time(sets, [&](int i) { launch_forward(data[size_t(i)], s, stream); }));
  if (!s.backward) return;

  // Backward: every set needs its forward outputs (O, LSE); checked run, then timed.
  const Point bwd = attention_point(s, true);
  what = describe(bwd);
  for (const AttnSet& t : data) launch_forward(t, s, stream);
  poison(data[0].dq.get(), data[0].dq.bytes(), stream);
  poison(data[0].dk.get(), data[0].dk.bytes(), stream);
  poison(data[0].dv.get(), data[0].dv.bytes(), stream);
  launch_backward(data[0], s, stream);
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  expect_all_written(what + " dQ", count_nonfinite(data[0].dq.get(), elements(s), stream), elements(s));
  expect_all_written(what + " dK", count_nonfinite(data[0].dk.get(), elements(s), stream), elements(s));
  expect_all_written(what + " dV", count_nonfinite(data[0].dv.get(), elements(s), stream), elements(s));
  check_backward(what, data[0], s, heads, false);
  bench.record(bwd, bench.time(sets, [&](int i) { launch_backward(data[size_t(i)], s, stream); }));
}

}  // namespace

void run_attention(Bench& bench) {
  const int64_t need = int64_t(std::max(kFwdSmem, kBwdSmem));
  if (bench.device().smem_optin_bytes < need) {
    bench.skip("attention (all shapes)", "needs " + std::to_string(need) +
                                             " bytes of shared memory per block, the GPU allows " +
                                             std::to_string(bench.device().smem_optin_bytes));
    return;
  }
  TCSIM_CUDA_CHECK(
      cudaFuncSetAttribute(attention_fwd_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(kFwdSmem)));
  TCSIM_CUDA_CHECK(
      cudaFuncSetAttribute(attention_bwd_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(kBwdSmem)));
  verify_small(bench);

  // DeepSeek-V3 has 128 attention heads (V3-TR section 4.2); a micro-batch of 4096 tokens splits into sequences of
  // 1024..4096, longer sequences stand for the context-extension phases (32K and 128K, V3-TR section 4.3).
  constexpr int64_t kHeads = 128;
  const std::vector<int64_t> seqs =
      bench.quick() ? std::vector<int64_t>{1024, 4096} : std::vector<int64_t>{1024, 2048, 4096, 8192, 16384};
  for (int64_t seq : seqs) {
    const AttnShape shape{.batch = std::max<int64_t>(1, 4096 / seq),
                          .heads = kHeads,
                          .seq = seq,
                          .backward = seq <= 8192};  // the longest is forward only, to bound the run time
    measure_attention(bench, shape);
  }
}

}  // namespace tcsim::kernels
