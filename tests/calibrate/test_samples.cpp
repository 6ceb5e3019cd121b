// Reading raw samples: the kit's CSV contract, and located messages for
// every way a file can be wrong.
#include <doctest/doctest.h>

#include <string>

#include "calibrate/fit/fit.h"
#include "calibrate/fit/samples.h"
#include "core/error.h"

using namespace tcsim;
using namespace tcsim::calibrate;

namespace {

constexpr const char* kHead =
    "# gpu: NVIDIA H100 80GB HBM3\n"
    "# sms: 132\n"
    "# driver: 550.54.15\n"
    "# This line is a comment for people, not a key.\n"
    "family,variant,dtype,m,n,k,groups,flops,bytes,repeat,seconds\n";

std::string error_of(const std::string& text) {
  try {
    parse_samples(text, "s.csv");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a well-formed file gives its header fields and one sample per row") {
  const SampleSet s = parse_samples(std::string(kHead) +
                                        "gemm,cublaslt,bf16,4096,4096,4096,1,137438953472,0,0,2.0e-4\n"
                                        "gemm,cublaslt,bf16,4096,4096,4096,1,137438953472,0,1,2.2e-4\r\n"
                                        "\n"
                                        "hbm_copy,memcpy,bf16,0,0,0,1,0,2147483648,0,7.5e-4\n",
                                    "s.csv");
  CHECK(s.header.gpu == "NVIDIA H100 80GB HBM3");
  CHECK(s.header.sms == 132);
  CHECK(s.header.value("driver") == "550.54.15");
  CHECK(s.header.value("runtime").empty());
  REQUIRE(s.samples.size() == 3);
  CHECK(s.samples[0].family == Family::gemm);
  CHECK(s.samples[0].flops.value() == 137438953472.0);  // 2 x 4096^3
  CHECK(s.samples[1].seconds.value() == doctest::Approx(2.2e-4));
  CHECK(s.samples[1].line == 7);
  CHECK(s.samples[2].bytes.value() == 2147483648.0);
}

TEST_CASE("a file without the header line is rejected at the first row") {
  const std::string e =
      error_of("# gpu: H100\n# sms: 132\ngemm,cublaslt,bf16,4096,4096,4096,1,137438953472,0,0,2.0e-4\n");
  CHECK(e.starts_with("s.csv:3:1: expected the header line \"family,variant,dtype,"));
  CHECK(error_of("# gpu: H100\n").starts_with("s.csv:1:1: no header line"));
}

TEST_CASE("a row with the wrong number of fields names its line and the count") {
  const std::string e = error_of(std::string(kHead) + "gemm,cublaslt,bf16,4096,4096,4096,1,137438953472,0,0\n");
  CHECK(e.starts_with("s.csv:6:1: expected 11 comma-separated fields"));
  CHECK(e.find("got 10") != std::string::npos);
}

TEST_CASE("a bad number names its line, column and field") {
  // "abc" starts at column 30 of "gemm,cublaslt,bf16,4096,4096,abc,..."; "fast" at 42 of its row.
  CHECK(error_of(std::string(kHead) + "gemm,cublaslt,bf16,4096,4096,abc,1,1,0,0,2e-4\n")
            .starts_with("s.csv:6:30: k: expected a whole number above zero, got \"abc\""));
  CHECK(error_of(std::string(kHead) + "gemm,cublaslt,bf16,64,64,64,1,524288,0,0,fast\n")
            .starts_with("s.csv:6:42: seconds: expected a time in seconds above zero, got \"fast\""));
}

TEST_CASE("times that are not finite and above zero are rejected") {
  for (const std::string t : {"nan", "-1e-4", "0", "inf"}) {
    const std::string e = error_of(std::string(kHead) + "gemm,cublaslt,bf16,64,64,64,1,524288,0,0," + t + "\n");
    CAPTURE(t);
    CHECK(e.starts_with("s.csv:6:42: seconds: expected a time in seconds above zero"));
  }
}

TEST_CASE("unknown families and dtypes list what is accepted") {
  CHECK(error_of(std::string(kHead) + "gemv,x,bf16,64,64,64,1,524288,0,0,1e-5\n")
            .starts_with("s.csv:6:1: family: expected one of gemm, grouped_gemm, hbm_copy"));
  CHECK(error_of(std::string(kHead) + "gemm,x,fp16,64,64,64,1,524288,0,0,1e-5\n")
            .starts_with("s.csv:6:8: dtype: expected one of bf16, fp8_e4m3, got \"fp16\""));
}

TEST_CASE("the GPU and its SM count must be stated before the header") {
  const std::string no_sms = error_of(
      "# gpu: H100\nfamily,variant,dtype,m,n,k,groups,flops,bytes,repeat,seconds\n"
      "gemm,x,bf16,64,64,64,1,524288,0,0,1e-5\n");
  CHECK(no_sms.starts_with("s.csv:2:1: sms: expected a `# sms: N` line"));
  CHECK(error_of("# sms: 132\nfamily,variant,dtype,m,n,k,groups,flops,bytes,repeat,seconds\n")
            .starts_with("s.csv:2:1: gpu: missing"));
  CHECK(error_of(kHead).find("no samples") != std::string::npos);
}

TEST_CASE("grouped GEMM rows split their rows evenly over the groups") {
  CHECK(error_of(std::string(kHead) + "grouped_gemm,x,bf16,100,64,64,8,819200,0,0,1e-5\n")
            .starts_with("s.csv:6:21: m: expected the total rows of 8 equal groups"));
}

TEST_CASE("each shape is summarised by the median and the 10th/90th percentiles of its repeats") {
  // Five repeats 1..5 us: median 3 us; p10 at h = 0.4 -> 1.4 us; p90 at h = 3.6 -> 4.6 us (type 7).
  std::string text = kHead;
  for (const int us : {5, 1, 4, 2, 3}) text += fmt::format("gemm,x,bf16,64,64,64,1,524288,0,0,{}e-6\n", us);
  const std::vector<Point> p = summarise(parse_samples(text, "s.csv"));
  REQUIRE(p.size() == 1);
  CHECK(p[0].repeats == 5);
  CHECK(p[0].median.value() == doctest::Approx(3e-6));
  CHECK(p[0].p10.value() == doctest::Approx(1.4e-6));
  CHECK(p[0].p90.value() == doctest::Approx(4.6e-6));
}
