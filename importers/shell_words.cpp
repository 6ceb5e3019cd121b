// A launch script read as the shell would split it, far enough to recover
// the arguments of its Python command (shell_words.h says what is and is
// not evaluated).
#include "importers/shell_words.h"

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "core/error.h"

namespace tcsim::importers {
namespace {

// How a piece of a word was quoted: none (expanded and split), single
// (literal: '...', a backslash escape, a command substitution kept as
// written) or double (expanded, not split).
enum class Quote { none, single, dbl };

struct Piece {
  std::string text;
  Quote quote = Quote::none;
};

enum class TokenKind { word, separator, open, close };

struct Token {
  TokenKind kind = TokenKind::word;
  std::vector<Piece> pieces;
  int line = 0;
  int column = 0;
};

class Lexer {
 public:
  Lexer(std::string_view text, const std::string& file) : s_(text), file_(file) {}

  std::vector<Token> tokens() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      const char next = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
      if (c == '\\' && (next == '\n' || (next == '\r' && i_ + 2 < s_.size() && s_[i_ + 2] == '\n'))) {
        advance();  // a line continuation: the words go on
        if (s_[i_] == '\r') advance();
        advance();
      } else if (c == ' ' || c == '\t' || c == '\r') {
        end_word();
        advance();
      } else if (c == '\n' || c == ';' || c == '|' || c == '&') {
        end_word();
        push(TokenKind::separator);
        advance();
      } else if (c == '(' || c == ')') {
        end_word();
        push(c == '(' ? TokenKind::open : TokenKind::close);
        advance();
      } else if (c == '#' && !in_word_) {
        while (i_ < s_.size() && s_[i_] != '\n') advance();
      } else if (c == '\\') {
        start_word();
        advance();
        if (i_ < s_.size()) {
          add(Quote::single, s_[i_]);
          advance();
        }
      } else if (c == '\'') {
        single_quoted();
      } else if (c == '"') {
        double_quoted();
      } else if (c == '$' && next == '(') {
        start_word();
        balanced(Quote::single, '(', ')');
      } else if (c == '$' && next == '{') {
        start_word();
        balanced(Quote::none, '{', '}');
      } else {
        start_word();
        add(Quote::none, c);
        advance();
      }
    }
    end_word();
    return std::move(out_);
  }

 private:
  void advance() {
    if (s_[i_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++i_;
  }
  void push(TokenKind kind) { out_.push_back(Token{.kind = kind, .pieces = {}, .line = line_, .column = column_}); }
  void start_word() {
    if (in_word_) return;
    word_ = Token{.kind = TokenKind::word, .pieces = {}, .line = line_, .column = column_};
    in_word_ = true;
  }
  void end_word() {
    if (in_word_) out_.push_back(std::move(word_));
    in_word_ = false;
  }
  void add(Quote q, std::string_view text) {
    if (word_.pieces.empty() || word_.pieces.back().quote != q) word_.pieces.push_back(Piece{.text = "", .quote = q});
    word_.pieces.back().text += text;
  }
  void add(Quote q, char c) { add(q, std::string_view(&c, 1)); }
  [[noreturn]] void open_at(int line, int column, std::string_view what) const {
    throw ConfigError(SourceLoc{file_, line, column}, "", fmt::format("{} is never closed", what));
  }

  void single_quoted() {
    const int line = line_;
    const int column = column_;
    start_word();
    advance();
    add(Quote::single, "");
    while (i_ < s_.size() && s_[i_] != '\'') {
      add(Quote::single, s_[i_]);
      advance();
    }
    if (i_ >= s_.size()) open_at(line, column, "a single quote");
    advance();
  }

  void double_quoted() {
    const int line = line_;
    const int column = column_;
    start_word();
    advance();
    add(Quote::dbl, "");
    while (i_ < s_.size() && s_[i_] != '"') {
      const char c = s_[i_];
      const char next = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
      if (c == '\\' && next == '\n') {
        advance();
        advance();
      } else if (c == '\\' && (next == '"' || next == '\\' || next == '$' || next == '`')) {
        advance();
        add(Quote::single, s_[i_]);  // an escaped character is literal
        advance();
      } else if (c == '$' && next == '(') {
        balanced(Quote::single, '(', ')');
      } else if (c == '$' && next == '{') {
        balanced(Quote::dbl, '{', '}');
      } else {
        add(Quote::dbl, c);
        advance();
      }
    }
    if (i_ >= s_.size()) open_at(line, column, "a double quote");
    advance();
  }

  // "$(...)" or "${...}" as written, nested pairs included.
  void balanced(Quote q, char open, char close) {
    const int line = line_;
    const int column = column_;
    std::string text(1, '$');
    advance();
    int depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      text += c;
      advance();
      if (c == open) ++depth;
      if (c == close && --depth == 0) {
        add(q, text);
        return;
      }
    }
    open_at(line, column, open == '(' ? "a \"$(\" substitution" : "a \"${\" expansion");
  }

  std::string_view s_;
  const std::string& file_;
  std::size_t i_ = 0;
  int line_ = 1;
  int column_ = 1;
  bool in_word_ = false;
  Token word_;
  std::vector<Token> out_;
};

using Variables = std::map<std::string, std::vector<std::string>, std::less<>>;

bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

std::string_view unquote(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

// Words under construction: expansions in unquoted text split at white space.
class WordBuilder {
 public:
  void literal(std::string_view text) {
    current_ += text;
    has_ = true;
  }
  void split(std::string_view text) {
    std::size_t k = 0;
    while (k < text.size()) {
      if (text[k] == ' ' || text[k] == '\t' || text[k] == '\n') {
        flush();
        ++k;
        continue;
      }
      current_ += text[k++];
      has_ = true;
    }
  }
  void flush() {
    if (has_) words_.push_back(std::move(current_));
    current_.clear();
    has_ = false;
  }
  std::vector<std::string> take() {
    flush();
    return std::move(words_);
  }

 private:
  std::vector<std::string> words_;
  std::string current_;
  bool has_ = false;
};

// "$NAME", "${NAME}", "${NAME[@]}", "${NAME:-default}" in `text`; anything
// else after a '$' stays as written.
void expand(std::string_view text, bool split, const Variables& vars, WordBuilder& out) {
  const auto emit = [&](std::string_view value) { split ? out.split(value) : out.literal(value); };
  std::size_t k = 0;
  while (k < text.size()) {
    if (text[k] != '$' || k + 1 >= text.size()) {
      out.literal(text.substr(k, 1));
      ++k;
      continue;
    }
    std::string_view name;
    std::string_view fallback;
    bool has_fallback = false;
    bool all = false;
    std::size_t end = k + 1;
    if (text[k + 1] == '{') {
      const std::size_t close = text.find('}', k + 2);
      if (close == std::string_view::npos) {
        out.literal(text.substr(k));
        return;
      }
      std::string_view body = text.substr(k + 2, close - k - 2);
      end = close + 1;
      std::size_t n = 0;
      while (n < body.size() && name_char(body[n])) ++n;
      name = body.substr(0, n);
      std::string_view rest = body.substr(n);
      if (rest == "[@]" || rest == "[*]") {
        all = true;
        rest = {};
      }
      if (rest.starts_with(":-") || rest.starts_with(":=")) {
        fallback = unquote(rest.substr(2));
        has_fallback = true;
      } else if (rest.starts_with("-") || rest.starts_with("=")) {
        fallback = unquote(rest.substr(1));
        has_fallback = true;
      } else if (!rest.empty()) {
        name = {};  // ${#X}, ${X/a/b}, ...: kept as written
      }
    } else {
      while (end < text.size() && name_char(text[end])) ++end;
      name = text.substr(k + 1, end - k - 1);
    }
    if (name.empty() || !name_start(name.front())) {
      out.literal(text.substr(k, end > k + 1 ? end - k : 1));
      k = end > k + 1 ? end : k + 1;
      continue;
    }
    const auto it = vars.find(name);
    const bool set = it != vars.end() && !(it->second.empty() || (it->second.size() == 1 && it->second[0].empty()));
    if (set) {
      if (all) {
        for (std::size_t v = 0; v < it->second.size(); ++v) {
          if (v > 0) split ? out.flush() : out.literal(" ");
          emit(it->second[v]);
        }
      } else {
        emit(it->second.front());
      }
    } else if (has_fallback) {
      emit(fallback);
    } else if (it == vars.end()) {
      out.literal(text.substr(k, end - k));  // unset: as written, so a flag's value shows what it was
    }
    k = end;
  }
}

std::vector<std::string> expand_word(const Token& t, const Variables& vars, bool split) {
  WordBuilder out;
  for (const Piece& p : t.pieces) {
    if (p.quote == Quote::single) {
      out.literal(p.text);
    } else {
      expand(p.text, split && p.quote == Quote::none, vars, out);
      if (p.quote == Quote::dbl) out.literal("");  // "" is a word
    }
  }
  return out.take();
}

// NAME= or NAME+= at the start of an unquoted word: the name, whether it
// appends, and the length of the prefix; nullopt otherwise.
struct Assignment {
  std::string name;
  bool append = false;
  std::size_t prefix = 0;
};
std::optional<Assignment> assignment(const Token& t) {
  if (t.kind != TokenKind::word || t.pieces.empty() || t.pieces[0].quote != Quote::none) return std::nullopt;
  const std::string& s = t.pieces[0].text;
  if (s.empty() || !name_start(s[0])) return std::nullopt;
  std::size_t n = 0;
  while (n < s.size() && name_char(s[n])) ++n;
  if (s.compare(n, 1, "=") == 0) return Assignment{s.substr(0, n), false, n + 1};
  if (s.compare(n, 2, "+=") == 0) return Assignment{s.substr(0, n), true, n + 2};
  return std::nullopt;
}

bool is_word(const Token& t, std::string_view text) {
  return t.kind == TokenKind::word && t.pieces.size() == 1 && t.pieces[0].quote == Quote::none &&
         t.pieces[0].text == text;
}

}  // namespace

ScriptCommand python_command(std::string_view text, const std::string& file) {
  const std::vector<Token> toks = Lexer(text, file).tokens();
  Variables vars;
  std::optional<ScriptCommand> best;
  constexpr std::array<std::string_view, 3> kGoOn{"then", "else", "do"};
  constexpr std::array<std::string_view, 4> kPrefixes{"export", "declare", "local", "readonly"};
  constexpr std::array<std::string_view, 11> kSkip{"if", "elif", "while", "until",    "for", "case",
                                                   "fi", "done", "esac",  "function", "["};
  const auto one_of = [](const Token& t, auto& words) {
    for (std::string_view w : words) {
      if (is_word(t, w)) return true;
    }
    return false;
  };
  std::size_t k = 0;
  const auto skip_statement = [&] {
    while (k < toks.size() && toks[k].kind != TokenKind::separator) ++k;
  };
  while (k < toks.size()) {
    const Token& t = toks[k];
    if (t.kind != TokenKind::word || one_of(t, kGoOn)) {
      ++k;
      continue;
    }
    if (one_of(t, kSkip)) {
      skip_statement();
      continue;
    }
    if (one_of(t, kPrefixes)) {
      ++k;
      while (k < toks.size() && toks[k].kind == TokenKind::word && !toks[k].pieces.empty() &&
             toks[k].pieces[0].text.starts_with("-")) {
        ++k;  // declare -a, export -n, ...
      }
      continue;
    }
    // Assignments, then a command (if any) in the same statement.
    while (k < toks.size()) {
      const std::optional<Assignment> a = assignment(toks[k]);
      if (!a) break;
      Token rest = toks[k];
      rest.pieces[0].text.erase(0, a->prefix);
      const bool empty = rest.pieces.size() == 1 && rest.pieces[0].text.empty();
      std::vector<std::string>& var = vars[a->name];
      if (!a->append) var.clear();
      if (empty && k + 1 < toks.size() && toks[k + 1].kind == TokenKind::open) {
        k += 2;
        while (k < toks.size() && toks[k].kind != TokenKind::close) {
          if (toks[k].kind == TokenKind::word) {
            for (std::string& w : expand_word(toks[k], vars, true)) var.push_back(std::move(w));
          }
          ++k;
        }
        if (k >= toks.size()) {
          throw ConfigError(SourceLoc{file, toks[k - 1].line, toks[k - 1].column}, a->name,
                            "the list \"(\" is never closed");
        }
        ++k;
      } else {
        std::string value;
        for (const std::string& w : expand_word(rest, vars, false)) value += w;
        if (a->append && !var.empty()) {
          var.back() += value;
        } else {
          var.push_back(value);
        }
        ++k;
      }
    }
    std::vector<Word> words;
    while (k < toks.size() && toks[k].kind == TokenKind::word) {
      for (std::string& w : expand_word(toks[k], vars, true)) {
        words.push_back(Word{.text = std::move(w), .line = toks[k].line, .column = toks[k].column});
      }
      ++k;
    }
    for (std::size_t p = 0; p < words.size(); ++p) {
      if (!words[p].text.ends_with(".py")) continue;
      ScriptCommand c{.launcher = std::vector<Word>(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(p)),
                      .program = words[p],
                      .args = std::vector<Word>(words.begin() + static_cast<std::ptrdiff_t>(p) + 1, words.end())};
      if (!best || c.args.size() >= best->args.size()) best = std::move(c);
      break;
    }
    if (k < toks.size() && toks[k].kind != TokenKind::word) ++k;
  }
  if (!best) {
    throw ConfigError(SourceLoc{file, 0, 0}, "",
                      "no command in it runs a .py program (the training command, e.g. torchrun ... "
                      "pretrain_gpt.py ARGS, is what is read)");
  }
  return *best;
}

}  // namespace tcsim::importers
