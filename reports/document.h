// The report as a small document (sections of paragraphs, notes, boxes,
// tables, charts and preformatted text) and its two renderings: Markdown and
// a self-contained HTML page.
#pragma once

#include <string>
#include <vector>

#include "reports/report.h"

namespace tcsim::reports::doc {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> numeric;  // per column: right-aligned figures (missing: text)
};

struct Block {
  enum class Kind { paragraph, note, box, table, chart, pre } kind = Kind::paragraph;
  std::string text;                // paragraph, note, pre; a box's heading
  std::vector<std::string> items;  // box: one line each
  Table table;
  const Chart* chart = nullptr;
};

struct Section {
  std::string title;
  std::vector<Block> blocks;
  void para(std::string t) { blocks.push_back({Block::Kind::paragraph, std::move(t), {}, {}, nullptr}); }
  void note(std::string t) { blocks.push_back({Block::Kind::note, std::move(t), {}, {}, nullptr}); }
  void box(std::string heading, std::vector<std::string> items) {
    blocks.push_back({Block::Kind::box, std::move(heading), std::move(items), {}, nullptr});
  }
  void table(Table t) { blocks.push_back({Block::Kind::table, "", {}, std::move(t), nullptr}); }
  void chart(const Chart* c) { blocks.push_back({Block::Kind::chart, "", {}, {}, c}); }
  void pre(std::string t) { blocks.push_back({Block::Kind::pre, std::move(t), {}, {}, nullptr}); }
};

std::string render_markdown(const std::vector<Section>& doc, const std::string& title);
std::string render_html(const std::vector<Section>& doc, const std::string& title);

}  // namespace tcsim::reports::doc
