// Models shared by the model/ test suites.
#pragma once

#include <doctest/doctest.h>

#include "model/catalog.h"
#include "model/spec.h"

namespace tcsim::model::fixtures {

inline const ModelSpec& preset(const char* name) {
  const ModelSpec* m = find_model_preset(name);
  REQUIRE(m != nullptr);
  return *m;
}

// 2 layers, hidden 8, vocabulary 16, GQA with 2 query heads and 1 KV head of
// width 4, SwiGLU FFN of 12, RMSNorm, RoPE, untied head: 1256 weights
// (test_params.cpp: embedding 128, layer 496 each, final norm 8, head 128).
inline ModelSpec tiny_dense() {
  ModelSpec m;
  m.name = "tiny-dense";
  m.layers = 2;
  m.hidden = 8;
  m.vocab = 16;
  m.attention.kind = AttentionKind::gqa;
  m.attention.heads = 2;
  m.attention.kv_heads = 1;
  m.attention.head_dim = 4;
  m.ffn_intermediate = 12;
  return m;
}

}  // namespace tcsim::model::fixtures
