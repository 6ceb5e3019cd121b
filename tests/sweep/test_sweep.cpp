// Sweep tables without the CLI (reports/sweep.h): --vary values and ranges,
// the cross product's order and ids, rows, and tables read back.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"
#include "reports/sweep_table.h"
#include "study/variant_space.h"

using namespace tcsim;
using namespace tcsim::reports;
using namespace tcsim::study;
using Strings = std::vector<std::string>;

TEST_CASE("values split at top-level commas only, never inside braces, brackets or quotes") {
  CHECK(split_values("h800,h100") == Strings{"h800", "h100"});
  CHECK(split_values("{dp: 32, cp: 4},{dp: 16, cp: 8}") == Strings{"{dp: 32, cp: 4}", "{dp: 16, cp: 8}"});
  CHECK(split_values(R"([1, 2], "a,b", 'c,d', {x: [3, {y: 4}]})") ==
        Strings{"[1, 2]", R"("a,b")", "'c,d'", "{x: [3, {y: 4}]}"});
  CHECK(split_values(R"("say \"a,b\"",x)") == Strings{R"("say \"a,b\"")", "x"});
  CHECK(split_values("'it''s, here',x") == Strings{"'it''s, here'", "x"});
  CHECK(split_values("  8 , 16  ") == Strings{"8", "16"});  // blanks around a value are not part of it
}

TEST_CASE("an empty value, an unbalanced bracket or an open quote is an error") {
  CHECK_THROWS_AS(split_values("a,,b"), ConfigError);
  CHECK_THROWS_AS(split_values("a,"), ConfigError);
  CHECK_THROWS_AS(split_values("{dp: 32, cp: 4"), ConfigError);
  CHECK_THROWS_AS(split_values("a}"), ConfigError);
  CHECK_THROWS_AS(split_values("{a]"), ConfigError);
  CHECK_THROWS_AS(split_values("\"abc"), ConfigError);
}

TEST_CASE("START:STOP:STEP is inclusive, in whole or decimal numbers, without floating-point drift") {
  CHECK(expand_range("1:4:1") == Strings{"1", "2", "3", "4"});
  CHECK(expand_range("2:16:2") == Strings{"2", "4", "6", "8", "10", "12", "14", "16"});
  CHECK(expand_range("1:10:4") == Strings{"1", "5", "9"});  // 13 would pass STOP
  CHECK(expand_range("10:1:-3") == Strings{"10", "7", "4", "1"});
  CHECK(expand_range("5:5:1") == Strings{"5"});
  // 0.1 x 3 in binary floating point is 0.30000000000000004; the range counts tenths exactly.
  CHECK(expand_range("0:0.3:0.1") == Strings{"0", "0.1", "0.2", "0.3"});
  CHECK(expand_range("1.1:1.5:0.1") == Strings{"1.1", "1.2", "1.3", "1.4", "1.5"});
  CHECK(expand_range("0.5:1:0.25") == Strings{"0.5", "0.75", "1"});
  CHECK(expand_range("-1:1:1") == Strings{"-1", "0", "1"});
}

TEST_CASE("a range may carry its unit around the numbers") {
  CHECK(expand_range("100:300:100 GB/s") == Strings{"100 GB/s", "200 GB/s", "300 GB/s"});
  CHECK(expand_range("$1.5:2.5:0.5/GPU-h") == Strings{"$1.5/GPU-h", "$2/GPU-h", "$2.5/GPU-h"});
  CHECK(expand_range("{a: 1:2:3}").empty());  // YAML around the numbers, not a unit
}

TEST_CASE("what is not three numbers is not a range; a range that cannot end is an error") {
  CHECK(expand_range("h100").empty());
  CHECK(expand_range("1:2").empty());
  CHECK(expand_range("1:2:3:4").empty());
  CHECK(expand_range("\"10:00:00\"").empty());
  CHECK(expand_range("a:b:c").empty());
  CHECK_THROWS_AS(expand_range("1:5:0"), ConfigError);
  CHECK_THROWS_AS(expand_range("1:5:-1"), ConfigError);
  CHECK_THROWS_AS(expand_range("0:2000000:1"), ConfigError);  // 2,000,001 values, over the million cap
}

TEST_CASE("--vary takes PATH=values, with ranges among the values") {
  const Variation v = parse_variation(" parallelism.pp = 1,2:6:2");
  CHECK(v.path == "parallelism.pp");
  CHECK(v.values == Strings{"1", "2", "4", "6"});
  const Variation p = parse_variation("training.phases[1].parallelism={dp: 32, cp: 4},{dp: 16, cp: 8}");
  CHECK(p.path == "training.phases[1].parallelism");
  CHECK(p.values == Strings{"{dp: 32, cp: 4}", "{dp: 16, cp: 8}"});
  // Only the first '=' separates the path: a value may hold one.
  CHECK(parse_variation("description=a=b").values == Strings{"a=b"});
  CHECK_THROWS_AS(parse_variation("parallelism.pp"), ConfigError);
  CHECK_THROWS_AS(parse_variation("=1,2"), ConfigError);
  CHECK_THROWS_AS(parse_variation("parallelism.pp="), ConfigError);
  CHECK_THROWS_AS(parse_variation("parallelism.pp=2,1:3:1"), ConfigError);  // 2 twice
}

TEST_CASE("the cross product runs the first --vary outermost; an id is a variant's index") {
  const VariantSpace space({{"a", {"1", "2"}}, {"b", {"x", "y", "z"}}});
  REQUIRE(space.size() == 6);  // 2 x 3
  CHECK(space.paths() == Strings{"a", "b"});
  CHECK(space.values(0) == Strings{"1", "x"});
  CHECK(space.values(1) == Strings{"1", "y"});
  CHECK(space.values(2) == Strings{"1", "z"});
  CHECK(space.values(3) == Strings{"2", "x"});
  CHECK(space.values(5) == Strings{"2", "z"});
  CHECK(space.overrides(4) == Strings{"a=2", "b=y"});
  CHECK(space.key(4) == "a=2 b=y");
  // Three variations: id = (i x 3 + j) x 2 + k for values i, j, k.
  const VariantSpace three({{"a", {"0", "1"}}, {"b", {"0", "1", "2"}}, {"c", {"0", "1"}}});
  CHECK(three.size() == 12);
  CHECK(three.values((1 * 3 + 2) * 2 + 1) == Strings{"1", "2", "1"});
}

TEST_CASE("a path varied twice, or a product no id can number, is an error") {
  const std::vector<Variation> twice{{"a", {"1"}}, {"a", {"2"}}};
  CHECK_THROWS_AS(VariantSpace{twice}, ConfigError);
  std::vector<Variation> huge;
  Strings thousand;
  for (int i = 0; i < 1000; ++i) thousand.push_back(std::to_string(i));
  for (int i = 0; i < 7; ++i) huge.push_back({"p" + std::to_string(i), thousand});  // 10^21 > 2^63
  CHECK_THROWS_AS(VariantSpace{huge}, ConfigError);
}

TEST_CASE("the table format follows the file name") {
  CHECK(sweep_format("out.csv") == SweepFormat::csv);
  CHECK(sweep_format("dir/out.jsonl") == SweepFormat::jsonl);
  CHECK_THROWS_AS(sweep_format("out.txt"), ConfigError);
}

TEST_CASE("CSV fields are quoted by RFC 4180 only when they must be") {
  CHECK(csv_field("h100") == "h100");
  CHECK(csv_field("") == "");
  CHECK(csv_field("{dp: 32, cp: 4}") == "\"{dp: 32, cp: 4}\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
}

namespace {

const Strings kPaths{"hardware.gpu", "training.phases[1].parallelism", "parallelism.pp"};

SweepRow sample_row() {
  SweepRow row;
  row.id = 7;
  row.values = {"h100", "{dp: 32, cp: 4}", "8"};
  row.result.status = VariantStatus::does_not_fit;
  row.result.reason = "a reason, with \"quotes\",\nand a second line";
  row.result.memory = Bytes(93.9070816040039 * 1024 * 1024 * 1024);
  row.result.capacity = Bytes(80e9);
  row.result.step = Seconds(0.1 + 0.2);  // 0.30000000000000004: needs 17 digits to read back
  row.result.mfu = 1.0 / 3.0;
  return row;
}

}  // namespace

TEST_CASE("a CSV row reads back field for field, numbers bit for bit, missing figures empty") {
  const SweepRow row = sample_row();
  const std::string text = format_header(kPaths, SweepFormat::csv) + format_row(row, kPaths, SweepFormat::csv);
  const SweepTable t = parse_table(text, SweepFormat::csv, "t.csv");
  CHECK(t.columns == sweep_columns(kPaths));
  CHECK(t.columns.size() == 1 + 3 + 2 + 12 + 1 + 1);  // id, paths, status and reason, figures, oracle, settings
  REQUIRE(t.records.size() == 1);
  CHECK_FALSE(t.truncated);
  CHECK(t.complete_bytes == text.size());
  const SweepRecord& r = t.records[0];
  CHECK(r.id == 7);
  CHECK(r.fields[1] == "h100");
  CHECK(r.fields[2] == "{dp: 32, cp: 4}");
  CHECK(r.fields[4] == "does-not-fit");
  CHECK(r.fields[5] == "a reason, with \"quotes\", and a second line");  // one row, one line
  CHECK(std::strtod(r.fields[6].c_str(), nullptr) == row.result.memory.value() / (1024.0 * 1024.0 * 1024.0));
  CHECK(std::strtod(r.fields[8].c_str(), nullptr) == row.result.step->value());
  CHECK(std::strtod(r.fields[10].c_str(), nullptr) == *row.result.mfu);
  CHECK(r.fields[9].empty());      // tokens_per_s_per_gpu: not set
  CHECK(r.fields.back().empty());  // oracle: step depth
  CHECK(r.text == format_row(row, kPaths, SweepFormat::csv));
}

TEST_CASE("a JSON-lines row is one flat object; numeric values stay numbers and read back as written") {
  const SweepRow row = sample_row();
  const std::string line = format_row(row, kPaths, SweepFormat::jsonl);
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(line.starts_with(R"({"id":7,"hardware.gpu":"h100","training.phases[1].parallelism":"{dp: 32, cp: 4}",)"
                         R"("parallelism.pp":8,"status":"does-not-fit",)"));
  CHECK(line.find(R"("tokens_per_s_per_gpu":null)") != std::string::npos);
  CHECK(format_header(kPaths, SweepFormat::jsonl).empty());
  const SweepTable t = parse_table(line + line, SweepFormat::jsonl, "t.jsonl");
  CHECK(t.columns == sweep_columns(kPaths));
  REQUIRE(t.records.size() == 2);
  CHECK(t.records[0].fields[3] == "8");
  CHECK(t.records[0].fields[5] == row.result.reason);
  CHECK(std::strtod(t.records[0].fields[8].c_str(), nullptr) == row.result.step->value());
  CHECK(t.records[1].text == line);
}

TEST_CASE("a last row cut short by a kill is dropped, and where the complete rows end is known") {
  const SweepRow row = sample_row();
  const std::string header = format_header(kPaths, SweepFormat::csv);
  const std::string full = format_row(row, kPaths, SweepFormat::csv);
  const std::string good = header + full;
  // Cut inside the quoted reason (an open quote at the end) and after a closed field.
  for (const std::size_t cut : {std::size_t{20}, full.size() - 3, full.size() - 1}) {
    const SweepTable t = parse_table(good + full.substr(0, cut), SweepFormat::csv, "t.csv");
    CHECK(t.truncated);
    CHECK(t.records.size() == 1);
    CHECK(t.complete_bytes == good.size());
  }
  const std::string line = format_row(row, kPaths, SweepFormat::jsonl);
  const SweepTable j = parse_table(line + line.substr(0, 30), SweepFormat::jsonl, "t.jsonl");
  CHECK(j.truncated);
  CHECK(j.records.size() == 1);
  CHECK(j.complete_bytes == line.size());
  // A header cut short: no columns yet, nothing complete.
  const SweepTable h = parse_table(header.substr(0, 10), SweepFormat::csv, "t.csv");
  CHECK(h.columns.empty());
  CHECK(h.truncated);
  CHECK(h.complete_bytes == 0);
}

TEST_CASE("a quote left open across a line break is damage, not a cut-short row: an error naming where it opened") {
  const std::string header = format_header(kPaths, SweepFormat::csv);
  const std::string row = format_row(sample_row(), kPaths, SweepFormat::csv);
  CHECK_THROWS_WITH_AS(parse_table("id,a\n0,x\n1,\"y\n2,z\n3,w\n", SweepFormat::csv, "t.csv"),
                       "t.csv:3: a quote opened on this line is never closed (the rows after it would be lost)",
                       ConfigError);
  // In a real table the quotes after the damage pair up differently, but the
  // file is refused all the same, not cut back to the rows before it.
  std::string broken = row;
  broken.insert(broken.find(",h100"), ",\"h100");
  CHECK_THROWS_AS(parse_table(header + row + broken + row + row, SweepFormat::csv, "t.csv"), ConfigError);
  // A quoted field that holds a line break and is closed (a table written by
  // hand or by an older writer) still reads.
  const SweepTable t = parse_table("id,a\n1,\"two\nlines\"\n2,b\n", SweepFormat::csv, "t.csv");
  REQUIRE(t.records.size() == 2);
  CHECK(t.records[0].fields[1] == "two\nlines");
  CHECK_FALSE(t.truncated);
}

TEST_CASE("a complete row that is malformed is an error naming its line") {
  const std::string header = format_header(kPaths, SweepFormat::csv);
  const std::string row = format_row(sample_row(), kPaths, SweepFormat::csv);
  CHECK_THROWS_WITH_AS(parse_table(header + "1,h100\n" + row, SweepFormat::csv, "t.csv"),
                       "t.csv:2: expected 20 fields, got 2", ConfigError);
  std::string bad_id = row;
  bad_id.replace(0, 1, "x");
  CHECK_THROWS_AS(parse_table(header + bad_id, SweepFormat::csv, "t.csv"), ConfigError);
  CHECK_THROWS_AS(parse_table("name,value\n", SweepFormat::csv, "t.csv"), ConfigError);  // not a sweep table
  CHECK_THROWS_AS(parse_table("{\"id\": 1, \"a\": [1]}\n", SweepFormat::jsonl, "t.jsonl"), ConfigError);
  CHECK_THROWS_AS(parse_table("{\"id\": 1, \"a\": 2}\n{\"id\": 2, \"b\": 2}\n", SweepFormat::jsonl, "t.jsonl"),
                  ConfigError);
}

namespace {

SweepTable table_of(const Strings& rows) {
  std::string text = "id,a,status\n";
  for (const std::string& r : rows) text += r + "\n";
  return parse_table(text, SweepFormat::csv, "t.csv");
}

}  // namespace

TEST_CASE("merging sorts by id, keeps a repeated row once and lists the ids missing") {
  const std::vector<SweepTable> tables{table_of({"4,x,ok", "0,p,ok"}), table_of({"2,y,ok", "4,x,ok"})};
  const Strings names{"a.csv", "b.csv"};
  const MergedTable m = merge_tables(tables, names);
  REQUIRE(m.records.size() == 3);
  CHECK(m.records[0].id == 0);
  CHECK(m.records[1].id == 2);
  CHECK(m.records[2].id == 4);
  CHECK(m.duplicates == 1);
  CHECK(m.missing == std::vector<std::int64_t>{1, 3});
  CHECK(m.missing_count == 2);
  CHECK(format_table(m.columns, m.records, SweepFormat::csv) == "id,a,status\n0,p,ok\n2,y,ok\n4,x,ok\n");
}

TEST_CASE("merging refuses one id with two different rows, and tables with different columns") {
  const Strings names{"a.csv", "b.csv"};
  const std::vector<SweepTable> conflict{table_of({"1,x,ok"}), table_of({"1,x,invalid"})};
  CHECK_THROWS_WITH_AS(merge_tables(conflict, names),
                       "id 1 differs between a.csv and b.csv: the same variant gave two results", ConfigError);
  const std::vector<SweepTable> columns{table_of({"1,x,ok"}), parse_table("id,b,status\n", SweepFormat::csv, "b")};
  CHECK_THROWS_AS(merge_tables(columns, names), ConfigError);
}

TEST_CASE("a sweep's settings are 16 hex digits of FNV-1a, and tables of other settings do not merge") {
  // FNV-1a 64 of "" is its offset basis, of "a" 0xaf63dc4c8601ec8c (the published test vectors).
  CHECK(sweep_settings("") == "cbf29ce484222325");
  CHECK(sweep_settings("a") == "af63dc4c8601ec8c");
  const std::string header = format_header(kPaths, SweepFormat::csv);
  SweepRow one = sample_row();
  one.settings = sweep_settings("run A");
  SweepRow two = sample_row();
  two.id = one.id + 1;
  two.settings = sweep_settings("run B");
  const std::vector<SweepTable> tables{
      parse_table(header + format_row(one, kPaths, SweepFormat::csv), SweepFormat::csv, "a.csv"),
      parse_table(header + format_row(two, kPaths, SweepFormat::csv), SweepFormat::csv, "b.csv")};
  const std::vector<std::string> names{"a.csv", "b.csv"};
  CHECK_THROWS_WITH_AS(merge_tables(tables, names), doctest::Contains("were written by sweeps with other settings"),
                       ConfigError);
}

TEST_CASE("a varied quantity gets a column of SI numbers beside its typed text") {
  CHECK(si_unit(std::vector<std::string>{"200 GB/s", "1.6 Tb/s"}) == "bytes_per_s");
  CHECK(si_unit(std::vector<std::string>{"$2/GPU-h", "$3.5/GPU-h"}) == "usd_per_gpu_hour");
  CHECK(si_unit(std::vector<std::string>{"80 GiB", "96 GB"}) == "bytes");
  CHECK(si_unit(std::vector<std::string>{"8", "16"}).empty());             // numbers already
  CHECK(si_unit(std::vector<std::string>{"h100", "h800"}).empty());        // names
  CHECK(si_unit(std::vector<std::string>{"200 GB/s", "80 GiB"}).empty());  // two kinds
  const std::vector<std::string> paths{"hardware.network.nic_bandwidth", "parallelism.pp"};
  const std::vector<std::string> units{"bytes_per_s", ""};
  const std::vector<std::string> columns = sweep_columns(paths, units);
  CHECK(columns[3] == "hardware.network.nic_bandwidth_bytes_per_s");
  CHECK(columns[4] == "status");
  SweepRow row;
  row.id = 3;
  row.values = {"400 Gb/s", "8"};
  row.settings = "0123456789abcdef";
  // 400 Gb/s = 400e9 bits / 8 = 5e10 bytes per second.
  const std::string csv = format_row(row, paths, SweepFormat::csv, units);
  CHECK(csv.starts_with("3,400 Gb/s,8,50000000000,"));
  const std::string json = format_row(row, paths, SweepFormat::jsonl, units);
  CHECK(json.find(R"("hardware.network.nic_bandwidth_bytes_per_s":50000000000)") != std::string::npos);
  // The table reads back with its SI column.
  const SweepTable t = parse_table(format_header(paths, SweepFormat::csv, units) + csv, SweepFormat::csv, "t.csv");
  REQUIRE(t.records.size() == 1);
  CHECK(t.records[0].fields[3] == "50000000000");
}
