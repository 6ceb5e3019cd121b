// Builds one training step's task graph. Rules and sources: step_graph.h and
// docs/simulation.md.
#include "sim/step_graph.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "core/error.h"
#include "core/parallel.h"
#include "hardware/collective_run.h"
#include "hardware/op_time.h"
#include "model/memory.h"
#include "model/ops.h"
#include "model/params.h"
#include "sim/collective_cache.h"
#include "sim/expert_load.h"
#include "sim/random.h"

namespace tcsim::sim {

bool is_compute(TaskKind k) {
  return k == TaskKind::forward || k == TaskKind::backward_input || k == TaskKind::backward_weight ||
         k == TaskKind::optimizer;
}

bool is_comm(TaskKind k) {
  return k == TaskKind::ep_comm || k == TaskKind::tp_comm || k == TaskKind::cp_comm || k == TaskKind::dp_comm ||
         k == TaskKind::pp_comm;
}

std::string_view to_string(TaskKind k) {
  switch (k) {
    case TaskKind::forward: return "forward";
    case TaskKind::backward_input: return "backward_input";
    case TaskKind::backward_weight: return "backward_weight";
    case TaskKind::optimizer: return "optimizer";
    case TaskKind::ep_comm: return "ep";
    case TaskKind::tp_comm: return "tp";
    case TaskKind::cp_comm: return "cp";
    case TaskKind::dp_comm: return "dp";
    case TaskKind::pp_comm: return "pp";
    case TaskKind::marker: return "marker";
  }
  return "?";
}

namespace {

using model::Chunk;
using model::ChunkPass;
using model::Collective;
using model::Slot;

// Keys that keep the hash streams of different draws apart (any distinct values).
constexpr std::uint64_t kGpuSpeedSalt = 0x9e7a;

// ---------------------------------------------------------------------------
// Chunk templates: the pieces of one pass of one stage, with their order.

// Time of compute work, split into the part that scales with the tokens an
// expert receives (routed experts' GEMMs and activation) and the rest.
struct Work {
  Seconds full, shared;                // on every SM / on the SMs communication leaves
  Seconds expert_full, expert_shared;  // the routed experts' part, the same two ways
  bool empty() const { return full.value() == 0 && expert_full.value() == 0; }
};

enum class PieceKind : std::uint8_t { compute, comm };

struct Piece {
  PieceKind kind = PieceKind::compute;
  TaskKind task = TaskKind::forward;
  Work work;
  Collective collective = Collective::none;
  bool combine_traffic = false;  // EP: results back to the tokens' GPUs (combine), else tokens to experts
  Bytes bytes;                   // comm: model::Op::comm_bytes
  std::vector<int> deps;
  int layer = -1;  // the layer whose routing it follows (EP pieces, expert work)
  int first_layer = -1;
  int last_layer = -1;
  std::string name;
  std::uint16_t name_id = 0;  // interned name
};

struct ChunkTemplate {
  std::vector<Piece> pieces;
  int output = -1;                   // piece after which the chunk's output is ready
  std::vector<int> weight_of_block;  // W piece of each block (-1: none)
};

bool is_ep(Collective c) { return c == Collective::ep_dispatch || c == Collective::ep_combine; }

bool is_routed_expert_op(const model::Op& op) { return op.role == model::OpRole::routed_expert; }

bool is_shared_expert_op(const model::Op& op) { return op.role == model::OpRole::shared_expert; }

// Accumulates ops into compute segments between communication pieces.
class TemplateBuilder {
 public:
  explicit TemplateBuilder(TaskKind compute_kind) : kind_(compute_kind) {}

  void add(const model::Op& op, Seconds full, Seconds shared, int layer) {
    if (full.value() == 0 && shared.value() == 0) return;
    if (is_routed_expert_op(op)) {
      segment_.expert_full += full;
      segment_.expert_shared += shared;
    } else {
      segment_.full += full;
      segment_.shared += shared;
    }
    if (first_op_.empty()) first_op_ = op.name;
    last_op_ = op.name;
    note_layer(layer);
  }

  // Closes the open segment into a piece depending on the frontier.
  void close() {
    if (segment_.empty()) {
      if (!joins_.empty()) flush_joins_into_marker();
      return;
    }
    Piece p;
    p.kind = PieceKind::compute;
    p.task = kind_;
    p.work = segment_;
    p.deps = frontier_;
    p.deps.insert(p.deps.end(), joins_.begin(), joins_.end());
    p.first_layer = first_layer_;
    p.last_layer = last_layer_;
    p.layer = last_layer_;
    p.name = first_op_ == last_op_ ? first_op_ : first_op_ + ".." + last_op_;
    joins_.clear();
    frontier_ = {push(std::move(p))};
    segment_ = {};
    first_op_.clear();
    last_op_.clear();
    first_layer_ = last_layer_ = -1;
  }

  int comm(const model::Op& op, Collective c, bool combine_traffic, Bytes bytes, int layer, std::string name) {
    close();
    Piece p;
    p.kind = PieceKind::comm;
    p.task = is_ep(c) ? TaskKind::ep_comm : (c == Collective::cp_all_gather ? TaskKind::cp_comm : TaskKind::tp_comm);
    p.collective = c;
    p.combine_traffic = combine_traffic;
    p.bytes = bytes;
    p.deps = frontier_;
    p.layer = layer;
    p.first_layer = p.last_layer = layer;
    p.name = name.empty() ? op.name : std::move(name);
    frontier_ = {push(std::move(p))};
    return frontier_.front();
  }

  // A segment beside the main line (the shared expert beside the dispatch):
  // starts from the frontier, joins the first segment after join().
  int side(Work w, int layer, std::string name) {
    close();
    Piece p;
    p.task = kind_;
    p.work = w;
    p.deps = frontier_;
    p.layer = p.first_layer = p.last_layer = layer;
    p.name = std::move(name);
    return push(std::move(p));
  }
  void join_later(int piece) { joins_.push_back(piece); }

  // A piece off the main line that depends on the frontier (weight gradients).
  int branch(Piece p) {
    close();
    p.deps = frontier_;
    return push(std::move(p));
  }
  int chain(Piece p, int after) {
    if (after >= 0) p.deps = {after};
    return push(std::move(p));
  }

  ChunkTemplate finish() {
    close();
    if (!joins_.empty()) flush_joins_into_marker();
    t_.output = frontier_.empty() ? -1 : frontier_.back();
    return std::move(t_);
  }

 private:
  int push(Piece p) {
    t_.pieces.push_back(std::move(p));
    return static_cast<int>(t_.pieces.size() - 1);
  }
  void note_layer(int layer) {
    if (layer < 0) return;
    if (first_layer_ < 0) first_layer_ = layer;
    last_layer_ = layer;
  }
  void flush_joins_into_marker() {
    Piece p;
    p.task = kind_;
    p.deps = frontier_;
    p.deps.insert(p.deps.end(), joins_.begin(), joins_.end());
    p.name = "join";
    joins_.clear();
    frontier_ = {push(std::move(p))};
  }

  TaskKind kind_;
  ChunkTemplate t_;
  Work segment_;
  std::vector<int> frontier_;
  std::vector<int> joins_;
  std::string first_op_, last_op_;
  int first_layer_ = -1, last_layer_ = -1;
};

// ---------------------------------------------------------------------------

struct StageBlocks {
  std::vector<const model::Block*> blocks;
};

struct BlockParams {
  double dense = 0;   // per GPU
  double expert = 0;  // per GPU
};

// Everything one pipeline-rank replica carries from slot to slot.
struct ReplicaState {
  TaskId window = kNoTask;  // the marker the next slot's chunks start from
  TaskId previous_window = kNoTask;
  TaskId model_lane = kNoTask;
  TaskId dp_lane = kNoTask;
};

struct ChunkRecord {
  TaskId entry = kNoTask;
  TaskId output = kNoTask;
  TaskId done = kNoTask;
  std::vector<TaskId> weight_of_block;
};

int pass_index(ChunkPass p) {
  switch (p) {
    case ChunkPass::forward: return 0;
    case ChunkPass::backward:
    case ChunkPass::backward_input: return 1;
    case ChunkPass::backward_weight: return 2;
  }
  return 0;
}

class StepBuilder {
 public:
  StepBuilder(const StepShape& shape, const hw::ClusterTopology& topology, const StepOptions& options)
      : shape_(shape),
        plan_(shape.plan),
        topology_(topology),
        options_(options),
        layout_(plan_, topology.gpu_count(), topology.gpus_per_node()),
        cache_(topology, shape.cluster.network.nics_per_node) {}

  StepGraph build() {
    g_.names.push_back("");
    g_.labels.push_back({});  // tag 0: an unlabelled marker
    entry_tag_ = add_label({.kind = TaskKind::marker, .name = intern("entry")});
    done_tag_ = add_label({.kind = TaskKind::marker, .name = intern("done")});
    check_inputs();
    prepare_blocks();
    prepare_pipeline();
    prepare_templates();
    prepare_routing();
    prepare_engine();
    for (int rank = 0; rank < layout_.pipeline_ranks(); ++rank) instantiate_rank(rank);
    connect_handoffs();
    g_.collective_runs = cache_.runs();
    g_.collective_flows = cache_.flows();
    g_.link_patterns = cache_.take_patterns();
    return std::move(g_);
  }

 private:
  // ---- inputs -------------------------------------------------------------
  void check_inputs() {
    if (!shape_.cluster.profile) {
      throw ConfigError(
          fmt::format("hardware.calibration: the step simulation needs a calibration profile for GPU "
                      "\"{}\" (docs/calibration.md)",
                      shape_.cluster.gpu.name));
    }
    profile_ = &*shape_.cluster.profile;
    sms_ = profile_->sms;
    shared_sms_ = plan_.comm_sms > 0 ? sms_ - plan_.comm_sms : sms_;
    // scenarios/rules.h refuses both before a step is built.
    if (shared_sms_ < 1) {
      throw std::invalid_argument(fmt::format("step graph: comm_sms {} leaves no SM of {}", plan_.comm_sms, sms_));
    }
    const std::int64_t per_step = std::int64_t{plan_.dp} * plan_.micro_batch;
    if (shape_.batch <= 0 || shape_.batch % per_step != 0) {
      throw std::invalid_argument(fmt::format("step graph: batch {} does not split into dp {} x micro-batch {}",
                                              shape_.batch, plan_.dp, plan_.micro_batch));
    }
    micro_batches_ = static_cast<int>(shape_.batch / per_step);
    tokens_per_gpu_ = std::int64_t{plan_.micro_batch} * shape_.seq_len / plan_.cp;
    g_.micro_batches = micro_batches_;
    g_.tokens = shape_.batch * shape_.seq_len;
    g_.fidelity = options_.fidelity;
  }

  void prepare_blocks() {
    const model::MicroBatch mb{plan_.micro_batch, shape_.seq_len};
    blocks_ = model::build_model_blocks(shape_.model, plan_, shape_.precision, mb);
    const std::vector<int> counts = model::stage_layer_counts(shape_.model, plan_);
    stages_.resize(counts.size());
    std::size_t next = 1;  // blocks_[0] is the embedding
    for (std::size_t st = 0; st < counts.size(); ++st) {
      if (st == 0) stages_[st].blocks.push_back(&blocks_.front());
      for (int i = 0; i < counts[st]; ++i) stages_[st].blocks.push_back(&blocks_[next++]);
      if (st + 1 == counts.size()) {
        for (; next < blocks_.size(); ++next) stages_[st].blocks.push_back(&blocks_[next]);  // MTP modules, head
      }
    }
    const model::ParamCounts counted = model::count_params(shape_.model);
    for (auto& st : stages_) {
      std::vector<BlockParams> ps;
      for (const model::Block* b : st.blocks) ps.push_back(block_params(*b, counted));
      params_.push_back(std::move(ps));
    }
  }

  // Weights of a block on one GPU: non-expert weights split by tp (norms are
  // replicated; negligible), routed experts by ep x tp.
  BlockParams block_params(const model::Block& b, const model::ParamCounts& counted) const {
    BlockParams p;
    switch (b.kind) {
      case model::BlockKind::embedding: p.dense = static_cast<double>(counted.embedding) / plan_.tp; break;
      case model::BlockKind::head: p.dense = static_cast<double>(counted.head) / plan_.tp; break;
      default: {
        const model::LayerParams lp = model::layer_params(shape_.model, b.layer);
        p.dense = static_cast<double>(lp.dense) / plan_.tp;
        p.expert = static_cast<double>(lp.routed_experts) / (plan_.ep * plan_.tp);
      }
    }
    return p;
  }

  void prepare_pipeline() {
    g_.pipeline = model::make_pipeline(plan_.schedule, plan_.pp, plan_.virtual_stages, micro_batches_);
    if (g_.pipeline.stages != static_cast<int>(stages_.size())) {
      throw std::logic_error(fmt::format("step graph: {} stages for pp {} x {} virtual stages", stages_.size(),
                                         plan_.pp, plan_.virtual_stages));
    }
  }

  // ---- templates ------------------------------------------------------------
  Seconds op_seconds(const model::Op& op, model::Pass pass, int sms) const {
    return hw::op_time(op, pass, *profile_, sms).time;
  }

  void add_op(TemplateBuilder& b, const model::Op& op, model::Pass pass, bool recompute, int layer) const {
    Seconds full = op_seconds(op, pass, sms_), shared = op_seconds(op, pass, shared_sms_);
    if (recompute && op.recomputed) {
      full += op_seconds(op, model::Pass::forward, sms_);
      shared += op_seconds(op, model::Pass::forward, shared_sms_);
    }
    b.add(op, full, shared, layer);
  }

  Work side_work(const std::vector<const model::Op*>& ops, model::Pass pass, bool recompute) const {
    Work w;
    for (const model::Op* op : ops) {
      w.full += op_seconds(*op, pass, sms_);
      w.shared += op_seconds(*op, pass, shared_sms_);
      if (recompute && op->recomputed) {
        w.full += op_seconds(*op, model::Pass::forward, sms_);
        w.shared += op_seconds(*op, model::Pass::forward, shared_sms_);
      }
    }
    return w;
  }

  // DeepSeek-V3 runs the shared expert while the dispatch is in flight
  // (V3-TR §3.2.1, Fig. 4: the MLP of one chunk beside the other's
  // all-to-all); other schedules run it in line.
  bool overlaps_shared_expert() const { return model::pipeline_schedule(plan_.schedule).overlaps_expert_comm(); }

  static Bytes ep_bytes(const model::Block& b, Collective c) {
    for (const model::Op& op : b.ops) {
      if (op.collective == c) return op.comm_bytes;
    }
    return Bytes(0);
  }

  // One block's ops, in pass order, into the builder. Backward: the combine's
  // gradient travels like a dispatch in the dispatch's FP8 bytes and the
  // dispatch's gradient like a combine in BF16 (V3-TR §3.3.4: FP8 before the
  // expert up- and down-projections, BF16 combine in both directions).
  void walk_block(TemplateBuilder& b, const model::Block& block, bool backward) const {
    const model::Pass pass = backward ? model::Pass::backward_input : model::Pass::forward;
    const bool has_ep = ep_bytes(block, Collective::ep_dispatch).value() > 0;
    std::vector<const model::Op*> ops, side;
    for (const model::Op& op : block.ops) {
      if (has_ep && overlaps_shared_expert() && is_shared_expert_op(op)) {
        side.push_back(&op);
      } else {
        ops.push_back(&op);
      }
    }
    if (backward) std::reverse(ops.begin(), ops.end());
    int ep_seen = 0, side_piece = -1;
    for (const model::Op* op : ops) {
      if (op->cls != model::OpClass::comm) {
        add_op(b, *op, pass, backward, block.layer);
        continue;
      }
      if (is_ep(op->collective)) {
        if (++ep_seen == 1 && !side.empty()) {
          b.close();
          side_piece =
              b.side(side_work(side, pass, backward), block.layer, backward ? "moe.shared (bwd)" : "moe.shared");
        }
        comm_op(b, block, *op, backward, false);
        if (ep_seen == 2 && side_piece >= 0) b.join_later(side_piece);
      } else {
        comm_op(b, block, *op, backward, false);
      }
      if (backward && op->recomputed) comm_op(b, block, *op, false, true);  // full recompute re-runs it forward
    }
  }

  void comm_op(TemplateBuilder& b, const model::Block& block, const model::Op& op, bool backward,
               bool recompute) const {
    Collective c = op.collective;
    bool combine_traffic = c == Collective::ep_combine;
    Bytes bytes = op.comm_bytes;
    if (backward && is_ep(c)) {
      combine_traffic = !combine_traffic;
      bytes = ep_bytes(block, combine_traffic ? Collective::ep_combine : Collective::ep_dispatch);
    }
    std::string name = op.name;
    if (backward) name += " (bwd)";
    if (recompute) name += " (recompute)";
    b.comm(op, c, combine_traffic, bytes, block.layer, std::move(name));
  }

  // Weight gradients of one block: everything's backward_weight, the routed
  // experts' part apart.
  Piece weight_piece(const model::Block& block) const {
    Piece p;
    p.task = TaskKind::backward_weight;
    for (const model::Op& op : block.ops) {
      if (op.cls == model::OpClass::comm) continue;
      const Seconds full = op_seconds(op, model::Pass::backward_weight, sms_);
      const Seconds shared = op_seconds(op, model::Pass::backward_weight, shared_sms_);
      if (is_routed_expert_op(op)) {
        p.work.expert_full += full;
        p.work.expert_shared += shared;
      } else {
        p.work.full += full;
        p.work.shared += shared;
      }
    }
    p.layer = p.first_layer = p.last_layer = block.layer;
    p.name = block_name(block) + " weights";
    return p;
  }

  static std::string block_name(const model::Block& b) {
    switch (b.kind) {
      case model::BlockKind::embedding: return "embedding";
      case model::BlockKind::head: return "head";
      case model::BlockKind::mtp: return fmt::format("mtp{}", b.layer);
      default: return fmt::format("layer{}", b.layer);
    }
  }

  ChunkTemplate forward_template(const StageBlocks& st) const {
    TemplateBuilder b(TaskKind::forward);
    for (const model::Block* block : st.blocks) walk_block(b, *block, false);
    return b.finish();
  }

  // Input gradients, block by block from the last; with `with_weights` each
  // block's weight gradients follow its input gradients off the main line.
  ChunkTemplate backward_template(const StageBlocks& st, bool with_weights) const {
    TemplateBuilder b(TaskKind::backward_input);
    std::vector<int> weight(st.blocks.size(), -1);
    for (int i = static_cast<int>(st.blocks.size()) - 1; i >= 0; --i) {
      walk_block(b, *st.blocks[static_cast<std::size_t>(i)], true);
      if (with_weights)
        weight[static_cast<std::size_t>(i)] = b.branch(weight_piece(*st.blocks[static_cast<std::size_t>(i)]));
    }
    ChunkTemplate t = b.finish();
    t.weight_of_block = std::move(weight);
    return t;
  }

  ChunkTemplate weight_template(const StageBlocks& st) const {
    TemplateBuilder b(TaskKind::backward_weight);
    std::vector<int> weight(st.blocks.size(), -1);
    int last = -1;
    for (int i = static_cast<int>(st.blocks.size()) - 1; i >= 0; --i) {
      last = b.chain(weight_piece(*st.blocks[static_cast<std::size_t>(i)]), last);
      weight[static_cast<std::size_t>(i)] = last;
    }
    ChunkTemplate t = b.finish();
    t.output = last;
    t.weight_of_block = std::move(weight);
    return t;
  }

  void prepare_templates() {
    for (const StageBlocks& st : stages_) {
      templates_.push_back(
          {forward_template(st), backward_template(st, true), backward_template(st, false), weight_template(st)});
      for (ChunkTemplate& t : templates_.back()) {
        for (Piece& p : t.pieces) p.name_id = intern(p.name);
      }
    }
  }

  const ChunkTemplate& template_of(const Chunk& c) const {
    return templates_[static_cast<std::size_t>(c.stage)][static_cast<std::size_t>(c.pass)];
  }

  // ---- expert routing and collectives ------------------------------------------
  struct RoutingSample {
    std::vector<double> load;  // per EP position
    double token_scale = 1.0;  // real tokens / sampled tokens
    hw::RoutedTokens tokens;
  };

  RoutingShape routing_shape() const {
    return {shape_.model.moe ? shape_.model.moe->routed : 0, shape_.model.moe ? shape_.model.moe->per_token : 0,
            shape_.model.moe ? shape_.model.moe->max_nodes_per_token : 0};
  }

  hw::GroupLayout ep_group_layout() const { return {layout_.member_gpus(Group::ep, 0, 0), topology_.gpus_per_node()}; }

  // Bytes of one token copy: the op's bytes over the copies that leave a GPU
  // under uniform routing (model/ops.h: tokens x top_k x (ep-1)/ep).
  double bytes_per_token(Bytes comm_bytes) const {
    const double ep = plan_.ep;
    const double copies = static_cast<double>(tokens_per_gpu_) * routing_shape().top_k * (ep - 1.0) / ep;
    return comm_bytes.value() / copies;
  }

  void prepare_routing() {
    if (!shape_.model.moe || plan_.ep == 1) return;
    const hw::GroupLayout group = ep_group_layout();
    const RoutingShape shape = routing_shape();
    if (options_.fidelity == Fidelity::symmetric) {
      const int per_rank = balanced_tokens_per_rank(group, shape);
      RoutingSample r;
      r.tokens = balanced_routing(group, shape, per_rank);
      r.load.assign(static_cast<std::size_t>(plan_.ep), 1.0);
      r.token_scale = static_cast<double>(tokens_per_gpu_) / per_rank;
      samples_.push_back(std::move(r));
    } else {
      prepare_sampled_routing(group, shape);
    }
    prepare_expert_runs(group, shape);
  }

  void prepare_sampled_routing(const hw::GroupLayout& group, const RoutingShape& shape) {
    const Variation& v = options_.variation;
    const int k = std::max(1, v.routing_samples);
    const int per_rank = static_cast<int>(std::min<std::int64_t>(v.sample_tokens_per_rank, tokens_per_gpu_));
    samples_.resize(static_cast<std::size_t>(k));
    parallel_for(k, options_.jobs, [&](std::int64_t i) {
      hw::MoeRouting r;
      r.experts = shape.experts;
      r.top_k = shape.top_k;
      r.max_nodes = shape.max_nodes;
      const std::uint64_t seed = splitmix64(options_.seed ^ splitmix64(static_cast<std::uint64_t>(i) + 1));
      r.expert_weights = skewed_expert_weights(shape.experts, v.expert_max_violation, seed);
      r.seed = seed;
      RoutingSample& out = samples_[static_cast<std::size_t>(i)];
      out.tokens = hw::route_tokens(group, r, per_rank);
      out.load = received_load(out.tokens, plan_.ep, shape.experts);
      out.token_scale = static_cast<double>(tokens_per_gpu_) / per_rank;
    });
  }

  // The dispatch and combine of every routing sample at the byte widths the
  // model's ops use, simulated on the flow network (StepOptions::jobs threads).
  void prepare_expert_runs(const hw::GroupLayout& group, const RoutingShape& shape) {
    const model::Block* moe = nullptr;
    for (const model::Block& b : blocks_) {
      if (b.kind == model::BlockKind::moe_layer) moe = &b;
    }
    if (!moe) return;
    const Bytes dispatch = ep_bytes(*moe, Collective::ep_dispatch), combine = ep_bytes(*moe, Collective::ep_combine);
    struct Job {
      int sample;
      bool combine;
      Bytes bytes;
      CollectiveTime time;
    };
    std::vector<Job> jobs;
    for (int i = 0; i < static_cast<int>(samples_.size()); ++i) {
      for (const bool c : {false, true}) jobs.push_back({i, c, c ? combine : dispatch, {}});
    }
    parallel_for(std::ssize(jobs), options_.jobs, [&](std::int64_t j) {
      Job& job = jobs[static_cast<std::size_t>(j)];
      const RoutingSample& r = samples_[static_cast<std::size_t>(job.sample)];
      const Bytes per_token(bytes_per_token(job.bytes) * r.token_scale);
      job.time = time_collective(topology_, expert_schedule(group, r, job.combine, per_token, shape.experts));
    });
    for (const Job& job : jobs) cache_.put_time(expert_key(job.sample, job.combine, job.bytes), job.time);
  }

  static hw::Schedule expert_schedule(const hw::GroupLayout& group, const RoutingSample& r, bool combine,
                                      Bytes per_token, int experts) {
    return (combine ? hw::expert_combine(group, r.tokens, experts, per_token)
                    : hw::expert_dispatch(group, r.tokens, experts, per_token))
        .schedule;
  }

  static std::string expert_key(int sample, bool combine, Bytes bytes) {
    return fmt::format("expert {} {} {:.0f}", sample, combine ? "combine" : "dispatch", bytes.value());
  }

  int sample_of(int rank, int micro_batch, int layer, int ep_group) const {
    if (samples_.size() <= 1) return 0;
    const double u = unit_hash(options_.seed, rank, micro_batch, layer, ep_group);
    return static_cast<int>(u * static_cast<double>(samples_.size()));
  }

  Group group_of(Collective c) const {
    switch (c) {
      case Collective::ep_dispatch:
      case Collective::ep_combine: return Group::ep;
      case Collective::cp_all_gather: return Group::cp;
      default: return Group::tp;
    }
  }

  static hw::CollectiveOp ring_op(Collective c) {
    switch (c) {
      case Collective::tp_all_gather:
      case Collective::cp_all_gather: return hw::CollectiveOp::all_gather;
      case Collective::tp_reduce_scatter: return hw::CollectiveOp::reduce_scatter;
      default: return hw::CollectiveOp::all_reduce;
    }
  }

  // Memoised per (rank, group, collective, direction, bytes, sample): the
  // same collective recurs in every micro-batch.
  CollectiveUse model_collective(const Piece& p, int rank, int group_index, int sample) {
    const auto key =
        std::make_tuple(rank, group_index, static_cast<int>(p.collective), p.combine_traffic, p.bytes.value(), sample);
    const auto it = model_uses_.find(key);
    if (it != model_uses_.end()) return it->second;
    const CollectiveUse use = new_model_collective(p, rank, group_index, sample);
    model_uses_.emplace(key, use);
    return use;
  }

  CollectiveUse new_model_collective(const Piece& p, int rank, int group_index, int sample) {
    const std::vector<int> gpus = layout_.member_gpus(group_of(p.collective), rank, group_index);
    if (!is_ep(p.collective)) return cache_.ring(ring_op(p.collective), gpus, p.bytes);
    const std::string key = expert_key(sample, p.combine_traffic, p.bytes);
    if (!cache_.has_time(key))
      throw std::logic_error(fmt::format("step graph: no simulated expert traffic for {}", key));
    CollectiveUse use;
    use.time = cache_.time(key, [] { return hw::Schedule{}; });
    // Link accounting follows the mean traffic of the group (balanced
    // routing) whatever the sample: sampled traffic per concrete group would
    // cost a routing pass per group and sample.
    const hw::GroupLayout group{gpus, topology_.gpus_per_node()};
    const RoutingShape shape = routing_shape();
    const int per_rank = balanced_tokens_per_rank(group, shape);
    use.pattern = cache_.pattern(fmt::format("expert {} {}", p.combine_traffic, group_members(gpus)), [&] {
      RoutingSample mean;
      mean.tokens = balanced_routing(group, shape, per_rank);
      return expert_schedule(group, mean, p.combine_traffic, Bytes(1), shape.experts);
    });
    use.scale = bytes_per_token(p.bytes) * static_cast<double>(tokens_per_gpu_) / per_rank;
    return use;
  }

  // ---- engine -------------------------------------------------------------------
  bool full() const { return options_.fidelity == Fidelity::full; }
  int simulated_replicas() const { return full() ? layout_.replicas() : 1; }

  void prepare_engine() {
    const int gpus = layout_.pipeline_ranks() * simulated_replicas();
    std::vector<BytesPerSecond> links;
    for (const hw::Link& l : topology_.links()) links.push_back(l.bandwidth);
    g_.engine = std::make_unique<Engine>(gpus, std::move(links));
    const std::size_t tasks = estimated_tasks();
    g_.engine->reserve(tasks, 2 * tasks + tasks / 2);
    g_.traffic_use_of_task.reserve(tasks);
    for (int rank = 0; rank < layout_.pipeline_ranks(); ++rank) {
      for (int q = 0; q < simulated_replicas(); ++q) {
        g_.gpu_ids.push_back(layout_.gpu(rank, q));
        g_.pipeline_rank.push_back(rank);
        gpu_factor_.push_back(full() ? 1.0 + options_.variation.gpu_spread *
                                                 unit_hash(options_.seed, kGpuSpeedSalt, layout_.gpu(rank, q))
                                     : 1.0);
      }
    }
    records_.assign(
        static_cast<std::size_t>(micro_batches_) * stages_.size() * 3 * static_cast<std::size_t>(simulated_replicas()),
        {});
  }

  // Tasks the graph will hold: per slot a window marker, per chunk an entry
  // marker and its pieces, per stage crossing a transfer; data parallelism adds little.
  std::size_t estimated_tasks() const {
    std::size_t per_replica = 0;
    for (const std::vector<Slot>& program : g_.pipeline.programs) {
      for (const Slot& slot : program) {
        per_replica += 1;
        for (int c = 0; c < slot.count; ++c)
          per_replica += 1 + template_of(slot.chunks[static_cast<std::size_t>(c)]).pieces.size();
      }
    }
    per_replica += static_cast<std::size_t>(micro_batches_) * stages_.size() * 2;
    return per_replica * static_cast<std::size_t>(simulated_replicas()) * 21 / 20;  // 5% for data parallelism
  }

  int engine_gpu(int rank, int q) const { return rank * simulated_replicas() + q; }

  std::uint16_t intern(const std::string& name) {
    const auto [it, fresh] = name_index_.emplace(name, static_cast<std::uint16_t>(g_.names.size()));
    if (fresh) g_.names.push_back(name);
    return it->second;
  }

  std::uint32_t add_label(TaskLabel l) {
    g_.labels.push_back(l);
    return static_cast<std::uint32_t>(g_.labels.size() - 1);
  }

  TaskId add(const TaskSpec& spec, std::int32_t traffic = -1) {
    const TaskId t = g_.engine->add_task(spec);
    g_.traffic_use_of_task.push_back(traffic);
    return t;
  }

  TaskId marker(std::uint32_t tag = 0) { return add({.activity = Activity::marker, .tag = tag}); }

  std::int32_t traffic_use(int pattern, double scale) {
    const auto key = std::make_pair(pattern, scale);
    const auto it = use_index_.find(key);
    if (it != use_index_.end()) return it->second;
    g_.traffic_uses.push_back({pattern, scale});
    const auto id = static_cast<std::int32_t>(g_.traffic_uses.size() - 1);
    use_index_.emplace(key, id);
    return id;
  }

  // A collective is one task for all the simulated members of its group: a
  // delay that holds every member's communication SMs and starts when the
  // last member's inputs are ready. `key` names the instance while its slot
  // is being built; the members after the first get the same task back.
  TaskId collective_task(const CollectiveUse& use, int rank, Group g, int group_index, std::uint32_t tag,
                         std::uint64_t key) {
    if (!full() || layout_.size(g) == 1) {
      const int gpu = engine_gpu(rank, 0);
      return add({.activity = Activity::delay, .gpu = gpu, .tag = tag, .time = use.time, .holds_comm_sms = true},
                 traffic_use(use.pattern, use.scale));
    }
    const auto [it, fresh] = shared_.emplace(key, kNoTask);
    if (!fresh) return it->second;
    const std::int32_t group = gpu_group(rank, g, group_index);
    it->second = add({.activity = Activity::delay,
                      .gpu = engine_gpu(rank, layout_.members(g, group_index).front()),
                      .tag = tag,
                      .time = use.time,
                      .gpu_group = group,
                      .holds_comm_sms = true},
                     traffic_use(use.pattern, use.scale));
    return it->second;
  }

  void clear_shared() {
    shared_.clear();
    added_.clear();
  }

  std::int32_t gpu_group(int rank, Group g, int group_index) {
    const auto key = std::make_tuple(rank, static_cast<int>(g), group_index);
    const auto it = gpu_groups_.find(key);
    if (it != gpu_groups_.end()) return it->second;
    std::vector<int> gpus;
    for (const int r : layout_.members(g, group_index)) gpus.push_back(engine_gpu(rank, r));
    const std::int32_t id = g_.engine->add_gpu_group(gpus);
    gpu_groups_.emplace(key, id);
    return id;
  }

  // A lane's order between two collectives shared by several members is
  // added once, not once per member.
  void depend_once(TaskId before, TaskId after) {
    if (before == kNoTask) return;
    if (full() &&
        !added_.insert((static_cast<std::uint64_t>(before) << 32U) | static_cast<std::uint32_t>(after)).second) {
      return;
    }
    g_.engine->add_dependency(before, after);
  }

  static SimTime scaled(Seconds t, double factor) { return to_sim_time(t * factor); }

  // ---- instantiation ------------------------------------------------------
  struct SlotTags {
    std::vector<std::vector<std::uint32_t>> pieces;  // per chunk of the slot, per piece
    std::uint32_t entry = 0;
    std::uint32_t done = 0;
  };

  SlotTags tags_for(const Slot& slot) {
    SlotTags t;
    t.entry = entry_tag_;
    t.done = done_tag_;
    for (int c = 0; c < slot.count; ++c) {
      const Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
      std::vector<std::uint32_t> tags;
      for (const Piece& p : template_of(ch).pieces) {
        tags.push_back(add_label({.kind = p.work.empty() && p.kind == PieceKind::compute ? TaskKind::marker : p.task,
                                  .stage = static_cast<std::int16_t>(ch.stage),
                                  .micro_batch = ch.micro_batch,
                                  .first_layer = static_cast<std::int16_t>(p.first_layer),
                                  .last_layer = static_cast<std::int16_t>(p.last_layer),
                                  .name = p.name_id}));
      }
      t.pieces.push_back(std::move(tags));
    }
    return t;
  }

  ChunkRecord& record(const Chunk& c, int q) {
    const std::size_t i =
        ((static_cast<std::size_t>(c.micro_batch) * stages_.size() + static_cast<std::size_t>(c.stage)) * 3 +
         static_cast<std::size_t>(pass_index(c.pass))) *
            static_cast<std::size_t>(simulated_replicas()) +
        static_cast<std::size_t>(q);
    return records_[i];
  }

  // The last slot of each stage's weight gradients on this rank: its buckets
  // of gradients can be reduced after it.
  std::map<int, int> last_weight_slot(const std::vector<Slot>& program) const {
    std::map<int, int> last;
    for (int i = 0; i < static_cast<int>(program.size()); ++i) {
      for (int c = 0; c < program[static_cast<std::size_t>(i)].count; ++c) {
        const Chunk& ch = program[static_cast<std::size_t>(i)].chunks[static_cast<std::size_t>(c)];
        if (ch.pass == ChunkPass::backward || ch.pass == ChunkPass::backward_weight) last[ch.stage] = i;
      }
    }
    return last;
  }

  void instantiate_rank(int rank) {
    const std::vector<Slot>& program = g_.pipeline.programs[static_cast<std::size_t>(rank)];
    const std::map<int, int> last_w = last_weight_slot(program);
    std::vector<ReplicaState> state(static_cast<std::size_t>(simulated_replicas()));
    std::int32_t priority = 0;
    for (int i = 0; i < static_cast<int>(program.size()); ++i) {
      const Slot& slot = program[static_cast<std::size_t>(i)];
      const SlotTags tags = tags_for(slot);
      clear_shared();
      int width = 0;
      for (int c = 0; c < slot.count; ++c) {
        width = std::max(width, static_cast<int>(template_of(slot.chunks[static_cast<std::size_t>(c)]).pieces.size()));
      }
      for (int q = 0; q < simulated_replicas(); ++q) {
        instantiate_slot(rank, q, slot, tags, priority, state[static_cast<std::size_t>(q)]);
      }
      for (int c = 0; c < slot.count; ++c) {
        const Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
        const auto it = last_w.find(ch.stage);
        if (it == last_w.end() || it->second != i || !has_weights(ch.pass)) continue;
        clear_shared();
        for (int q = 0; q < simulated_replicas(); ++q)
          reduce_gradients(rank, q, ch, state[static_cast<std::size_t>(q)]);
      }
      priority += 2 * width;
    }
    clear_shared();
    for (int q = 0; q < simulated_replicas(); ++q) finish_step(rank, q, priority, state[static_cast<std::size_t>(q)]);
  }

  static bool has_weights(ChunkPass p) { return p == ChunkPass::backward || p == ChunkPass::backward_weight; }

  void instantiate_slot(int rank, int q, const Slot& slot, const SlotTags& tags, std::int32_t priority,
                        ReplicaState& st) {
    std::vector<std::pair<int, TaskId>> comms;  // (order key, task) across the slot's chunks
    std::vector<TaskId> compute;
    for (int c = 0; c < slot.count; ++c) {
      const Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
      // In an overlapped pair the backward chunk's pieces go first (V3-TR
      // Fig. 4 opens each pair with the backward chunk's MLP).
      const bool backward = ch.pass != ChunkPass::forward;
      const int offset = slot.count == 2 ? (backward ? 0 : 1) : 0;
      const int stride = slot.count == 2 ? 2 : 1;
      instantiate_chunk(rank, q, ch, tags, c, priority, offset, stride, st, comms, compute);
    }
    std::stable_sort(comms.begin(), comms.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [key, task] : comms) {
      depend_once(st.model_lane, task);
      st.model_lane = task;
    }
    const TaskId window = marker(tags.done);
    for (const TaskId t : compute) g_.engine->add_dependency(t, window);
    st.previous_window = st.window;
    st.window = window;
    // An overlapped pair sends both outputs after the pair (deepseek-ai/DualPipe
    // dualpipe.py, _forward_backward_chunk: compute both, then send both).
    if (slot.count == 2) {
      for (int c = 0; c < slot.count; ++c) record(slot.chunks[static_cast<std::size_t>(c)], q).output = window;
    }
  }

  void instantiate_chunk(int rank, int q, const Chunk& ch, const SlotTags& tags, int c, std::int32_t priority,
                         int offset, int stride, ReplicaState& st, std::vector<std::pair<int, TaskId>>& comms,
                         std::vector<TaskId>& compute) {
    const ChunkTemplate& tpl = template_of(ch);
    const std::vector<std::uint32_t>& piece_tags = tags.pieces[static_cast<std::size_t>(c)];
    ChunkRecord& rec = record(ch, q);
    rec.entry = marker(tags.entry);
    if (st.window != kNoTask) g_.engine->add_dependency(st.window, rec.entry);
    if (plan_.zero >= 3 && ch.pass != ChunkPass::backward_weight) gather_weights(rank, q, ch, rec.entry, st);
    const int gpu = engine_gpu(rank, q);
    std::vector<TaskId> task(tpl.pieces.size(), kNoTask);
    for (std::size_t i = 0; i < tpl.pieces.size(); ++i) {
      const Piece& p = tpl.pieces[i];
      const int key = static_cast<int>(i) * stride + offset;
      if (p.kind == PieceKind::comm) {
        task[i] = comm_piece(rank, q, ch, c, static_cast<int>(i), p, piece_tags[i]);
        comms.emplace_back(key, task[i]);
      } else if (p.work.empty()) {
        task[i] = marker(piece_tags[i]);
      } else {
        task[i] = compute_piece(rank, q, ch, p, gpu, priority + key, piece_tags[i]);
        compute.push_back(task[i]);
      }
      if (p.deps.empty()) g_.engine->add_dependency(rec.entry, task[i]);
      for (const int d : p.deps) g_.engine->add_dependency(task[static_cast<std::size_t>(d)], task[i]);
    }
    rec.output = tpl.output >= 0 ? task[static_cast<std::size_t>(tpl.output)] : rec.entry;
    rec.weight_of_block.clear();
    for (const int w : tpl.weight_of_block)
      rec.weight_of_block.push_back(w >= 0 ? task[static_cast<std::size_t>(w)] : kNoTask);
  }

  double expert_load(int rank, int q, const Chunk& ch, int layer) const {
    if (samples_.empty() || layer < 0) return 1.0;
    const int group = layout_.group_index(Group::ep, replica_of(q));
    const RoutingSample& r = samples_[static_cast<std::size_t>(sample_of(rank, ch.micro_batch, layer, group))];
    return r.load[static_cast<std::size_t>(layout_.position(Group::ep, replica_of(q)))];
  }

  // The cluster replica an engine replica stands for (symmetric: replica 0).
  int replica_of(int q) const { return q; }

  TaskId compute_piece(int rank, int q, const Chunk& ch, const Piece& p, int gpu, std::int32_t priority,
                       std::uint32_t tag) {
    const double f = gpu_factor_[static_cast<std::size_t>(gpu)];
    const double load = p.work.expert_full.value() > 0 ? expert_load(rank, q, ch, p.layer) : 1.0;
    TaskSpec spec{.activity = Activity::compute, .gpu = gpu, .priority = priority, .tag = tag};
    spec.time = scaled(p.work.full + p.work.expert_full * load, f);
    spec.time_shared = scaled(p.work.shared + p.work.expert_shared * load, f);
    return add(spec);
  }

  TaskId comm_piece(int rank, int q, const Chunk& ch, int c, int index, const Piece& p, std::uint32_t tag) {
    const Group g = group_of(p.collective);
    const int group_index = layout_.group_index(g, replica_of(q));
    const int sample = is_ep(p.collective) ? sample_of(rank, ch.micro_batch, p.layer, group_index) : 0;
    const CollectiveUse use = model_collective(p, rank, group_index, sample);
    const std::uint64_t key = (static_cast<std::uint64_t>(c) << 56U) ^ (static_cast<std::uint64_t>(index) << 32U) ^
                              static_cast<std::uint64_t>(group_index);
    return collective_task(use, rank, g, group_index, tag, key);
  }

  // ---- data parallelism ---------------------------------------------------
  // ZeRO-1/2/3 reduce-scatter gradients (Megatron-LM's distributed optimizer;
  // ZeRO §5), ZeRO-0 all-reduces them; non-expert weights over the dp x cp
  // ranks of a stage, routed experts over their expert-data-parallel group
  // (model/memory.h). One bucket per block, issued when the block's last
  // weight gradient of the step is done, as Megatron's bucketed overlap does.
  void reduce_gradients(int rank, int q, const Chunk& ch, ReplicaState& st) {
    const ChunkRecord& rec = record(ch, q);
    const auto& blocks = stages_[static_cast<std::size_t>(ch.stage)].blocks;
    const double grad_bytes = model::dtype_bytes(shape_.precision.grads);
    const hw::CollectiveOp op = plan_.zero >= 1 ? hw::CollectiveOp::reduce_scatter : hw::CollectiveOp::all_reduce;
    for (int b = static_cast<int>(blocks.size()) - 1; b >= 0; --b) {
      const BlockParams& p = params_[static_cast<std::size_t>(ch.stage)][static_cast<std::size_t>(b)];
      const TaskId after = rec.weight_of_block.empty() ? rec.output : rec.weight_of_block[static_cast<std::size_t>(b)];
      const std::string what = fmt::format("grads {}", block_name(*blocks[static_cast<std::size_t>(b)]));
      dp_collective(rank, q, ch.stage, Group::dp, op, Bytes(p.dense * grad_bytes), what, after, st, b);
      dp_collective(rank, q, ch.stage, Group::expert_dp, op, Bytes(p.expert * grad_bytes), what + " (experts)", after,
                    st, b);
    }
  }

  TaskId dp_collective(int rank, int q, int stage, Group g, hw::CollectiveOp op, Bytes bytes, const std::string& what,
                       TaskId after, ReplicaState& st, int bucket) {
    if (bytes.value() <= 0 || layout_.size(g) == 1) return kNoTask;
    const int group_index = layout_.group_index(g, replica_of(q));
    const CollectiveUse use = ring_use(op, g, rank, group_index, bytes);
    const std::uint32_t tag =
        dp_tag(fmt::format("{} {}", op == hw::CollectiveOp::all_gather ? "all-gather" : "reduce", what), stage);
    const std::uint64_t key = (std::uint64_t{1} << 63U) ^ (static_cast<std::uint64_t>(op) << 59U) ^
                              (static_cast<std::uint64_t>(g) << 56U) ^ (static_cast<std::uint64_t>(stage) << 40U) ^
                              (static_cast<std::uint64_t>(bucket) << 24U) ^ static_cast<std::uint64_t>(group_index);
    const TaskId t = collective_task(use, rank, g, group_index, tag, key);
    if (after != kNoTask) g_.engine->add_dependency(after, t);
    depend_once(st.dp_lane, t);
    st.dp_lane = t;
    return t;
  }

  CollectiveUse ring_use(hw::CollectiveOp op, Group g, int rank, int group_index, Bytes bytes) {
    const auto key = std::make_tuple(static_cast<int>(op), static_cast<int>(g), rank, group_index, bytes.value());
    const auto it = ring_uses_.find(key);
    if (it != ring_uses_.end()) return it->second;
    const CollectiveUse use = cache_.ring(op, layout_.member_gpus(g, rank, group_index), bytes);
    ring_uses_.emplace(key, use);
    return use;
  }

  std::uint32_t dp_tag(const std::string& name, int stage) {
    const auto key = std::make_pair(name, stage);
    const auto it = dp_tags_.find(key);
    if (it != dp_tags_.end()) return it->second;
    const std::uint32_t tag =
        add_label({.kind = TaskKind::dp_comm, .stage = static_cast<std::int16_t>(stage), .name = intern(name)});
    dp_tags_.emplace(key, tag);
    return tag;
  }

  // ZeRO-3 (ZeRO §5.3): a stage's weights are gathered before each forward
  // and backward chunk that needs them, one slot ahead (prefetch).
  void gather_weights(int rank, int q, const Chunk& ch, TaskId entry, ReplicaState& st) {
    const double weight_bytes = model::dtype_bytes(shape_.precision.weights);
    double dense = 0, expert = 0;
    for (const BlockParams& p : params_[static_cast<std::size_t>(ch.stage)]) {
      dense += p.dense;
      expert += p.expert;
    }
    const std::string what = fmt::format("weights stage {}", ch.stage);
    const int bucket = 1000 + ch.micro_batch * 4 + pass_index(ch.pass);
    for (const auto& [g, bytes] : {std::pair{Group::dp, dense}, std::pair{Group::expert_dp, expert}}) {
      const TaskId t = dp_collective(rank, q, ch.stage, g, hw::CollectiveOp::all_gather, Bytes(bytes * weight_bytes),
                                     what, st.previous_window, st, bucket);
      if (t != kNoTask) g_.engine->add_dependency(t, entry);
    }
  }

  // AdamW over the GPU's shard (Loshchilov & Hutter 2019), one fused
  // memory-bound pass: read and write the master weights and both moments,
  // read the gradient, write the working weights. Without a separate master
  // copy the working weights are read and written instead.
  Bytes optimizer_bytes(int rank) const {
    const auto& prec = shape_.precision;
    const bool separate_master = prec.master_weights != prec.weights;
    const double per_weight = 2.0 * model::dtype_bytes(separate_master ? prec.master_weights : prec.weights) +
                              2.0 * 2.0 * model::dtype_bytes(prec.optimizer_states) + model::dtype_bytes(prec.grads) +
                              (separate_master ? model::dtype_bytes(prec.weights) : 0.0);
    const double dense_shard = plan_.zero >= 1 ? layout_.size(Group::dp) : 1.0;
    const double expert_shard = plan_.zero >= 1 ? layout_.size(Group::expert_dp) : 1.0;
    double weights = 0;
    for (const int stage : stages_of_rank(rank)) {
      for (const BlockParams& p : params_[static_cast<std::size_t>(stage)]) {
        weights += p.dense / dense_shard + p.expert / expert_shard;
      }
    }
    return Bytes(weights * per_weight);
  }

  std::vector<int> stages_of_rank(int rank) const {
    std::vector<int> out;
    for (int st = 0; st < static_cast<int>(stages_.size()); ++st) {
      for (int mb : {0, micro_batches_ - 1}) {
        if (g_.pipeline.rank_of(mb, st) == rank && std::find(out.begin(), out.end(), st) == out.end())
          out.push_back(st);
      }
    }
    return out;
  }

  void finish_step(int rank, int q, std::int32_t priority, ReplicaState& st) {
    const Bytes bytes = optimizer_bytes(rank);
    const Seconds t = bytes / profile_->hbm.value;
    const double f = gpu_factor_[static_cast<std::size_t>(engine_gpu(rank, q))];
    if (optimizer_tag_ == 0)
      optimizer_tag_ = add_label({.kind = TaskKind::optimizer, .name = intern("optimizer (AdamW)")});
    const TaskId opt = add({.activity = Activity::compute,
                            .gpu = engine_gpu(rank, q),
                            .priority = priority,
                            .tag = optimizer_tag_,
                            .time = scaled(t, f),
                            .time_shared = scaled(t, f)});
    if (st.window != kNoTask) g_.engine->add_dependency(st.window, opt);
    if (st.dp_lane != kNoTask) g_.engine->add_dependency(st.dp_lane, opt);
    if (plan_.zero < 1 || plan_.zero >= 3) return;
    // ZeRO-1/2: every GPU gathers the updated weights of the others' shards.
    const double weight_bytes = model::dtype_bytes(shape_.precision.weights);
    st.dp_lane = opt;
    for (const auto& [stage, b] : buckets_of_rank(rank)) {
      const BlockParams& p = params_[static_cast<std::size_t>(stage)][static_cast<std::size_t>(b)];
      const std::string what = fmt::format(
          "weights {}", block_name(*stages_[static_cast<std::size_t>(stage)].blocks[static_cast<std::size_t>(b)]));
      dp_collective(rank, q, stage, Group::dp, hw::CollectiveOp::all_gather, Bytes(p.dense * weight_bytes), what, opt,
                    st, b);
      dp_collective(rank, q, stage, Group::expert_dp, hw::CollectiveOp::all_gather, Bytes(p.expert * weight_bytes),
                    what + " (experts)", opt, st, b);
    }
  }

  std::vector<std::pair<int, int>> buckets_of_rank(int rank) const {
    std::vector<std::pair<int, int>> out;
    for (const int stage : stages_of_rank(rank)) {
      for (int b = 0; b < static_cast<int>(stages_[static_cast<std::size_t>(stage)].blocks.size()); ++b) {
        out.emplace_back(stage, b);
      }
    }
    return out;
  }

  // ---- pipeline transfers -------------------------------------------------
  // Activations forward and their gradients backward: tokens x hidden in the
  // activation dtype per micro-batch (no sequence parallelism).
  Bytes handoff_bytes() const {
    return Bytes(static_cast<double>(tokens_per_gpu_) * shape_.model.hidden *
                 model::dtype_bytes(shape_.precision.activations));
  }

  void connect_handoffs() {
    const int stages = static_cast<int>(stages_.size());
    for (int mb = 0; mb < micro_batches_; ++mb) {
      for (int st = 0; st < stages; ++st) {
        const auto tag = [&](const char* what, int from) {
          return add_label({.kind = TaskKind::pp_comm,
                            .stage = static_cast<std::int16_t>(from),
                            .micro_batch = mb,
                            .name = intern(what)});
        };
        const std::uint32_t forward = tag("send activations", st - 1), backward = tag("send gradients", st + 1);
        for (int q = 0; q < simulated_replicas(); ++q) connect_chunk(mb, st, q, stages, forward, backward);
      }
    }
  }

  ChunkRecord* find(int mb, int stage, int pass, int q) {
    ChunkRecord& r = record({pass == 0   ? ChunkPass::forward
                             : pass == 1 ? ChunkPass::backward
                                         : ChunkPass::backward_weight,
                             mb, stage},
                            q);
    return r.entry == kNoTask ? nullptr : &r;
  }

  void connect_chunk(int mb, int st, int q, int stages, std::uint32_t forward_tag, std::uint32_t backward_tag) {
    ChunkRecord* f = find(mb, st, 0, q);
    ChunkRecord* b = find(mb, st, 1, q);
    ChunkRecord* w = find(mb, st, 2, q);
    if (!f || !b) throw std::logic_error(fmt::format("step graph: micro-batch {} misses stage {}", mb, st));
    if (st > 0) link(*find(mb, st - 1, 0, q), *f, mb, st - 1, st, q, forward_tag);
    if (st + 1 < stages) link(*find(mb, st + 1, 1, q), *b, mb, st + 1, st, q, backward_tag);
    g_.engine->add_dependency(f->output, b->entry);
    if (w) g_.engine->add_dependency(b->output, w->entry);
  }

  void link(const ChunkRecord& from, const ChunkRecord& to, int mb, int from_stage, int to_stage, int q,
            std::uint32_t tag) {
    const int src_rank = g_.pipeline.rank_of(mb, from_stage), dst_rank = g_.pipeline.rank_of(mb, to_stage);
    if (src_rank == dst_rank) {
      g_.engine->add_dependency(from.output, to.entry);
      return;
    }
    const int src = layout_.gpu(src_rank, replica_of(q)), dst = layout_.gpu(dst_rank, replica_of(q));
    const TaskId t = options_.transfers_as_flows ? flow_task(src, dst, engine_gpu(src_rank, q), tag)
                                                 : timed_transfer(src, dst, engine_gpu(src_rank, q), tag);
    g_.engine->add_dependency(from.output, t);
    g_.engine->add_dependency(t, to.entry);
  }

  // One transfer spec per GPU pair, shared by the tasks of every micro-batch.
  TaskId flow_task(int src, int dst, int gpu, std::uint32_t tag) {
    const auto [it, fresh] = transfers_.emplace(std::make_pair(src, dst), -1);
    if (fresh) {
      const hw::Route route = topology_.route(src, dst, hw::flow_key({src, dst, Bytes(0), 0}));
      it->second = g_.engine->add_transfer(route.links, route.latency, handoff_bytes());
    }
    return add(
        {.activity = Activity::transfer, .gpu = gpu, .tag = tag, .transfer = it->second, .holds_comm_sms = true});
  }

  TaskId timed_transfer(int src, int dst, int gpu, std::uint32_t tag) {
    const std::vector<int> pair{src, dst};
    const Bytes bytes = handoff_bytes();
    const SimTime t =
        cache_.time(fmt::format("send {} {:.0f}", group_shape(pair, topology_.gpus_per_node()), bytes.value()),
                    [&] { return hw::send_recv(src, dst, bytes); });
    const int pattern =
        cache_.pattern(fmt::format("send {}", group_members(pair)), [&] { return hw::send_recv(src, dst, Bytes(1)); });
    return add({.activity = Activity::delay, .gpu = gpu, .tag = tag, .time = t, .holds_comm_sms = true},
               traffic_use(pattern, bytes.value()));
  }

  // ---- state ----------------------------------------------------------------
  const StepShape& shape_;
  const model::ParallelPlan& plan_;
  const hw::ClusterTopology& topology_;
  const StepOptions& options_;
  Layout layout_;
  CollectiveCache cache_;
  const hw::CalibrationProfile* profile_ = nullptr;
  int sms_ = 0;
  int shared_sms_ = 0;
  int micro_batches_ = 0;
  std::int64_t tokens_per_gpu_ = 0;
  std::vector<model::Block> blocks_;
  std::vector<StageBlocks> stages_;
  std::vector<std::vector<BlockParams>> params_;
  std::vector<std::array<ChunkTemplate, 4>> templates_;
  std::vector<RoutingSample> samples_;
  std::vector<double> gpu_factor_;
  std::vector<ChunkRecord> records_;
  std::unordered_map<std::uint64_t, TaskId> shared_;  // collectives of the slot being built
  std::unordered_set<std::uint64_t> added_;           // dependencies into them
  std::map<std::tuple<int, int, int>, std::int32_t> gpu_groups_;
  std::map<std::pair<int, int>, std::int32_t> transfers_;
  std::map<std::pair<std::string, int>, std::uint32_t> dp_tags_;
  std::map<std::pair<int, double>, std::int32_t> use_index_;
  std::map<std::tuple<int, int, int, bool, double, int>, CollectiveUse> model_uses_;
  std::map<std::tuple<int, int, int, int, double>, CollectiveUse> ring_uses_;
  std::unordered_map<std::string, std::uint16_t> name_index_;
  std::uint32_t optimizer_tag_ = 0;
  std::uint32_t entry_tag_ = 0;
  std::uint32_t done_tag_ = 0;
  StepGraph g_;
};

}  // namespace

StepGraph build_step_graph(const StepShape& shape, const hw::ClusterTopology& topology, const StepOptions& options) {
  return StepBuilder(shape, topology, options).build();
}

}  // namespace tcsim::sim
