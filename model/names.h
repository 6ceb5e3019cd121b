// The names scenario files use for the model's enumerations.
#pragma once

#include <array>

#include "core/named.h"
#include "model/spec.h"

namespace tcsim::model {

inline constexpr std::array<Named<AttentionKind>, 3> kAttentionNames{
    {{"mha", AttentionKind::mha}, {"gqa", AttentionKind::gqa}, {"mla", AttentionKind::mla}}};
inline constexpr std::array<Named<FfnKind>, 2> kFfnNames{{{"swiglu", FfnKind::swiglu}, {"gelu", FfnKind::gelu}}};
inline constexpr std::array<Named<NormKind>, 2> kNormNames{
    {{"rmsnorm", NormKind::rmsnorm}, {"layernorm", NormKind::layernorm}}};
inline constexpr std::array<Named<PositionKind>, 2> kPositionNames{
    {{"rope", PositionKind::rope}, {"learned", PositionKind::learned}}};
inline constexpr std::array<Named<Schedule>, 4> kScheduleNames{{{"1f1b", Schedule::one_f_one_b},
                                                                {"interleaved-1f1b", Schedule::interleaved_1f1b},
                                                                {"zero-bubble", Schedule::zero_bubble},
                                                                {"dualpipe", Schedule::dualpipe}}};
inline constexpr std::array<Named<Recompute>, 3> kRecomputeNames{
    {{"none", Recompute::none}, {"selective", Recompute::selective}, {"full", Recompute::full}}};
inline constexpr std::array<Named<Dtype>, 4> kDtypeNames{
    {{"fp32", Dtype::fp32}, {"bf16", Dtype::bf16}, {"fp16", Dtype::fp16}, {"fp8", Dtype::fp8}}};
// Storage-only formats add DeepSeek-V3's 12-bit E5M6 (V3-TR §3.3.4), which no GEMM computes in.
inline constexpr std::array<Named<Dtype>, 5> kStorageDtypeNames{
    {{"fp32", Dtype::fp32}, {"bf16", Dtype::bf16}, {"fp16", Dtype::fp16}, {"fp8", Dtype::fp8}, {"e5m6", Dtype::e5m6}}};

template <class E, std::size_t N>
constexpr std::string_view name_of(const std::array<Named<E>, N>& table, E value) {
  return tcsim::name_of(std::span<const Named<E>>(table), value);
}

constexpr std::string_view schedule_name(Schedule s) { return name_of(kScheduleNames, s); }
constexpr std::string_view recompute_name(Recompute r) { return name_of(kRecomputeNames, r); }

}  // namespace tcsim::model
