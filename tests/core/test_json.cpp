#include <doctest/doctest.h>

#include <limits>

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
