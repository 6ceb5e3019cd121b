// Where values came from: a value that replaces a sourced one keeps no
// inherited source; cost sections kept from another model's file are noted;
// and the merged tree written back as YAML reads as the same tree.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "scenarios/tree.h"

using namespace tcsim;
using namespace tcsim::scenario;
namespace fs = std::filesystem;

namespace {

// Kinds, keys, items and scalars equal; locations ignored. `quoted` matters
// only where it changes meaning ("auto" plain is dp's keyword, quoted a name).
bool same_tree(const Node& a, const Node& b) {
  if (a.kind != b.kind || a.scalar != b.scalar || a.keys != b.keys || a.items.size() != b.items.size() ||
      a.values.size() != b.values.size()) {
    return false;
  }
  if (a.kind == Node::Kind::scalar && a.scalar == "auto" && a.quoted != b.quoted) return false;
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    if (!same_tree(a.items[i], b.items[i])) return false;
  }
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    if (!same_tree(a.values[i], b.values[i])) return false;
  }
  return true;
}

fs::path temp_dir() {
  static const fs::path d = [] {
    const auto p = fs::temp_directory_path() / ("tcsim-provenance-" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
  }();
  return d;
}

std::string write_file(const std::string& name, const std::string& text) {
  const fs::path p = temp_dir() / name;
  std::ofstream(p) << text;
  return p.string();
}

bool has_note(const Scenario& s, const std::string& part) {
  for (const std::string& n : s.notes) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a tree written as YAML reads back as the same tree, whatever its scalars hold") {
  const std::string text = R"(plain: 8
colon: "a: b"
hash: "x #y"
dash: "- z"
empty: ""
quoted_null: "null"
real_null: null
keyword: auto
named_auto: "auto"
money: "$44,750"
unicode: "Fire-Flyer 2 — 10,000 A100"
line_break: "one\ntwo"
"odd key: here": 1
list: [1, "two, three", {a: 1, b: [x, y]}, [nested, list], [], {}]
map: {inner: {deeper: [{k: v}]}}
scalars: [a, "b, c", "[d]", null, "e: f", "{g}", 4.5]
)";
  const Node tree = read_yaml(text, "t.yaml");
  const std::string written = write_yaml(tree);
  const Node again = read_yaml(written, "again.yaml");
  CHECK_MESSAGE(same_tree(tree, again), written);
  CHECK(again.find("keyword")->quoted == false);
  CHECK(again.find("named_auto")->quoted == true);
  CHECK(written.find("scalars: [a, \"b, c\", \"[d]\", null, \"e: f\", \"{g}\", 4.5]") != std::string::npos);
}

TEST_CASE("a scalar that starts like a document marker is quoted, at the root, as a key and as an item") {
  for (const char* text : {" ...  _", "\"--- a\": [\"... b\", \"---\"]\n"}) {
    const Node tree = read_yaml(text, "t.yaml");
    const std::string written = write_yaml(tree);
    CHECK_MESSAGE(same_tree(tree, read_yaml(written, "again.yaml")), written);
  }
}

TEST_CASE("a --set of a sourced cost value keeps no inherited source") {
  // The built-in scenario's rental carries "V3-TR Table 1: assumed H800 rental price [exact]".
  const Scenario base = load_scenario("builtin:deepseek-v3");
  CHECK(base.cost.rental_source.starts_with("V3-TR Table 1"));
  CHECK(base.notes.empty());
  const std::vector<std::string> sets{"cost.rental=$2.50/GPU-h"};
  const Scenario s = load_scenario("builtin:deepseek-v3", sets);
  CHECK(s.cost.rental_source == "user value: cost.rental = \"$2.50/GPU-h\" (--set); no source given");
  REQUIRE(s.notes.size() == 1);
  CHECK(s.notes[0] == "--set: cost.rental replaces a sourced value without a source of its own");
  CHECK(s.overrides == sets);

  // The user's own source with the value: kept, nothing to note.
  const std::vector<std::string> sourced{"cost.rental=$2.50/GPU-h", "cost.rental_source=my contract, 2025"};
  const Scenario t = load_scenario("builtin:deepseek-v3", sourced);
  CHECK(t.cost.rental_source == "my contract, 2025");
  CHECK(t.notes.empty());
}

TEST_CASE("a list item changed in place loses its source and its tag") {
  const Scenario s =
      load_scenario("builtin:deepseek-v3", std::vector<std::string>{"cost.owned.capital[1].per_gpu=$5,000"});
  REQUIRE(s.cost.owned.has_value());
  const CapitalItem& c = s.cost.owned->capital.at(1);
  CHECK(c.per_gpu.value() == 5000.0);
  CHECK(c.source.starts_with("user value: cost.owned.capital[1].per_gpu = \"$5,000\""));
  CHECK(c.tag == SourceTag::assumption);
  // The other item, the server from the price catalog, is untouched.
  CHECK(s.cost.owned->capital.at(0).source.starts_with("Epoch AI hardware price data: DGX H800 $358,000"));
}

TEST_CASE("per_gpu: catalog prices the server of the scenario's GPU; a GPU the catalog lacks leaves owned costs out") {
  const Scenario h800 = load_scenario("builtin:deepseek-v3");
  REQUIRE(h800.cost.owned.has_value());
  CHECK(h800.cost.owned->capital.at(0).name == "DGX H800 (8 GPUs), per GPU");
  CHECK(h800.cost.owned->capital.at(0).per_gpu.value() == 358000.0 / 8);
  CHECK(h800.cost.owned->capital.at(0).tag == SourceTag::exact);
  const Scenario h100 = load_scenario("builtin:deepseek-v3", std::vector<std::string>{"hardware.gpu=h100"});
  CHECK(h100.cost.owned->capital.at(0).name == "DGX H100 (8 GPUs), per GPU");
  CHECK(h100.cost.owned->capital.at(0).per_gpu.value() == 270000.0 / 8);
  CHECK(h100.cost.owned->capital.at(0).tag == SourceTag::estimate);

  const Scenario custom = load_scenario(
      "builtin:deepseek-v3",
      std::vector<std::string>{"hardware.gpu={name: custom, sms: 132, bf16_dense: \"989 TFLOP/s\", fp8_dense: \"1979 "
                               "TFLOP/s\", hbm_capacity: \"80 GB\", hbm_bandwidth: \"3.35 TB/s\", nvlink_bandwidth: "
                               "\"450 GB/s\", tdp: \"700 W\"}"});
  CHECK_FALSE(custom.cost.owned.has_value());
  CHECK_FALSE(custom.cost.rnd.has_value());  // priced on owned hardware
  CHECK(has_note(custom, "no server price for GPU \"custom\""));
  CHECK(has_note(custom, "cost.rnd: priced on owned hardware"));
}

TEST_CASE("a value replaced by a file that extends the one with the source is relabelled, with its place") {
  const std::string f = write_file("cheaper.yaml", "extends: builtin:deepseek-v3\ncost:\n  rental: \"$1.50/GPU-h\"\n");
  const Scenario s = load_scenario(f);
  CHECK(s.cost.rental_source.starts_with("user value: cost.rental = \"$1.50/GPU-h\" (" + f + ":3:11)"));
  REQUIRE(s.notes.size() == 1);
  CHECK(s.notes[0].starts_with(f + ":3:11: cost.rental"));
}

TEST_CASE("a source written after its value is the user's own: kept, nothing relabelled") {
  const std::string f = write_file(
      "my-source.yaml", "extends: builtin:deepseek-v3\ncost:\n  rental_source: \"our own contract, 2025\"\n");
  const Scenario s = load_scenario(f);
  CHECK(s.cost.rental_source == "our own contract, 2025");
  CHECK(s.cost.rental.value() == 2.0);
  CHECK(s.notes.empty());
}

TEST_CASE("R&D items kept from another model's scenario are noted; a change of hardware alone is not") {
  const std::string other =
      write_file("other-model.yaml",
                 "extends: builtin:deepseek-v3\nmodel: deepseek-v2\n"
                 "parallelism: {tp: 1, pp: 8, ep: 8, dp: auto, stage_layers: [8, 8, 8, 8, 7, 7, 7, 7]}\n");
  const Scenario s = load_scenario(other);
  CHECK(has_note(s, "cost.rnd comes from <builtin>/deepseek-v3.yaml"));
  CHECK(has_note(s, "the model was changed afterwards (" + other + ")"));

  const Scenario h100 = load_scenario("builtin:deepseek-v3", std::vector<std::string>{"hardware.gpu=h100"});
  CHECK_FALSE(has_note(h100, "cost.rnd"));

  // The user's own R&D items for the new model: nothing inherited.
  const std::string own =
      write_file("own-rnd.yaml",
                 "extends: builtin:deepseek-v3\nmodel: deepseek-v2\n"
                 "parallelism: {tp: 1, pp: 8, ep: 8, dp: auto, stage_layers: [8, 8, 8, 8, 7, 7, 7, 7]}\n"
                 "cost:\n  rnd:\n    items:\n      - {name: staff, kind: dollars, amount: \"$1M\", source: mine, tag: "
                 "estimate}\n");
  CHECK_FALSE(has_note(load_scenario(own), "cost.rnd"));
}

TEST_CASE("the resolved YAML loads back to the same notes and sources") {
  const std::vector<std::string> sets{"cost.rental=$2.50/GPU-h"};
  const std::string text = resolved_yaml("builtin:deepseek-v3", sets);
  const Scenario again = load_scenario_text(text, "resolved.yaml");
  const Scenario s = load_scenario("builtin:deepseek-v3", sets);
  CHECK(again.notes == s.notes);
  CHECK(again.cost.rental_source == s.cost.rental_source);
  CHECK(again.cost.rental.value() == s.cost.rental.value());
}
