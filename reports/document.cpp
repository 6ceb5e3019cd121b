#include "reports/document.h"

#include <fmt/format.h>

#include "reports/charts.h"

namespace tcsim::reports::doc {
namespace {

bool numeric(const Table& t, std::size_t column) { return column < t.numeric.size() && t.numeric[column]; }

// ---- Markdown ----

std::string md_cell(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// ---- HTML ----

constexpr std::string_view kStyle = R"(
body { font-family: Helvetica, Arial, sans-serif; color: #222; max-width: 1100px; margin: 1.5em auto; padding: 0 1em;
       line-height: 1.4; font-size: 14px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; width: 100%; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.box { border: 2px solid #e15759; background: #fff8f0; padding: 0.5em 0.9em; margin: 0.6em 0 1em; }
.box ul { margin: 0.4em 0 0.2em; padding-left: 1.3em; }
.note { border-left: 4px solid #e15759; background: #fdf0f0; padding: 0.5em 0.8em; margin: 0.6em 0; }
figure { margin: 0.8em 0 1.2em; }
figcaption { font-size: 0.88em; color: #555; margin-top: 0.3em; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.6em; overflow: auto; max-height: 28em;
      font-size: 0.82em; white-space: pre-wrap; word-break: break-word; }
.meta { color: #555; font-size: 0.9em; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  h2 { break-after: avoid; }
  table, figure, .note, .box { break-inside: avoid; }
  pre { max-height: none; overflow: visible; }
  .note { background: none; }
}
)";

std::string inline_markdown(std::string_view s) {
  // **bold** only, after escaping.
  std::string esc = charts::escape(s);
  std::string out;
  bool open = false;
  for (std::size_t i = 0; i < esc.size(); ++i) {
    if (esc.compare(i, 2, "**") == 0) {
      out += open ? "</strong>" : "<strong>";
      open = !open;
      ++i;
    } else {
      out += esc[i];
    }
  }
  if (open) out += "</strong>";
  return out;
}

}  // namespace

std::string render_markdown(const std::vector<Section>& doc, const std::string& title) {
  std::string out = fmt::format("# {}\n\n", title);
  for (const Section& sec : doc) {
    out += fmt::format("## {}\n\n", sec.title);
    for (const Block& b : sec.blocks) {
      switch (b.kind) {
        case Block::Kind::paragraph: out += b.text + "\n\n"; break;
        case Block::Kind::note: out += "> **Note.** " + b.text + "\n\n"; break;
        case Block::Kind::box:
          out += "> **" + b.text + "**\n>\n";
          for (const std::string& item : b.items) out += "> - " + item + "\n";
          out += "\n";
          break;
        case Block::Kind::table: {
          out += "|";
          for (const std::string& h : b.table.header) out += " " + md_cell(h) + " |";
          out += "\n|";
          for (std::size_t i = 0; i < b.table.header.size(); ++i) out += numeric(b.table, i) ? "---:|" : "---|";
          out += "\n";
          for (const auto& row : b.table.rows) {
            out += "|";
            for (const std::string& c : row) out += " " + md_cell(c) + " |";
            out += "\n";
          }
          out += "\n";
          break;
        }
        case Block::Kind::chart:
          out += fmt::format("![{}](charts/{}.svg)\n\n*{}*\n\n", b.chart->title, b.chart->id, b.chart->caption);
          break;
        case Block::Kind::pre: out += "```\n" + b.text + (b.text.ends_with('\n') ? "" : "\n") + "```\n\n"; break;
      }
    }
  }
  return out;
}

std::string render_html(const std::vector<Section>& doc, const std::string& title) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n", charts::escape(title), kStyle);
  out += fmt::format("<h1>{}</h1>\n", charts::escape(title));
  out += "<p class=\"meta\">Written by tcsim report. Self-contained: no scripts, fonts or images are fetched.</p>\n";
  for (const Section& sec : doc) {
    out += fmt::format("<h2>{}</h2>\n", charts::escape(sec.title));
    for (const Block& b : sec.blocks) {
      switch (b.kind) {
        case Block::Kind::paragraph: out += "<p>" + inline_markdown(b.text) + "</p>\n"; break;
        case Block::Kind::note:
          out += "<div class=\"note\"><strong>Note.</strong> " + inline_markdown(b.text) + "</div>\n";
          break;
        case Block::Kind::box:
          out += "<div class=\"box\"><strong>" + inline_markdown(b.text) + "</strong>\n<ul>\n";
          for (const std::string& item : b.items) out += "<li>" + inline_markdown(item) + "</li>\n";
          out += "</ul></div>\n";
          break;
        case Block::Kind::table: {
          out += "<table>\n<tr>";
          for (std::size_t i = 0; i < b.table.header.size(); ++i) {
            out += (numeric(b.table, i) ? "<th class=\"num\">" : "<th>") + charts::escape(b.table.header[i]) + "</th>";
          }
          out += "</tr>\n";
          for (const auto& row : b.table.rows) {
            out += "<tr>";
            for (std::size_t i = 0; i < row.size(); ++i) {
              out += (numeric(b.table, i) ? "<td class=\"num\">" : "<td>") + charts::escape(row[i]) + "</td>";
            }
            out += "</tr>\n";
          }
          out += "</table>\n";
          break;
        }
        case Block::Kind::chart:
          out += fmt::format(
              "<figure id=\"chart-{}\">\n<div><strong>{}</strong></div>\n{}<figcaption>{}</figcaption>\n</figure>\n",
              b.chart->id, charts::escape(b.chart->title), b.chart->svg, charts::escape(b.chart->caption));
          break;
        case Block::Kind::pre: out += "<pre>" + charts::escape(b.text) + "</pre>\n"; break;
      }
    }
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace tcsim::reports::doc
