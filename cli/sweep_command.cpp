// `tcsim sweep`: the cross product of --vary values; each variant loaded and
// evaluated (reports/variant.h) on a pool of threads, one row per variant
// appended to a CSV or JSON-lines table by a single writer as variants
// complete. A rerun resumes, `--shard I/N` runs every N-th variant, `tcsim
// sweep merge` combines shards sorted by id, and under an MPI launcher each
// rank runs one shard and rank 0 merges them (cli/sweep_mpi.h).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/sweep_mpi.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/output_lock.h"
#include "core/parallel.h"
#include "core/text_file.h"
#include "reports/sweep_table.h"
#include "scenarios/loader.h"
#include "study/variant_space.h"

namespace tcsim::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSweepHelp =
    R"(Usage: tcsim sweep [SCENARIO] --vary PATH=V1,V2,... [--vary ...] [--set PATH=VALUE]...
                   --out FILE.csv|FILE.jsonl [--jobs N] [--shard I/N] [--depth step|run]
                   [--step-oracle step-simulation|peak-flops] [--seed N] [--restart]
       tcsim sweep merge OUT INPUT...

Evaluates every combination of the --vary values on SCENARIO (default builtin:deepseek-v3)
and writes one row per variant: its id, the value of each varied path, status (ok,
does-not-fit, invalid), reason, memory per GPU, the first phase's steady-state step, and
at --depth run the whole run's GPU-hours, wall time and dollars. docs/sweeps.md has the
columns and their units.

  --vary PATH=VALUES  values separated by commas outside {...}, [...] and quotes, each
                      YAML as --set takes it, e.g. --vary hardware.gpu=h800,h100 or
                      --vary 'training.phases[1].parallelism={dp: 32, cp: 4},{dp: 16, cp: 8}';
                      START:STOP:STEP is an inclusive range (--vary parallelism.pp=2:16:2,
                      --vary cost.owned.pue=1.1:1.5:0.1). Repeatable: the cross product, the
                      first --vary outermost; a variant's id is its index in it
  --set PATH=VALUE    override a field of every variant (applied before the --vary values)
  --out FILE          the table: CSV, or JSON lines when FILE ends in .jsonl. Rows are
                      appended in completion order and flushed one by one; `tcsim sweep
                      merge FILE FILE` sorts them by id
  --jobs N            variants evaluated at once (default: the machine's hardware threads,
                      divided among the MPI ranks of a node)
  --shard I/N         evaluate only the variants whose id % N is I - 1 (1 <= I <= N), e.g.
                      --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT in a Slurm job array
  --depth step|run    step: memory and the steady-state step only; run (default): also the
                      run-level simulation, the ledger and the R&D total
  --step-oracle NAME  the run level's step times: step-simulation (default) or peak-flops
  --seed N            seed of every variant's random draws (default 1): a variant's row
                      depends only on its scenario and the seed
  --restart           replace FILE instead of resuming it
  -h, --help          this text

Resuming: when FILE exists with this sweep's columns, the variants it holds are skipped
(a row cut short by a kill is dropped first); different columns (other --vary paths) or
values are an error (exit code 2) and FILE is left as it was. Ctrl-C stops taking new
variants, writes the rows in flight and exits with code 130; rerun the same command to
resume. Under mpirun (a build with MPI), rank r of K evaluates shard r+1/K into
FILE.rank-r and rank 0 merges them into FILE, sorted by id.
)";

constexpr std::string_view kMergeHelp = R"(Usage: tcsim sweep merge OUT INPUT...

Combines sweep tables (the shards of one sweep, or a sweep and its resumed run) into
OUT, sorted by id, written whole to a temporary file and renamed over OUT. The inputs
must have the same columns; a row found in several inputs is kept once, and one id with
two different rows is an error. Warns when the ids do not run 0, 1, ... to the largest.
OUT may be one of the inputs.
)";

// ---- Ctrl-C -----------------------------------------------------------------

// The signal that asked the sweep to stop, 0 until one does. Set only by
// on_stop_signal; a process has one set of signal handlers, so this is one too.
volatile std::sig_atomic_t stop_signal = 0;

void on_stop_signal(int sig) { stop_signal = sig; }

// SIGINT and SIGTERM set stop_signal while a sweep runs. SA_RESETHAND: a
// second Ctrl-C kills the process as it would have without the sweep.
class StopSignals {
 public:
  StopSignals() {
    stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  static bool raised() { return stop_signal != 0; }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// ---- flags ------------------------------------------------------------------

struct SweepFlags {
  std::string scenario = std::string(scenario::kDefaultScenario);
  std::vector<std::string> vary;
  std::vector<std::string> sets;
  std::optional<int> jobs;
  std::string out;
  int shard = 0;  // 0-based
  int shards = 1;
  bool shard_given = false;
  // Variants run side by side on --jobs threads, each step on one.
  study::VariantOptions options{.step = {.jobs = 1}};
  bool restart = false;
};

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

SweepFlags parse_sweep_flags(std::span<const std::string> args) {
  SweepFlags f;
  bool have_scenario = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (auto v = flag_value(args, i, "--vary", "sweep")) {
      f.vary.push_back(*v);
    } else if (auto s = flag_value(args, i, "--set", "sweep")) {
      f.sets.push_back(*s);
    } else if (auto o = flag_value(args, i, "--out", "sweep")) {
      if (o->empty()) throw ConfigError("--out needs a file name");
      f.out = *o;
    } else if (auto j = flag_value(args, i, "--jobs", "sweep")) {
      f.jobs = jobs_flag(*j);
    } else if (auto sh = flag_value(args, i, "--shard", "sweep")) {
      const auto slash = sh->find('/');
      const auto index = parse_number<int>(std::string_view(*sh).substr(0, slash));
      const auto count = slash == std::string::npos ? std::nullopt : parse_number<int>(sh->substr(slash + 1));
      if (!index || !count || *count < 1 || *index < 1 || *index > *count) {
        throw ConfigError(fmt::format("--shard: expected I/N with 1 <= I <= N, got \"{}\"", *sh));
      }
      f.shard = *index - 1;
      f.shards = *count;
      f.shard_given = true;
    } else if (auto d = flag_value(args, i, "--depth", "sweep")) {
      if (*d == "step") {
        f.options.depth = study::RunDepth::step;
      } else if (*d == "run") {
        f.options.depth = study::RunDepth::run;
      } else {
        throw ConfigError(fmt::format("--depth: expected step or run, got \"{}\"", *d));
      }
    } else if (auto so = flag_value(args, i, "--step-oracle", "sweep")) {
      if (*so != "step-simulation" && *so != "peak-flops") {
        throw ConfigError(fmt::format("--step-oracle: expected step-simulation or peak-flops, got \"{}\"", *so));
      }
      f.options.oracle = *so;
    } else if (auto sd = flag_value(args, i, "--seed", "sweep")) {
      const auto seed = parse_number<std::uint64_t>(*sd);
      if (!seed) throw ConfigError(fmt::format("--seed: expected a non-negative whole number, got \"{}\"", *sd));
      f.options.step.seed = *seed;
      f.options.run.seed = *seed;
      f.options.rnd.seed = *seed;
    } else if (args[i] == "--restart") {
      f.restart = true;
    } else if (args[i].starts_with("-") && args[i].size() > 1) {
      throw ConfigError(fmt::format("sweep: unknown flag \"{}\" (see tcsim sweep --help)", args[i]));
    } else if (!have_scenario) {
      f.scenario = args[i];
      have_scenario = true;
    } else {
      throw ConfigError(fmt::format("sweep: one scenario only; \"{}\" is a second (see tcsim sweep --help)", args[i]));
    }
  }
  if (f.vary.empty()) throw ConfigError("sweep: give at least one --vary PATH=V1,V2,... (see tcsim sweep --help)");
  if (f.out.empty()) throw ConfigError("sweep: --out FILE.csv or FILE.jsonl is required");
  return f;
}

// ---- files ------------------------------------------------------------------

// A sweep table: a regular file of at most 16 GiB (a million rows of a few
// hundred bytes is a few hundred MiB); nullopt when there is none yet.
std::optional<std::string> read_table(const std::string& path) {
  constexpr std::uintmax_t kMaxTableBytes = std::uintmax_t{16} << 30;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return std::nullopt;
  return read_text_file(path, kMaxTableBytes, "the sweep table");
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// ---- the sweep --------------------------------------------------------------

struct Sweep {
  SweepFlags flags;
  study::VariantSpace space;
  std::vector<std::string> paths;
  std::vector<std::string> si_units;  // per path: the SI unit of its column of plain numbers, or ""
  std::vector<std::string> columns;
  reports::SweepFormat format;
  std::string settings;  // reports::sweep_settings of what decides a row besides its values
};

// Everything that decides a row besides its varied values: the scenario as
// written (a file's text, or the built-in's), the --set overrides, the depth,
// the step oracle, the seed and the tool's version.
std::string settings_of(const SweepFlags& f) {
  std::string text = fmt::format("tcsim {}\nscenario {}\n", TCSIM_VERSION, f.scenario);
  text += scenario::scenario_text(f.scenario);
  for (const std::string& s : f.sets) text += "\nset " + s;
  text += fmt::format("\ndepth {}\noracle {}\nseed {}\n", f.options.depth == study::RunDepth::step ? "step" : "run",
                      f.options.oracle, f.options.step.seed);
  return reports::sweep_settings(text);
}

Sweep make_sweep(SweepFlags flags) {
  std::vector<study::Variation> variations;
  for (const std::string& v : flags.vary) variations.push_back(study::parse_variation(v));
  std::vector<std::string> si_units;
  for (const study::Variation& v : variations) si_units.push_back(reports::si_unit(v.values));
  study::VariantSpace space(std::move(variations));
  std::vector<std::string> paths = space.paths();
  std::vector<std::string> columns = reports::sweep_columns(paths, si_units);
  const reports::SweepFormat format = reports::sweep_format(flags.out);
  if (!flags.scenario.starts_with("builtin:") && !fs::exists(flags.scenario)) {
    throw ConfigError(fmt::format("{}: no such scenario file", flags.scenario));
  }
  // The table is a file: a directory or a device named by --out is refused
  // before anything runs (a symbolic link to a file is written through).
  if (std::error_code ec; fs::exists(flags.out, ec) && !fs::is_regular_file(flags.out, ec)) {
    throw ConfigError(fmt::format("--out {}: not a regular file; a sweep writes its table to a file", flags.out));
  }
  std::string settings = settings_of(flags);
  return Sweep{std::move(flags),   std::move(space), std::move(paths),   std::move(si_units),
               std::move(columns), format,           std::move(settings)};
}

// The ids a table at `path` holds, after checking it is this sweep's: the
// same columns, and each row's values those of its id. Rewrites the file
// without a last row a kill cut short, when `repair`. Throws ConfigError,
// leaving the file untouched, when it belongs to another sweep.
std::unordered_set<std::int64_t> read_done(const Sweep& sw, const std::string& path, bool repair) {
  std::unordered_set<std::int64_t> done;
  const std::optional<std::string> text = read_table(path);
  if (!text) return done;
  const reports::SweepTable t = reports::parse_table(*text, sw.format, path);
  if (!t.columns.empty() && t.columns != sw.columns) {
    // A sweep table's columns are id, the varied paths, then the fixed ones.
    const std::size_t fixed = reports::sweep_columns({}).size();
    const bool sweep_table =
        t.columns.size() >= fixed && std::equal(sw.columns.end() - static_cast<long>(fixed - 1), sw.columns.end(),
                                                t.columns.end() - static_cast<long>(fixed - 1));
    const std::vector<std::string> theirs =
        sweep_table ? std::vector<std::string>(t.columns.begin() + 1, t.columns.end() - static_cast<long>(fixed - 1))
                    : t.columns;
    throw ConfigError(fmt::format(
        "{}: it holds a sweep of {} ({}), this one varies {}; the file is left as it was. Use --restart to replace "
        "it, or another --out",
        path, sweep_table ? "--vary" : "other columns", fmt::join(theirs, ", "), fmt::join(sw.paths, ", ")));
  }
  const std::size_t n = sw.paths.size();
  for (const reports::SweepRecord& r : t.records) {
    if (r.fields.back() != sw.settings) {
      throw ConfigError(fmt::format(
          "{}: row id {} was written with other settings (scenario, --set, --depth, --step-oracle, --seed or tcsim "
          "version: {}, this sweep's are {}); resume with the same command, or use --restart or another --out",
          path, r.id, r.fields.back(), sw.settings));
    }
    if (done.contains(r.id)) {
      throw ConfigError(
          fmt::format("{}: holds row id {} twice; the file is left as it was (tcsim sweep merge "
                      "drops exact copies)",
                      path, r.id));
    }
    if (r.id >= sw.space.size()) {
      throw ConfigError(
          fmt::format("{}: row id {} is beyond this sweep's {} variants: the --vary values differ; "
                      "use --restart to replace it, or another --out",
                      path, r.id, sw.space.size()));
    }
    const std::vector<std::string> values = sw.space.values(r.id);
    if (!std::equal(values.begin(), values.end(), r.fields.begin() + 1)) {
      std::vector<std::string> found;
      for (std::size_t i = 0; i < n; ++i) found.push_back(sw.paths[i] + "=" + r.fields[i + 1]);
      throw ConfigError(
          fmt::format("{}: row id {} is {}, but variant {} of this sweep is {}: the --vary values differ; use "
                      "--restart to replace it, or another --out",
                      path, r.id, fmt::join(found, " "), r.id, sw.space.key(r.id)));
    }
    done.insert(r.id);
  }
  if (repair && (t.truncated || t.complete_bytes < text->size())) {
    write_file_atomically(path, std::string_view(*text).substr(0, t.complete_bytes), "sweep");
    if (t.truncated) fmt::print(stderr, "sweep: {}: dropped a row cut short by an interruption\n", path);
  }
  return done;
}

// Opens `path` to append rows, writing the header first when it is new or empty.
File open_table(const Sweep& sw, const std::string& path) {
  const bool fresh = !fs::exists(path) || fs::file_size(path) == 0;
  File f(std::fopen(path.c_str(), fresh ? "wb" : "ab"));
  if (!f) throw ConfigError(fmt::format("{}: cannot open for writing: {}", path, std::strerror(errno)));
  if (fresh) {
    const std::string header = reports::format_header(sw.paths, sw.format, sw.si_units);
    if (std::fwrite(header.data(), 1, header.size(), f.get()) != header.size() || std::fflush(f.get()) != 0) {
      throw ConfigError(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
    }
  }
  return f;
}

std::string compact_duration(double s) {
  const auto t = static_cast<long>(s + 0.5);
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, t % 3600 / 60);
}

std::string plain_duration(double s) {
  const auto t = static_cast<long>(s + 0.5);
  if (t < 60) return fmt::format("{} s", t);
  if (t < 3600) return fmt::format("{} min {} s", t / 60, t % 60);
  return fmt::format("{} h {} min", t / 3600, t % 3600 / 60);
}

// Progress on stderr: one updating line on a terminal (redrawn at most ten
// times a second), otherwise a line every 5% of the work (at most one a
// second) or every 10 s.
class Progress {
 public:
  Progress(std::int64_t total, std::int64_t done_before, bool enabled)
      : total_(total),
        before_(done_before),
        enabled_(enabled && total > done_before),
        tty_(::isatty(STDERR_FILENO) != 0),
        start_(Clock::now()),
        last_(start_),
        step_(std::max<std::int64_t>(1, (total - done_before + 19) / 20)),
        next_line_(step_) {}

  // `written`: rows written so far by this run.
  void update(std::int64_t written) {
    if (!enabled_ || written == shown_) return;
    const auto now = Clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    const bool due =
        tty_ ? since >= 0.1 || written == total_ - before_ : since >= 10 || (written >= next_line_ && since >= 1);
    if (!due) return;
    last_ = now;
    shown_ = written;
    next_line_ = (written / step_ + 1) * step_;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(written) / elapsed : 0;
    const std::int64_t done = before_ + written;
    const std::string left =
        rate > 0 ? (tty_ ? compact_duration : plain_duration)(static_cast<double>(total_ - done) / rate) : "?";
    if (tty_) {
      constexpr int kWidth = 30;
      const auto filled = static_cast<int>(kWidth * done / std::max<std::int64_t>(total_, 1));
      fmt::print(stderr, "\r[{}{}] {}/{}  {:.1f}/s  ETA {}  ", std::string(static_cast<std::size_t>(filled), '#'),
                 std::string(static_cast<std::size_t>(kWidth - filled), '.'), done, total_, rate, left);
      drawn_ = true;
    } else {
      fmt::print(stderr, "sweep: {}/{} done, {:.1f}/s, {} left\n", done, total_, rate, left);
    }
    std::fflush(stderr);
  }

  // Ends the terminal line before the summary.
  void finish() {
    if (drawn_) fmt::print(stderr, "\n");
    drawn_ = false;
  }

 private:
  std::int64_t total_;
  std::int64_t before_;
  bool enabled_;
  bool tty_;
  Clock::time_point start_;
  Clock::time_point last_;
  std::int64_t step_;  // rows between plain lines
  std::int64_t next_line_;
  std::int64_t shown_ = 0;  // rows written when the last line was drawn
  bool drawn_ = false;
};

struct ShardOutcome {
  std::int64_t total = 0;        // variants in the shard
  std::int64_t done_before = 0;  // already in the table(s)
  std::int64_t written = 0;
  std::int64_t by_status[3] = {0, 0, 0};  // ok, does-not-fit, invalid
  std::int64_t internal_errors = 0;
  std::optional<reports::SweepRow> first_invalid;  // the invalid row of the lowest id
  bool interrupted = false;
  double elapsed_s = 0;
};

reports::SweepRow evaluate(const Sweep& sw, std::int64_t id, study::StepMemo& memo, bool& internal_error) {
  reports::SweepRow row;
  row.id = id;
  row.values = sw.space.values(id);
  row.settings = sw.settings;
  std::vector<std::string> sets = sw.flags.sets;
  const std::vector<std::string> overrides = sw.space.overrides(id);
  sets.insert(sets.end(), overrides.begin(), overrides.end());
  try {
    const scenario::Scenario s = scenario::load_scenario(sw.flags.scenario, sets);
    row.result = study::evaluate_variant(s, sw.flags.options, memo);
  } catch (const ConfigError& e) {
    row.result = {};
    row.result.status = study::VariantStatus::invalid;
    row.result.reason = e.what();
  } catch (const std::exception& e) {
    // A bug of ours, not the user's: the row says so, and the sweep exits
    // with code 1 once every other variant has its row.
    row.result = {};
    row.result.status = study::VariantStatus::invalid;
    row.result.reason = fmt::format("internal error: {}", e.what());
    internal_error = true;
  }
  return row;
}

// Evaluates the variants of shard `shard` of `shards` that neither `path` nor
// `done_elsewhere` holds, appending their rows to `path` as they complete.
ShardOutcome run_shard(const Sweep& sw, const std::string& path, int shard, int shards, int jobs,
                       const std::unordered_set<std::int64_t>& done_elsewhere, bool show_progress) {
  ShardOutcome o;
  const std::int64_t size = sw.space.size();
  o.total = shard < size ? (size - shard + shards - 1) / shards : 0;
  std::unordered_set<std::int64_t> done = read_done(sw, path, true);
  done.insert(done_elsewhere.begin(), done_elsewhere.end());
  for (const std::int64_t id : done) o.done_before += id % shards == shard ? 1 : 0;
  const File table = open_table(sw, path);

  // Workers take the shard's k-th variant (id = shard + k x shards) in turn
  // (parallel_for on a runner thread); this thread appends their rows.
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<reports::SweepRow> finished;
  bool all_done = false;  // guarded by `mutex`
  std::atomic<std::int64_t> internal_errors{0};
  // Steps already simulated, shared by the workers: variants that differ in
  // what a step never reads (prices, reliability, later phases) reuse them.
  study::StepMemo memo;
  const std::int64_t in_shard = shard < size ? (size - shard + shards - 1) / shards : 0;
  const auto evaluate_one = [&](std::int64_t k) {
    const std::int64_t id = shard + k * shards;
    if (done.contains(id)) return;
    bool internal = false;
    reports::SweepRow row = evaluate(sw, id, memo, internal);
    if (internal) ++internal_errors;
    const std::lock_guard lock(mutex);
    finished.push_back(std::move(row));
    ready.notify_one();
  };
  const auto stopping = [&] { return stop.load() || StopSignals::raised(); };

  Progress progress(o.total, o.done_before, show_progress);
  const auto start = Clock::now();
  {
    // Declared after the runner, so destroyed first: a writer that throws
    // stops the runner before the runner is joined.
    struct StopOnExit {
      std::atomic<bool>& stop;
      ~StopOnExit() { stop = true; }
    };
    std::jthread runner([&] {
      parallel_for(in_shard, jobs, evaluate_one, stopping);
      const std::lock_guard lock(mutex);
      all_done = true;
      ready.notify_one();
    });
    const StopOnExit stop_on_exit{stop};
    std::unique_lock lock(mutex);
    while (true) {
      ready.wait_for(lock, std::chrono::milliseconds(200), [&] { return !finished.empty() || all_done; });
      std::deque<reports::SweepRow> rows;
      rows.swap(finished);
      const bool all_stopped = all_done;
      lock.unlock();
      for (const reports::SweepRow& row : rows) {
        const std::string text = reports::format_row(row, sw.paths, sw.format, sw.si_units);
        if (std::fwrite(text.data(), 1, text.size(), table.get()) != text.size() || std::fflush(table.get()) != 0) {
          throw std::runtime_error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
        }
        ++o.written;
        ++o.by_status[static_cast<int>(row.result.status)];
        if (row.result.status == study::VariantStatus::invalid && (!o.first_invalid || row.id < o.first_invalid->id)) {
          o.first_invalid = row;
        }
      }
      if (StopSignals::raised()) stop = true;
      progress.update(o.written);
      if (all_stopped && rows.empty()) break;
      lock.lock();
    }
  }
  ::fsync(::fileno(table.get()));
  progress.finish();
  o.internal_errors = internal_errors.load();
  o.interrupted = StopSignals::raised() && o.done_before + o.written < o.total;
  o.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  return o;
}

int default_jobs(int ranks_on_node) { return std::max(1, tcsim::default_jobs() / std::max(1, ranks_on_node)); }

void print_summary(const Sweep& sw, const ShardOutcome& o, const std::string& path, std::string_view who) {
  fmt::print(stderr,
             "{}: wrote {} rows to {} in {:.1f} s: {} ok, {} does-not-fit, {} invalid ({} of {} variants{} done)\n",
             who, o.written, path, o.elapsed_s, o.by_status[0], o.by_status[1], o.by_status[2],
             o.done_before + o.written, o.total, sw.flags.shard_given ? " of this shard" : "");
  if (o.first_invalid) {
    fmt::print(stderr, "{}: the first invalid row, id {} ({}): {}\n", who, o.first_invalid->id,
               sw.space.key(o.first_invalid->id), o.first_invalid->result.reason);
  }
  if (o.internal_errors > 0) {
    fmt::print(stderr, "{}: {} variants failed with an internal error (their rows say which)\n", who,
               o.internal_errors);
  }
}

int outcome_code(const ShardOutcome& o) {
  if (o.interrupted) return 130;
  return o.internal_errors > 0 ? 1 : 0;
}

int run_single(const Sweep& sw) {
  const StopSignals signals;
  const OutputLock lock(sw.flags.out, "sweep");  // before --restart removes anything
  if (sw.flags.restart) {
    std::error_code ec;  // a file that cannot be removed fails to open next, with a message
    fs::remove(sw.flags.out, ec);
  }
  const int jobs = sw.flags.jobs.value_or(default_jobs(1));
  const ShardOutcome o = run_shard(sw, sw.flags.out, sw.flags.shard, sw.flags.shards, jobs, {}, true);
  print_summary(sw, o, sw.flags.out, "sweep");
  if (o.interrupted) {
    fmt::print(stderr, "interrupted: {} of {} rows written; rerun the same command to resume\n",
               o.done_before + o.written, o.total);
  }
  return outcome_code(o);
}

// The per-rank tables of an MPI sweep writing `out`: OUT.rank-R files.
std::vector<std::string> rank_tables(const std::string& out) {
  std::vector<std::string> found;
  const fs::path p(out);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string prefix = p.filename().string() + ".rank-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && parse_number<int>(std::string_view(name).substr(prefix.size()))) {
      found.push_back((p.has_parent_path() ? (dir / name) : fs::path(name)).string());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

// Reads, merges and writes: the shared part of `sweep merge` and MPI rank 0.
reports::MergedTable merge_into(const std::string& out, const std::vector<std::string>& inputs,
                                reports::SweepFormat format) {
  std::vector<reports::SweepTable> tables;
  for (const std::string& in : inputs) {
    const std::optional<std::string> text = read_table(in);
    if (!text) throw ConfigError(fmt::format("{}: cannot read the sweep table (no such file)", in));
    tables.push_back(reports::parse_table(*text, format, in));
    if (tables.back().truncated) {
      fmt::print(stderr, "warning: {}: dropped its last row, cut short by an interruption\n", in);
    }
  }
  reports::MergedTable m = reports::merge_tables(tables, inputs);
  if (m.columns.empty()) throw ConfigError("sweep merge: the inputs hold no rows");
  write_file_atomically(out, reports::format_table(m.columns, m.records, format), "sweep merge");
  if (m.missing_count > 0) {
    fmt::print(stderr, "warning: ids are not contiguous from 0 to {}: {} missing ({}{})\n", m.records.back().id,
               m.missing_count, fmt::join(m.missing, ", "), m.missing_count > 10 ? ", ..." : "");
  }
  return m;
}

int run_mpi(const Sweep& sw, const MpiWorld& world) {
  if (sw.flags.shard_given) throw ConfigError("sweep: --shard and an MPI launch both split the sweep; use one");
  const StopSignals signals;
  const std::string& out = sw.flags.out;
  const std::string mine = fmt::format("{}.rank-{}", out, world.rank());
  if (sw.flags.restart) {
    if (world.rank() == 0) {
      std::error_code ec;  // a file that cannot be removed fails to open later, with a message
      fs::remove(out, ec);
      for (const std::string& t : rank_tables(out)) fs::remove(t, ec);
    }
    world.barrier();
  }
  const std::string who = fmt::format("sweep (rank {} of {})", world.rank(), world.size());
  int code = 0;
  std::string message;
  ShardOutcome o;
  std::optional<OutputLock> lock;  // taken inside the try: a refusal must reach world.max like any other
  try {
    lock.emplace(mine, "sweep");
    // Rows already merged into OUT by an earlier run count as done.
    const std::unordered_set<std::int64_t> merged = read_done(sw, out, false);
    const int jobs = sw.flags.jobs.value_or(default_jobs(world.local_size()));
    o = run_shard(sw, mine, world.rank(), world.size(), jobs, merged, world.rank() == 0);
    code = outcome_code(o);
  } catch (const ConfigError& e) {
    code = 2;
    message = e.what();
  } catch (const std::exception& e) {
    code = 1;
    message = e.what();
  }
  const int worst = world.max(code);
  if (code == 2) throw ConfigError(message);
  if (!message.empty()) throw std::runtime_error(message);
  print_summary(sw, o, mine, who);
  if (worst != 0) {
    if (world.rank() == 0) {
      fmt::print(stderr, "{}: not merged: {}; rerun the same command to resume\n", who,
                 worst == 130 ? "interrupted" : "a rank failed");
    }
    if (o.interrupted) {
      fmt::print(stderr, "interrupted: {} of {} rows of rank {} written; rerun the same command to resume\n",
                 o.done_before + o.written, o.total, world.rank());
    }
    return worst;
  }
  if (world.rank() == 0) {
    std::vector<std::string> inputs;
    if (fs::exists(out)) inputs.push_back(out);
    const std::vector<std::string> ranks = rank_tables(out);
    inputs.insert(inputs.end(), ranks.begin(), ranks.end());
    const reports::MergedTable m = merge_into(out, inputs, sw.format);
    for (const std::string& r : ranks) fs::remove(r);
    fmt::print(stderr, "sweep: merged {} rows from {} ranks into {}\n", m.records.size(), world.size(), out);
  }
  return 0;
}

int merge_command(std::span<const std::string> args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      fmt::print("{}", kMergeHelp);
      return 0;
    }
  }
  if (args.size() < 2) throw ConfigError("sweep merge: expected OUT INPUT... (see tcsim sweep merge --help)");
  const std::string out = args[0];
  const reports::SweepFormat format = reports::sweep_format(out);
  const std::vector<std::string> inputs(args.begin() + 1, args.end());
  for (const std::string& in : inputs) {
    if ((in.ends_with(".csv") || in.ends_with(".jsonl")) && reports::sweep_format(in) != format) {
      throw ConfigError(fmt::format("sweep merge: {} and {} are not the same format", in, out));
    }
  }
  const reports::MergedTable m = merge_into(out, inputs, format);
  fmt::print("merged {} rows from {} file{} into {}{}\n", m.records.size(), inputs.size(),
             inputs.size() == 1 ? "" : "s", out,
             m.duplicates > 0 ? fmt::format(" ({} duplicate rows dropped)", m.duplicates) : "");
  return 0;
}

}  // namespace

int sweep_command(std::span<const std::string> args) {
  if (!args.empty() && args[0] == "merge") return merge_command(args.subspan(1));
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      fmt::print("{}", kSweepHelp);
      return 0;
    }
  }
  // Joined first so that every rank leaves the world (MPI_Finalize), even on
  // a flag error.
  const MpiWorld world;
  const Sweep sw = make_sweep(parse_sweep_flags(args));
  if (world.size() > 1) return run_mpi(sw, world);
  return run_single(sw);
}

}  // namespace tcsim::cli
