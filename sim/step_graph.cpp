// Builds one training step's task graph: the step's work as data
// (model/workload.h) timed on the GPU, placed on the cluster's GPUs and
// instantiated in the schedule's order (model/schedule.h); the expert
// traffic (expert_traffic.h) and data parallelism (data_parallel.h) as their
// own parts; everything written through one StepWriter. Rules and sources:
// step_graph.h and docs/simulation.md.
#include "sim/step_graph.h"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "core/error.h"
#include "hardware/collective_run.h"
#include "hardware/op_time.h"
#include "model/memory.h"
#include "model/placement.h"
#include "model/workload.h"
#include "sim/collective_cache.h"
#include "sim/data_parallel.h"
#include "sim/expert_traffic.h"
#include "sim/piece_work.h"
#include "sim/random.h"
#include "sim/step_state.h"
#include "sim/step_writer.h"

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

bool is_ep(Collective c) { return c == Collective::ep_dispatch || c == Collective::ep_combine; }

// Time of a piece's work, split into the part that scales with the tokens an
// expert receives (routed experts' GEMMs and activation) and the rest.
using Work = PieceWork;

// A piece of a chunk on a GPU: its work timed, its name interned.
struct Timed {
  Work work;               // compute and side pieces
  std::uint16_t name = 0;  // StepGraph::names
};

TaskKind task_kind(const model::WorkPiece& p) {
  if (p.kind == model::PieceKind::comm) {
    if (is_ep(p.collective)) return TaskKind::ep_comm;
    return p.collective == Collective::cp_all_gather ? TaskKind::cp_comm : TaskKind::tp_comm;
  }
  switch (p.pass) {
    case model::Pass::forward: return TaskKind::forward;
    case model::Pass::backward_input: return TaskKind::backward_input;
    case model::Pass::backward_weight: return TaskKind::backward_weight;
  }
  return TaskKind::marker;
}

int pass_index(ChunkPass p) {
  switch (p) {
    case ChunkPass::forward: return 0;
    case ChunkPass::backward:
    case ChunkPass::backward_input: return 1;
    case ChunkPass::backward_weight: return 2;
  }
  return 0;
}

Group group_of(Collective c) {
  switch (c) {
    case Collective::ep_dispatch:
    case Collective::ep_combine: return Group::ep;
    case Collective::cp_all_gather: return Group::cp;
    default: return Group::tp;
  }
}

hw::CollectiveOp ring_op(Collective c) {
  switch (c) {
    case Collective::tp_all_gather:
    case Collective::cp_all_gather: return hw::CollectiveOp::all_gather;
    case Collective::tp_reduce_scatter: return hw::CollectiveOp::reduce_scatter;
    default: return hw::CollectiveOp::all_reduce;
  }
}

SimTime scaled(Seconds t, double factor) { return to_sim_time(t * factor); }

class StepBuilder {
 public:
  StepBuilder(const StepShape& shape, const hw::ClusterTopology& topology, const StepOptions& options,
              CollectiveStore* store)
      : shape_(shape),
        plan_(shape.plan),
        topology_(topology),
        options_(options),
        layout_(plan_, topology.gpu_count(), topology.gpus_per_node()),
        cache_(topology, shape.cluster.network.nics_per_node, store),
        w_(g_, layout_, cache_, options.fidelity == Fidelity::full, options.shared_collectives) {}

  StepGraph build() {
    g_.names.push_back("");
    g_.labels.push_back({});  // tag 0: an unlabelled marker
    entry_tag_ = w_.add_label({.kind = TaskKind::marker, .name = w_.intern("entry")});
    done_tag_ = w_.add_label({.kind = TaskKind::marker, .name = w_.intern("done")});
    prepare_work();
    time_pieces();
    experts_ = std::make_unique<ExpertTraffic>(shape_, workload_, layout_, topology_, options_, cache_, shard_tokens_);
    prepare_engine();
    data_parallel_ = std::make_unique<DataParallel>(w_, layout_, cache_, plan_, shape_.precision, workload_,
                                                    stage_weights(), g_.pipeline, *profile_, gpu_factor_);
    for (int rank = 0; rank < layout_.pipeline_ranks(); ++rank) instantiate_rank(rank);
    w_.clear_shared();
    data_parallel_->finish_steps();
    connect_handoffs();
    g_.collective_runs = cache_.runs();
    g_.collective_flows = cache_.flows();
    g_.link_patterns = cache_.take_patterns();
    return std::move(g_);
  }

  // The symmetric step's activities at their least durations (StepFloors).
  StepFloors floors() {
    if (full()) throw std::logic_error("step graph: floors are those of the symmetric step");
    cache_.set_times_only(true);
    prepare_work();
    experts_ = std::make_unique<ExpertTraffic>(shape_, workload_, layout_, topology_, options_, cache_, shard_tokens_);
    gpu_factor_.assign(static_cast<std::size_t>(layout_.pipeline_ranks() * replicas()), 1.0);
    data_parallel_ = std::make_unique<DataParallel>(w_, layout_, cache_, plan_, shape_.precision, workload_,
                                                    stage_weights(), g_.pipeline, *profile_, gpu_factor_);
    StepFloors f;
    f.ranks.resize(static_cast<std::size_t>(layout_.pipeline_ranks()));
    for (int rank = 0; rank < layout_.pipeline_ranks(); ++rank) {
      RankFloors& r = f.ranks[static_cast<std::size_t>(rank)];
      r.pieces.resize(static_cast<std::size_t>(stages()));
      r.chunk_gather.assign(static_cast<std::size_t>(stages()), 0);
      r.updated_gather.assign(static_cast<std::size_t>(stages()), 0);
      r.reduction.assign(static_cast<std::size_t>(stages()), 0);
      std::vector<char> seen(static_cast<std::size_t>(stages()), 0);
      for (const Slot& slot : g_.pipeline.programs[static_cast<std::size_t>(rank)]) {
        for (int c = 0; c < slot.count; ++c) {
          const Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
          const auto st = static_cast<std::size_t>(ch.stage);
          std::vector<std::int64_t>& ticks = r.pieces[st][static_cast<std::size_t>(ch.pass)];
          if (!ticks.empty()) continue;
          for (const model::WorkPiece& p : work_of(ch).pieces) ticks.push_back(piece_floor(rank, ch, p).count());
          if (!seen[st]) {
            seen[st] = 1;
            r.chunk_gather[st] = plan_.zero >= 3 ? data_parallel_->chunk_gather_time(rank, ch.stage).count() : 0;
            r.updated_gather[st] = data_parallel_->stage_gather_time(rank, ch.stage).count();
            r.reduction[st] = data_parallel_->reduction_time(rank, ch.stage).count();
          }
        }
      }
      r.norm = data_parallel_->norm_time(rank).count();
      r.optimizer = data_parallel_->optimizer_time(rank).count();
    }
    f.workload = std::move(workload_);
    f.pipeline = std::move(g_.pipeline);
    return f;
  }

 private:
  SimTime piece_floor(int rank, const Chunk& ch, const model::WorkPiece& p) {
    if (p.kind == model::PieceKind::comm) {
      const int group_index = layout_.group_index(group_of(p.collective), 0);
      const int sample = is_ep(p.collective) ? experts_->sample_of(rank, ch.micro_batch, p.layer, group_index) : 0;
      return model_collective(p, rank, group_index, sample).time;
    }
    if (p.empty()) return SimTime();
    return least_time(piece_work(p));  // every expert at load 1, every GPU at speed 1
  }

  // ---- inputs -------------------------------------------------------------
  // The shape checked, the chunks' work as data, the schedule's programs.
  void prepare_work() {
    check_inputs();
    workload_ = model::build_workload(shape_.model, plan_, shape_.precision, {plan_.micro_batch, shape_.seq_len});
    prepare_pipeline();
  }

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
    // Outside tensor-parallel regions (the pipeline handoff, the tokens a GPU
    // routes): its sequence shard under sequence parallelism.
    shard_tokens_ = plan_.sequence_parallel ? tokens_per_gpu_ / plan_.tp : tokens_per_gpu_;
    g_.micro_batches = micro_batches_;
    g_.tokens = shape_.batch * shape_.seq_len;
    g_.fidelity = options_.fidelity;
  }

  void prepare_pipeline() {
    g_.pipeline = model::make_pipeline(plan_.schedule, plan_.pp, plan_.virtual_stages, micro_batches_,
                                       model::combines_steps(plan_));
    if (g_.pipeline.stages != stages()) {
      throw std::logic_error(
          fmt::format("step graph: {} stages for pp {} x {} virtual stages", stages(), plan_.pp, plan_.virtual_stages));
    }
  }

  int stages() const { return static_cast<int>(workload_.stages.size()); }

  // The weights of each block of each stage on one GPU (model/placement.h),
  // the head's with the vocabulary table copy its rank may keep.
  std::vector<std::vector<model::BlockWeights>> stage_weights() const {
    const std::vector<model::BlockWeights> blocks = model::block_weights(shape_.model, plan_);
    const model::PipelineSchedule& schedule = model::pipeline_schedule(plan_.schedule);
    std::vector<std::vector<model::BlockWeights>> out;
    for (int st = 0; st < stages(); ++st) {
      std::vector<model::BlockWeights> ws;
      for (const int b : workload_.stages[static_cast<std::size_t>(st)].blocks) {
        ws.push_back(blocks[static_cast<std::size_t>(b)]);
      }
      if (st + 1 == stages()) {
        const int rank = g_.pipeline.rank_of(0, st);
        ws.back().dense += model::table_copy_weights(shape_.model, plan_,
                                                     schedule.stages_of_rank(plan_.pp, plan_.virtual_stages, rank));
      }
      out.push_back(std::move(ws));
    }
    return out;
  }

  // ---- timing -------------------------------------------------------------
  // A compute piece adds op by op, each with its recomputed forward; a side
  // piece use by use; the routed experts' part apart (sim/piece_work.h).
  Work piece_work(const model::WorkPiece& p) const {
    return sim::piece_work(workload_, p, *profile_, sms_, shared_sms_);
  }

  // Every piece's name, and the work of the pieces of every chunk the
  // programs run (a schedule runs either whole backward chunks or input- and
  // weight-gradient ones), stage by stage, chunk by chunk.
  void time_pieces() {
    const std::vector<std::array<bool, 4>> used = g_.pipeline.passes_run();
    for (std::size_t s = 0; s < workload_.stages.size(); ++s) {
      const model::StageWork& st = workload_.stages[s];
      std::array<std::vector<Timed>, 4> chunks;
      for (std::size_t c = 0; c < st.chunks.size(); ++c) {
        for (const model::WorkPiece& p : st.chunks[c].pieces) {
          const bool timed = used[s][c] && p.kind != model::PieceKind::comm;
          chunks[c].push_back({timed ? piece_work(p) : Work{}, w_.intern(p.name)});
        }
      }
      timed_.push_back(std::move(chunks));
    }
  }

  const model::ChunkWork& work_of(const Chunk& c) const { return workload_.chunk(c.stage, c.pass); }
  const std::vector<Timed>& timed_of(const Chunk& c) const {
    return timed_[static_cast<std::size_t>(c.stage)][static_cast<std::size_t>(c.pass)];
  }

  // ---- collectives of the model -------------------------------------------
  // Memoised per (rank, group, collective, direction, bytes, sample): the
  // same collective recurs in every micro-batch.
  CollectiveUse model_collective(const model::WorkPiece& p, int rank, int group_index, int sample) {
    const auto key =
        std::make_tuple(rank, group_index, static_cast<int>(p.collective), p.combine_traffic, p.bytes.value(), sample);
    const auto it = model_uses_.find(key);
    if (it != model_uses_.end()) return it->second;
    const std::vector<int> gpus = layout_.member_gpus(group_of(p.collective), rank, group_index);
    const CollectiveUse use =
        is_ep(p.collective) ? experts_->use(p, gpus, sample) : cache_.ring(ring_op(p.collective), gpus, p.bytes);
    model_uses_.emplace(key, use);
    return use;
  }

  // ---- engine ---------------------------------------------------------------
  bool full() const { return options_.fidelity == Fidelity::full; }
  int replicas() const { return w_.replicas(); }

  void prepare_engine() {
    const int gpus = layout_.pipeline_ranks() * replicas();
    std::vector<BytesPerSecond> links;
    for (const hw::Link& l : topology_.links()) links.push_back(l.bandwidth);
    g_.engine = std::make_unique<Engine>(gpus, std::move(links));
    w_.set_coflow_parts(coflow_parts());
    const std::size_t tasks = estimated_tasks();
    g_.engine->reserve(tasks, 2 * tasks + tasks / 2);
    g_.traffic_use_of_task.reserve(tasks);
    for (int rank = 0; rank < layout_.pipeline_ranks(); ++rank) {
      for (int q = 0; q < replicas(); ++q) {
        g_.gpu_ids.push_back(layout_.gpu(rank, q));
        g_.pipeline_rank.push_back(rank);
        gpu_factor_.push_back(full() ? 1.0 + options_.variation.gpu_spread *
                                                 unit_hash(options_.seed, kGpuSpeedSalt, layout_.gpu(rank, q))
                                     : 1.0);
      }
    }
    records_.assign(static_cast<std::size_t>(micro_batches_) * static_cast<std::size_t>(stages()) * 3 *
                        static_cast<std::size_t>(replicas()),
                    {});
  }

  // Where a collective's coflow parts lie (StepWriter::set_coflow_parts,
  // Engine::add_coflow). Each GPU's own links (its NVLink ports, the host and
  // access links of a NIC only it uses) are one part, so a collective is as
  // slow as its most crowded member. Full mode: links no single GPU owns
  // (switch to switch, a shared NIC) are one more part. Symmetric mode: one
  // replica of each pipeline rank stands for all, so only the simulated GPUs'
  // parts are kept (every member is taken to see what the simulated one sees);
  // elsewhere the simulation has none of the other members' own traffic to set
  // against a collective.
  std::vector<std::int32_t> coflow_parts() const {
    const auto links = topology_.links();
    const auto devices = topology_.devices();
    constexpr std::int32_t kNone = -1, kShared = -3;
    std::vector<std::int32_t> owner(devices.size(), kNone);  // device -> the one GPU it serves
    for (std::size_t d = 0; d < devices.size(); ++d) {
      if (devices[d].kind == hw::DeviceKind::gpu) owner[d] = static_cast<std::int32_t>(d);
    }
    for (const hw::Link& l : links) {  // a NIC serves the GPUs its host links join
      if (l.kind != hw::LinkKind::host) continue;
      for (const auto& [gpu, nic] : {std::pair{l.from, l.to}, std::pair{l.to, l.from}}) {
        if (devices[static_cast<std::size_t>(gpu)].kind != hw::DeviceKind::gpu) continue;
        std::int32_t& o = owner[static_cast<std::size_t>(nic)];
        o = o == kNone || o == gpu ? gpu : kShared;
      }
    }
    std::vector<char> simulated(devices.size(), full() ? 1 : 0);
    for (int rank = 0; rank < layout_.pipeline_ranks(); ++rank) {
      simulated[static_cast<std::size_t>(layout_.gpu(rank, 0))] = 1;
    }
    std::vector<std::int32_t> part(links.size(), StepWriter::kLeftOut);
    for (std::size_t i = 0; i < links.size(); ++i) {
      const hw::Link& l = links[i];
      std::int32_t gpu = kNone;
      if (l.kind != hw::LinkKind::fabric) {
        for (const hw::DeviceId d : {l.from, l.to}) {
          const std::int32_t o = owner[static_cast<std::size_t>(d)];
          if (o >= 0 && devices[static_cast<std::size_t>(d)].kind == hw::DeviceKind::gpu) gpu = o;
          if (o >= 0 && gpu == kNone) gpu = o;
        }
      }
      if (gpu >= 0) {
        if (simulated[static_cast<std::size_t>(gpu)]) part[i] = gpu;
      } else if (full()) {
        part[i] = -1;
      }
    }
    return part;
  }

  // Tasks the graph will hold: per slot a window marker, per chunk an entry
  // marker and its pieces, per stage crossing a transfer; data parallelism adds little.
  std::size_t estimated_tasks() const {
    std::size_t per_replica = 0;
    for (const std::vector<Slot>& program : g_.pipeline.programs) {
      for (const Slot& slot : program) {
        per_replica += 1;
        for (int c = 0; c < slot.count; ++c)
          per_replica += 1 + work_of(slot.chunks[static_cast<std::size_t>(c)]).pieces.size();
      }
    }
    per_replica += static_cast<std::size_t>(micro_batches_) * static_cast<std::size_t>(stages()) * 2;
    return per_replica * static_cast<std::size_t>(replicas()) * 21 / 20;  // 5% for data parallelism
  }

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
      const std::vector<model::WorkPiece>& pieces = work_of(ch).pieces;
      const std::vector<Timed>& timed = timed_of(ch);
      std::vector<std::uint32_t> tags;
      for (std::size_t i = 0; i < pieces.size(); ++i) {
        const model::WorkPiece& p = pieces[i];
        tags.push_back(w_.add_label({.kind = p.empty() ? TaskKind::marker : task_kind(p),
                                     .stage = static_cast<std::int16_t>(ch.stage),
                                     .micro_batch = ch.micro_batch,
                                     .first_layer = static_cast<std::int16_t>(p.first_layer),
                                     .last_layer = static_cast<std::int16_t>(p.last_layer),
                                     .name = timed[i].name}));
      }
      t.pieces.push_back(std::move(tags));
    }
    return t;
  }

  ChunkRecord& record(const Chunk& c, int q) {
    const std::size_t i = ((static_cast<std::size_t>(c.micro_batch) * static_cast<std::size_t>(stages()) +
                            static_cast<std::size_t>(c.stage)) *
                               3 +
                           static_cast<std::size_t>(pass_index(c.pass))) *
                              static_cast<std::size_t>(replicas()) +
                          static_cast<std::size_t>(q);
    return records_[i];
  }

  // The last slot of each stage's weight gradients on this rank: its buckets
  // of gradients can be reduced after it.
  static std::map<int, int> last_weight_slot(const std::vector<Slot>& program) {
    std::map<int, int> last;
    for (int i = 0; i < static_cast<int>(program.size()); ++i) {
      for (int c = 0; c < program[static_cast<std::size_t>(i)].count; ++c) {
        const Chunk& ch = program[static_cast<std::size_t>(i)].chunks[static_cast<std::size_t>(c)];
        if (has_weights(ch.pass)) last[ch.stage] = i;
      }
    }
    return last;
  }

  static bool has_weights(ChunkPass p) { return p == ChunkPass::backward || p == ChunkPass::backward_weight; }

  void instantiate_rank(int rank) {
    const std::vector<Slot>& program = g_.pipeline.programs[static_cast<std::size_t>(rank)];
    const std::map<int, int> last_w = last_weight_slot(program);
    std::vector<Chunk> deferred;  // without overlap_grad_reduce: reduced after the rank's last slot
    std::vector<ReplicaState> state(static_cast<std::size_t>(replicas()));
    std::int32_t priority = 0;
    for (int i = 0; i < static_cast<int>(program.size()); ++i) {
      const Slot& slot = program[static_cast<std::size_t>(i)];
      const SlotTags tags = tags_for(slot);
      w_.clear_shared();
      int width = 0;
      for (int c = 0; c < slot.count; ++c) {
        width = std::max(width, static_cast<int>(work_of(slot.chunks[static_cast<std::size_t>(c)]).pieces.size()));
      }
      for (int q = 0; q < replicas(); ++q) {
        instantiate_slot(rank, q, slot, tags, priority, state[static_cast<std::size_t>(q)]);
      }
      for (int c = 0; c < slot.count; ++c) {
        const Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
        const auto it = last_w.find(ch.stage);
        if (it == last_w.end() || it->second != i || !has_weights(ch.pass)) continue;
        if (!plan_.overlap_grad_reduce) {
          deferred.push_back(ch);
          continue;
        }
        w_.clear_shared();
        for (int q = 0; q < replicas(); ++q) {
          data_parallel_->reduce_gradients(rank, q, ch.stage, record(ch, q), state[static_cast<std::size_t>(q)]);
        }
      }
      priority += (plan_.delay_wgrad_compute ? 4 : 2) * width;  // room for the delayed weight gradients
    }
    for (const Chunk& ch : deferred) {
      w_.clear_shared();
      for (int q = 0; q < replicas(); ++q) {
        ReplicaState& st = state[static_cast<std::size_t>(q)];
        data_parallel_->reduce_gradients(rank, q, ch.stage, record(ch, q), st, st.window);
      }
    }
    w_.clear_shared();
    for (int q = 0; q < replicas(); ++q) {
      data_parallel_->finish_step(rank, q, priority, state[static_cast<std::size_t>(q)]);
    }
  }

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
    // One lane for the pair's collectives in the interleaved order: DualPipe
    // (V3-TR Fig. 4) and Megatron-Core's combined 1F1B both issue them on one
    // communication stream.
    for (const auto& [key, task] : comms) {
      w_.depend_once(st.model_lane, task);
      st.model_lane = task;
    }
    const TaskId window = w_.marker(tags.done);
    for (const TaskId t : compute) w_.depend(t, window);
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
    const model::ChunkWork& work = work_of(ch);
    const std::vector<Timed>& timed = timed_of(ch);
    const std::vector<std::uint32_t>& piece_tags = tags.pieces[static_cast<std::size_t>(c)];
    ChunkRecord& rec = record(ch, q);
    rec.entry = w_.marker(tags.entry);
    if (st.window != kNoTask) w_.depend(st.window, rec.entry);
    if (plan_.zero >= 3 && ch.pass != ChunkPass::backward_weight) {
      data_parallel_->gather_weights(rank, q, ch, rec.entry, st);
    }
    if (plan_.overlap_param_gather && ch.pass == ChunkPass::forward &&
        std::find(st.gathered.begin(), st.gathered.end(), ch.stage) == st.gathered.end()) {
      st.gathered.push_back(ch.stage);
      data_parallel_->gather_updated_weights(rank, q, ch.stage, rec.entry, st);
    }
    const int gpu = w_.engine_gpu(rank, q);
    std::vector<TaskId> task(work.pieces.size(), kNoTask);
    // Delayed weight gradients rank after every input-gradient piece of the chunk.
    const int delayed =
        plan_.delay_wgrad_compute && ch.pass == ChunkPass::backward ? static_cast<int>(work.pieces.size()) * stride : 0;
    for (std::size_t i = 0; i < work.pieces.size(); ++i) {
      const model::WorkPiece& p = work.pieces[i];
      const int key = static_cast<int>(i) * stride + offset + (p.pass == model::Pass::backward_weight ? delayed : 0);
      if (p.kind == model::PieceKind::comm) {
        task[i] = comm_piece(rank, q, ch, c, static_cast<int>(i), p, piece_tags[i]);
        comms.emplace_back(key, task[i]);
      } else if (p.empty()) {
        task[i] = w_.marker(piece_tags[i]);
      } else {
        task[i] = compute_piece(rank, q, ch, p, timed[i].work, gpu, priority + key, piece_tags[i]);
        compute.push_back(task[i]);
      }
      if (p.deps.empty()) w_.depend(rec.entry, task[i]);
      for (const int d : p.deps) w_.depend(task[static_cast<std::size_t>(d)], task[i]);
    }
    rec.output = work.output >= 0 ? task[static_cast<std::size_t>(work.output)] : rec.entry;
    rec.weight_of_block.clear();
    for (const int b : work.weight_of_block) {
      rec.weight_of_block.push_back(b >= 0 ? task[static_cast<std::size_t>(b)] : kNoTask);
    }
  }

  TaskId compute_piece(int rank, int q, const Chunk& ch, const model::WorkPiece& p, const Work& work, int gpu,
                       std::int32_t priority, std::uint32_t tag) {
    const double f = gpu_factor_[static_cast<std::size_t>(gpu)];
    const double load = work.expert_full.value() > 0 ? experts_->load(rank, q, ch.micro_batch, p.layer) : 1.0;
    TaskSpec spec{.activity = Activity::compute, .gpu = gpu, .priority = priority, .tag = tag};
    spec.time = scaled(work.full + work.expert_full * load, f);
    spec.time_shared = scaled(work.shared + work.expert_shared * load, f);
    return w_.add(spec);
  }

  TaskId comm_piece(int rank, int q, const Chunk& ch, int c, int index, const model::WorkPiece& p, std::uint32_t tag) {
    const Group g = group_of(p.collective);
    const int group_index = layout_.group_index(g, q);
    const int sample = is_ep(p.collective) ? experts_->sample_of(rank, ch.micro_batch, p.layer, group_index) : 0;
    const CollectiveUse use = model_collective(p, rank, group_index, sample);
    const std::uint64_t key = (static_cast<std::uint64_t>(c) << 56U) ^ (static_cast<std::uint64_t>(index) << 32U) ^
                              static_cast<std::uint64_t>(group_index);
    return w_.collective_task(use, StepWriter::Lane::model, rank, g, group_index, tag, key);
  }

  // ---- pipeline transfers -------------------------------------------------
  // Activations forward and their gradients backward: tokens x hidden in the
  // activation dtype per micro-batch, each GPU its sequence shard under
  // sequence parallelism (Megatron-LM sends the sharded hidden states).
  Bytes handoff_bytes() const {
    return Bytes(static_cast<double>(shard_tokens_) * shape_.model.hidden *
                 model::dtype_bytes(shape_.precision.activations));
  }

  void connect_handoffs() {
    for (int mb = 0; mb < micro_batches_; ++mb) {
      for (int st = 0; st < stages(); ++st) {
        const auto tag = [&](const char* what, int from) {
          return w_.add_label({.kind = TaskKind::pp_comm,
                               .stage = static_cast<std::int16_t>(from),
                               .micro_batch = mb,
                               .name = w_.intern(what)});
        };
        const std::uint32_t forward = tag("send activations", st - 1), backward = tag("send gradients", st + 1);
        for (int q = 0; q < replicas(); ++q) connect_chunk(mb, st, q, forward, backward);
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

  void connect_chunk(int mb, int st, int q, std::uint32_t forward_tag, std::uint32_t backward_tag) {
    ChunkRecord* f = find(mb, st, 0, q);
    ChunkRecord* b = find(mb, st, 1, q);
    ChunkRecord* w = find(mb, st, 2, q);
    if (!f || !b) throw std::logic_error(fmt::format("step graph: micro-batch {} misses stage {}", mb, st));
    if (st > 0) link(*find(mb, st - 1, 0, q), *f, mb, st - 1, st, q, forward_tag);
    if (st + 1 < stages()) link(*find(mb, st + 1, 1, q), *b, mb, st + 1, st, q, backward_tag);
    w_.depend(f->output, b->entry);
    if (w) w_.depend(b->output, w->entry);
  }

  void link(const ChunkRecord& from, const ChunkRecord& to, int mb, int from_stage, int to_stage, int q,
            std::uint32_t tag) {
    const int src_rank = g_.pipeline.rank_of(mb, from_stage), dst_rank = g_.pipeline.rank_of(mb, to_stage);
    if (src_rank == dst_rank) {
      w_.depend(from.output, to.entry);
      return;
    }
    const int src = layout_.gpu(src_rank, q), dst = layout_.gpu(dst_rank, q);
    const TaskId t = options_.transfers_as_flows ? flow_task(src, dst, w_.engine_gpu(src_rank, q), tag)
                                                 : timed_transfer(src, dst, w_.engine_gpu(src_rank, q), tag);
    w_.depend(from.output, t);
    w_.depend(t, to.entry);
  }

  // One transfer spec per GPU pair, shared by the tasks of every micro-batch.
  TaskId flow_task(int src, int dst, int gpu, std::uint32_t tag) {
    const auto [it, fresh] = transfers_.emplace(std::make_pair(src, dst), -1);
    if (fresh) {
      const hw::Route route = topology_.route(src, dst, hw::flow_key({src, dst, Bytes(0), 0}));
      it->second = g_.engine->add_transfer(route.links, route.latency, handoff_bytes());
    }
    return w_.add(
        {.activity = Activity::transfer, .gpu = gpu, .tag = tag, .transfer = it->second, .holds_comm_sms = true});
  }

  TaskId timed_transfer(int src, int dst, int gpu, std::uint32_t tag) {
    const std::vector<int> pair{src, dst};
    const Bytes bytes = handoff_bytes();
    const SimTime t =
        cache_.shared_time(fmt::format("send {} {:.0f}", group_shape(pair, topology_.gpus_per_node()), bytes.value()),
                           fmt::format("send {} {:.0f}", group_members(pair), bytes.value()),
                           [&] { return hw::send_recv(src, dst, bytes); });
    const int pattern = cache_.shared_pattern(fmt::format("send {}", group_members(pair)),
                                              [&] { return hw::send_recv(src, dst, Bytes(1)); });
    return w_.add({.activity = Activity::delay, .gpu = gpu, .tag = tag, .time = t, .holds_comm_sms = true},
                  w_.traffic_use(pattern, bytes.value()));
  }

  // ---- state ----------------------------------------------------------------
  const StepShape& shape_;
  const model::ParallelPlan& plan_;
  const hw::ClusterTopology& topology_;
  const StepOptions& options_;
  Layout layout_;
  CollectiveCache cache_;
  StepGraph g_;
  StepWriter w_;
  const hw::CalibrationProfile* profile_ = nullptr;
  int sms_ = 0;
  int shared_sms_ = 0;
  int micro_batches_ = 0;
  std::int64_t tokens_per_gpu_ = 0;
  std::int64_t shard_tokens_ = 0;
  model::StepWorkload workload_;
  std::vector<std::array<std::vector<Timed>, 4>> timed_;  // per stage, per chunk pass, per piece
  std::unique_ptr<ExpertTraffic> experts_;
  std::unique_ptr<DataParallel> data_parallel_;
  std::vector<double> gpu_factor_;
  std::vector<ChunkRecord> records_;
  std::map<std::pair<int, int>, std::int32_t> transfers_;
  std::map<std::tuple<int, int, int, bool, double, int>, CollectiveUse> model_uses_;
  std::uint32_t entry_tag_ = 0;
  std::uint32_t done_tag_ = 0;
};

}  // namespace

StepGraph build_step_graph(const StepShape& shape, const hw::ClusterTopology& topology, const StepOptions& options,
                           CollectiveStore* store) {
  return StepBuilder(shape, topology, options, store).build();
}

StepFloors step_floors(const StepShape& shape, const hw::ClusterTopology& topology, CollectiveStore* store) {
  const StepOptions symmetric;
  return StepBuilder(shape, topology, symmetric, store).floors();
}

}  // namespace tcsim::sim
