#include <doctest/doctest.h>

#include <limits>

#include "core/quoted.h"
#include "reports/json.h"

using tcsim::reports::Json;

TEST_CASE("JSON objects keep insertion order and escape strings") {
  Json j = Json::object();
  j.set("b", 1);
  j.set("a", "x\"y\n");
  Json arr = Json::array();
  arr.push(true);
  arr.push(Json());
  j.set("list", std::move(arr));
  CHECK(j.dump(-1) == R"({"b":1,"a":"x\"y\n","list":[true,null]})");
}

TEST_CASE("JSON numbers round-trip and non-finite values become null") {
  Json j = Json::object();
  j.set("x", 0.1);
  j.set("big", std::int64_t{671000000000});
  j.set("nan", std::numeric_limits<double>::quiet_NaN());
  CHECK(j.dump(-1) == R"({"x":0.1,"big":671000000000,"nan":null})");
}

TEST_CASE("setting a key twice replaces its value") {
  Json j = Json::object();
  j.set("k", 1);
  j.set("k", 2);
  CHECK(j.dump(-1) == R"({"k":2})");
}

TEST_CASE("JSON unescaping: the one-letter escapes of RFC 8259 and code points as UTF-8") {
  CHECK(tcsim::json_unescaped('n') == '\n');
  CHECK(tcsim::json_unescaped('/') == '/');
  CHECK(tcsim::json_unescaped('"') == '"');
  CHECK_FALSE(tcsim::json_unescaped('u').has_value());  // needs four hex digits: the reader's business
  CHECK_FALSE(tcsim::json_unescaped('x').has_value());
  // UTF-8 of U+0041, U+00E9, U+20AC, U+1F600 (RFC 3629 §3): 41; C3 A9; E2 82 AC; F0 9F 98 80.
  std::string s;
  for (const std::uint32_t cp : {0x41U, 0xE9U, 0x20ACU, 0x1F600U}) tcsim::append_utf8(s, cp);
  CHECK(s == "\x41\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}
