#include "apply/apply_agent.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "apply/copy_tracker.h"
#include "apply/copy_writers.h"
#include "apply/reconnect_backoff.h"
#include "apply/target_tables.h"
#include "apply/type_override.h"
#include "common/log.h"
#include "common/secrets.h"
#include "conflict/conflict.h"
#include "wire/auth.h"
#include "wire/connection.h"
#include "wire/position.h"
#include "wire/row_change.h"

namespace ferry::apply {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kConnectTimeout{10000};
// On SIGTERM a stream blocked on the target gets this long before its statement is cancelled.
constexpr milliseconds kStopGrace{3000};
constexpr milliseconds kWelcomeTimeout{60000};
// How often acks held for the target's durability ask for its flushed position.
constexpr milliseconds kDurabilityPoll{20};
// The WAL writer flushes within wal_writer_delay (200 ms by default, at most 10 s).
constexpr milliseconds kDurableWaitLimit{30000};  // the capture side may be creating a slot

// A copy chunk's rows reach the sink's bulk path in writes of about this many rows, or of the
// frames holding this many bytes (each bound checked after a frame), shared by the copy's
// writers: each write costs the target a few statements, so few large writes are fastest, and
// the bound keeps what the agent holds small whatever copy_chunk_rows is.
constexpr size_t kCopyRowsPerWrite = 10000;
constexpr size_t kCopyBytesPerWrites = 16 << 20;
constexpr size_t kCopyMinBytesPerWrite = 4 << 20;
// While chunks are being written, the stream thread looks this often for committed ones.
constexpr milliseconds kCopyPoll{50};

std::string ConflictName(RowOutcome outcome) {
  switch (outcome) {
    case RowOutcome::kInsertedOverExisting:
      return conflict::ConflictTypeName(conflict::ConflictType::kInsertExists);
    case RowOutcome::kUpdateInsertedMissing:
    case RowOutcome::kUpdateMissingNotInserted:
      return conflict::ConflictTypeName(conflict::ConflictType::kUpdateMissing);
    case RowOutcome::kDeleteMissing:
      return conflict::ConflictTypeName(conflict::ConflictType::kDeleteMissing);
    case RowOutcome::kApplied:
      break;
  }
  return "";
}

// What master-slave did about a divergence, in the conflict log's words.
std::string DivergenceOutcome(RowOutcome outcome) {
  switch (outcome) {
    case RowOutcome::kInsertedOverExisting:
    case RowOutcome::kUpdateInsertedMissing:
      return conflict::OutcomeName(conflict::Outcome::kAppliedRemote);
    case RowOutcome::kUpdateMissingNotInserted:
      return conflict::OutcomeName(conflict::Outcome::kKeptLocal);
    case RowOutcome::kDeleteMissing:
    case RowOutcome::kApplied:
      break;
  }
  return conflict::OutcomeName(conflict::Outcome::kSkipped);
}

std::string OutcomeAction(RowOutcome outcome) {
  switch (outcome) {
    case RowOutcome::kInsertedOverExisting:
      return "insert met an existing row: overwrote it with the source's row";
    case RowOutcome::kUpdateInsertedMissing:
      return "update found no row: inserted the source's row";
    case RowOutcome::kDeleteMissing:
      return "delete found no row: nothing to delete";
    case RowOutcome::kUpdateMissingNotInserted:
      return "update found no row, and the source did not send every value (unchanged TOAST "
             "values): nothing written";
    case RowOutcome::kApplied:
      break;
  }
  return "";
}

}  // namespace

// One upstream: a thread that (re)connects and applies that upstream's stream.
class ApplyAgent::UpstreamStream {
 public:
  UpstreamStream(ApplyAgent& agent, Upstream upstream)
      : agent_(agent),
        upstream_(std::move(upstream)),
        log_(Logger("apply")),
        backoff_(agent.options_.reconnect_delay, agent.options_.reconnect_delay_max,
                 std::hash<std::string>()(agent.options_.node + "/" + upstream_.name) ^
                     static_cast<uint64_t>(
                         std::chrono::steady_clock::now().time_since_epoch().count())) {}
  ~UpstreamStream() { Join(); }

  void Launch() {
    thread_ = std::thread([this] {
      Loop();
      std::lock_guard lock(finished_mutex_);
      finished_ = true;
      finished_changed_.notify_all();
    });
  }
  void Wake() {
    std::lock_guard lock(connection_mutex_);
    if (connection_) connection_->Close();
  }
  // True once the stream's thread has ended, or false when `timeout` passed first.
  bool WaitFinished(milliseconds timeout) {
    std::unique_lock lock(finished_mutex_);
    return finished_changed_.wait_for(lock, timeout, [this] { return finished_; });
  }
  // Stopping: ends the target statement the stream's thread is blocked in (Sink::Cancel).
  void CancelTargetStatement() {
    std::lock_guard lock(sink_mutex_);
    if (sink_ == nullptr) return;
    log_->warn("upstream {}: still busy on the target; cancelling its statement to stop",
               upstream_.name);
    sink_->Cancel();
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  const std::string& name() const { return upstream_.name; }
  Status RequestRecopy(const std::string& table);

 private:
  // Source transactions applied but not yet committed on the target: they commit, are
  // acknowledged and counted together (CommitGroup).
  struct PendingGroup {
    uint32_t transactions = 0;
    uint64_t rows = 0;
    std::chrono::steady_clock::time_point started;
    wire::Commit last;  // the last transaction's commit: the group's checkpoint and ack
    // Conflicts met and recorded in the group's target transaction, reported once it commits.
    std::vector<ConflictRecord> conflicts;
  };

  // An acknowledgement waiting for the target's log to be durable up to `mark`
  // (Sink::LastCommitMark).
  struct HeldAck {
    uint64_t mark = 0;
    wire::Position position;
  };

  // Per-connection state; nothing in it survives a reconnect.
  struct StreamState {
    std::unique_ptr<Sink> sink;
    std::optional<wire::Position> checkpoint;
    std::map<uint32_t, MappedRelation> relations;
    std::optional<TargetTables> targets;  // once welcomed
    std::string source_engine;            // the capture agent's (Welcome.engine)
    std::string upstream_node;            // the capture agent's node (Welcome.node)
    // The node where the open target transaction's source transactions were first written:
    // a group never mixes origins, since its checkpoint row names one (loop prevention).
    std::string group_origin;
    // Master-master: where the open source transaction comes from, for conflict resolution.
    ConflictContext conflict_context;
    // Conflicts met in the open source transaction, which joins the group at its commit.
    std::vector<ConflictRecord> conflicts;
    bool in_transaction = false;
    bool skipping = false;
    uint64_t rows_in_transaction = 0;
    // Source transactions applied in the open target transaction, whose commit waits for the
    // next one to join (GroupingOptions).
    std::optional<PendingGroup> group;
    // Acks of commits not yet durable, oldest first; and when the sink was last asked.
    std::deque<HeldAck> held_acks;
    std::chrono::steady_clock::time_point durability_checked_at{};
    std::chrono::steady_clock::time_point last_frame_at = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point connected_at = std::chrono::steady_clock::now();
    // Silence longer than this is a dead connection: receive_timeout, or longer once the Welcome
    // says the capture agent's heartbeats are far apart.
    milliseconds silence_limit{0};
    std::optional<CopyTracker> copies;
    // The copy's chunks are written by writers of their own (once welcomed); `chunk_table` is the
    // table of the chunk whose frames are arriving.
    std::unique_ptr<CopyWriters> writers;
    std::optional<std::string> chunk_table;
    std::chrono::steady_clock::time_point copy_logged_at{};
  };

  void Loop();
  Status RunConnection();
  Status Connect(StreamState& state);
  Result<wire::AuthExchange> ReceiveChallenge();
  Status RecordStart(StreamState& state, const wire::Welcome& welcome);
  Status RecordCopyPlan(StreamState& state, const wire::Welcome& welcome);
  Status StartRequestedRecopies(StreamState& state);
  Status StartAddedTables(StreamState& state, const wire::Welcome& welcome);
  Status RecordCopies(StreamState& state, const std::vector<CopyProgress>& copies);
  void StartCopyWriters(StreamState& state);
  Status HandleChunkBegin(StreamState& state, const wire::Begin& begin);
  Status HandleChunkCommit(StreamState& state);
  void ChunkCommitted(StreamState& state, const ChunkDone& done);
  // Returns once no chunk of `relation`'s table is being written: the stream's next change to
  // the table goes after the chunk (copy_writers.h).
  Status WaitForChunkOf(StreamState& state, const MappedRelation& relation);
  void LogCopyProgress(StreamState& state, const admin::CopyStatus& status);
  bool ExpectsMissingRows(const StreamState& state, const MappedRelation& relation) const;
  // The target tables (schema.table) of the relations ExpectsMissingRows is true for.
  std::set<std::string> CopyingTargets(const StreamState& state) const;
  Status HandleFrame(StreamState& state, wire::Frame& frame);
  Status HandleBegin(StreamState& state, const wire::Begin& begin);
  Status HandleChanges(StreamState& state, const wire::Changes& changes);
  Status HandleRelation(StreamState& state, const wire::Relation& relation);
  Status HandleRow(StreamState& state, const wire::RowChange& row);
  Status HandleTruncate(StreamState& state, const wire::RowChange& row);
  void RecordDivergence(const std::string& target, RowOutcome outcome, uint64_t rows);
  // Applies `row` with conflict detection (master-master).
  Status ApplyChecked(StreamState& state, const MappedRelation& relation,
                      const wire::RowChange& row);
  Status NoFullImageError(const wire::Relation& relation, const StreamState& state) const;
  bool ExpectedWhileCopying(const StreamState& state, const MappedRelation& relation,
                            const ConflictRecord& record) const;
  // Logs and reports conflicts whose resolution committed (or a stopped one).
  void ReportConflict(const ConflictRecord& record);
  bool DetectsConflicts() const { return MasterMaster() || agent_.options_.detect_conflicts; }
  bool MasterMaster() const {
    return agent_.options_.conflicts.mode == conflict::Mode::kMasterMaster;
  }
  Status HandleCommit(StreamState& state, const wire::Commit& commit);
  bool GroupIsFull(const PendingGroup& group) const;
  // Acknowledges `position` once the target's commit of it is durable: at once where commits
  // are durable as they return, else when ReleaseDurableAcks finds the log flushed past it.
  Status Acknowledge(StreamState& state, const wire::Position& position);
  Status ReleaseDurableAcks(StreamState& state);
  // Returns once the target's last commit is durable (Sink::DurableMark), for the few commits
  // nothing else would bring back after a crash of the target.
  Status WaitUntilDurable(StreamState& state);
  milliseconds NextWait(const StreamState& state) const;
  // A group is open and no source transaction is half applied: a commit now splits none.
  static bool GroupCanCommit(const StreamState& state) {
    return state.group && !state.in_transaction;
  }
  Status CommitGroup(StreamState& state);
  void UpdateStatus(const std::function<void(admin::StreamStatus&)>& update) {
    agent_.registry_.UpdateStream(upstream_.name, update);
  }
  // The stream applied (or is caught up): the failures behind it are over.
  void MarkHealthy() {
    if (backoff_.failures() == 0) return;
    backoff_.Reset();
    UpdateStatus([](admin::StreamStatus& st) {
      st.last_error.clear();
      st.last_error_at_us = 0;
      st.failures = 0;
    });
  }
  wire::FrameConnection* connection() {
    std::lock_guard lock(connection_mutex_);
    return connection_.get();
  }

  ApplyAgent& agent_;
  const Upstream upstream_;
  std::shared_ptr<spdlog::logger> log_;
  // The last conflict that stopped the stream (resolver error), so that retries report it once.
  std::string last_stop_;
  ReconnectBackoff backoff_;  // used by the stream's thread only
  // The connection's sink while one is open, for CancelTargetStatement from the stopping thread.
  std::mutex sink_mutex_;
  Sink* sink_ = nullptr;
  std::mutex finished_mutex_;
  std::condition_variable finished_changed_;
  bool finished_ = false;
  std::thread thread_;
  std::mutex connection_mutex_;
  std::unique_ptr<wire::FrameConnection> connection_;
  // Re-copies asked for (ferry snapshot), checked against the tables the last Welcome named and
  // taken by the stream's thread between transactions.
  std::mutex requests_mutex_;
  std::vector<std::string> recopy_requests_;
  std::optional<std::vector<std::string>> replicated_tables_;  // set once welcomed
  bool restarting_ = false;  // the connection ends to start the re-copies just recorded
};

namespace {

// Three heartbeats missed, and a second for the network: a capture agent configured with long
// intervals is not taken for dead between two of them.
milliseconds SilenceLimit(milliseconds receive_timeout, milliseconds heartbeat_interval) {
  return std::max(receive_timeout, 3 * heartbeat_interval + milliseconds(1000));
}

}  // namespace

void ApplyAgent::UpstreamStream::Loop() {
  while (!agent_.stopping_) {
    Status status = RunConnection();
    {
      std::lock_guard lock(connection_mutex_);
      connection_.reset();
    }
    if (agent_.stopping_) break;
    if (std::exchange(restarting_, false)) continue;
    const milliseconds wait = backoff_.Next();
    log_->error("upstream {}: {}; reconnecting in {} ms (failure {} in a row)", upstream_.name,
                status.message(), wait.count(), backoff_.failures());
    UpdateStatus([&](admin::StreamStatus& st) {
      st.state = "error";
      st.last_error = status.message();
      st.last_error_at_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
      st.failures = backoff_.failures();
      ++st.failures_total;
    });
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (!agent_.stopping_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  UpdateStatus([](admin::StreamStatus& st) { st.state = "stopped"; });
}

Status ApplyAgent::UpstreamStream::RunConnection() {
  StreamState state;
  state.silence_limit = agent_.options_.receive_timeout;
  // Declared after `state`, so destroyed first: the sink is forgotten before it is freed.
  struct ForgetSink {
    UpstreamStream& stream;
    ~ForgetSink() {
      std::lock_guard lock(stream.sink_mutex_);
      stream.sink_ = nullptr;
    }
  } forget_sink{*this};
  Status status = Connect(state);
  while (status.ok() && !agent_.stopping_) {
    const bool group_may_end = GroupCanCommit(state);
    auto frame = connection()->Receive(NextWait(state));
    const auto now = std::chrono::steady_clock::now();
    if (!frame.ok()) {
      status = frame.status().WithContext("connection to " + upstream_.address);
    } else if (frame->has_value()) {
      state.last_frame_at = now;
      status = HandleFrame(state, **frame);
    } else if (group_may_end) {
      status = CommitGroup(state);
    } else if (now - state.last_frame_at >= state.silence_limit) {
      status =
          Status::Error("no frame from " + upstream_.address + " for " +
                        std::to_string(state.silence_limit.count()) + " ms (not even a heartbeat)");
    }
    if (status.ok()) status = ReleaseDurableAcks(state);
    if (status.ok() && state.writers) status = state.writers->Collect();
    if (status.ok() && !state.in_transaction && !state.group) {
      status = StartRequestedRecopies(state);
    }
  }
  // Stopping: what was applied is committed rather than applied again after the restart.
  if (status.ok() && GroupCanCommit(state)) status = CommitGroup(state);
  // Chunks in flight roll back: the copy resumes after the last one committed.
  if (state.writers) state.writers->Stop();
  if (state.sink) state.sink->AbortTransaction();
  return status;
}

Status ApplyAgent::UpstreamStream::Connect(StreamState& state) {
  UpdateStatus([&](admin::StreamStatus& st) {
    st.state = "connecting";
    st.peer = upstream_.address;
  });
  state.sink = agent_.sink_factory_();
  {
    std::lock_guard lock(sink_mutex_);
    sink_ = state.sink.get();
  }
  FERRY_RETURN_IF_ERROR(state.sink->Open().WithContext("target database"));
  auto checkpoint = state.sink->ReadCheckpoint(upstream_.name);
  if (!checkpoint.ok()) return checkpoint.status().WithContext("reading the checkpoint");
  state.checkpoint = *checkpoint;
  auto copies = state.sink->ReadCopyProgress(upstream_.name);
  if (!copies.ok()) return copies.status().WithContext("reading the copy progress");
  for (const CopyProgress& progress : *copies) {
    auto key = DecodeCopyKey(progress.after_key);
    if (!key.ok()) return key.status().WithContext("resuming the copy of " + progress.table);
  }
  state.copies.emplace(*copies);

  auto connected = wire::FrameConnection::Connect(upstream_.address, kConnectTimeout,
                                                  agent_.options_.max_frame_bytes, upstream_.tls);
  if (!connected.ok()) return connected.status();
  {
    std::lock_guard lock(connection_mutex_);
    connection_ = std::move(*connected);
  }
  if (agent_.stopping_) return Status::Error("stopping");

  auto exchange = ReceiveChallenge();
  if (!exchange.ok()) return exchange.status();
  wire::Hello hello;
  hello.set_protocol_version(wire::kProtocolVersion);
  hello.set_subscriber_id(agent_.options_.node);
  hello.set_client_nonce(exchange->client_nonce);
  hello.set_auth_proof(wire::HelloProof(upstream_.auth_token, *exchange));
  if (state.checkpoint) *hello.mutable_resume_from() = *state.checkpoint;
  *hello.mutable_copy() =
      state.copies->Request(/*never_applied=*/!state.checkpoint, agent_.options_.copy_data);
  hello.mutable_copy()->set_parallel_tables(agent_.options_.copy_parallel_tables);
  FERRY_RETURN_IF_ERROR(connection()->Send(wire::FrameType::kHello, hello));

  auto frame = connection()->Receive(kWelcomeTimeout);
  if (!frame.ok())
    return frame.status().WithContext("waiting for Welcome from " + upstream_.address);
  if (!frame->has_value())
    return Status::Error("no Welcome from " + upstream_.address + " in 60 s");
  if ((*frame)->type == wire::FrameType::kError) {
    wire::Error error;
    FERRY_RETURN_IF_ERROR(wire::ParsePayload(**frame, &error));
    return Status::Error("capture agent at " + upstream_.address + " refused: " + error.message());
  }
  wire::Welcome welcome;
  if ((*frame)->type != wire::FrameType::kWelcome) {
    return Status::Error("expected Welcome, got " + wire::FrameTypeName((*frame)->type));
  }
  FERRY_RETURN_IF_ERROR(wire::ParsePayload(**frame, &welcome));
  if (!ConstantTimeEquals(welcome.auth_proof(),
                          wire::WelcomeProof(upstream_.auth_token, *exchange))) {
    return Status::Error("the capture agent at " + upstream_.address +
                         " did not prove that it holds this upstream's auth token: it holds "
                         "another token for subscriber '" +
                         agent_.options_.node +
                         "', or it is not the agent this upstream names; check the address and "
                         "the token files on both sides");
  }
  state.source_engine = welcome.engine();
  state.upstream_node = welcome.node();
  state.silence_limit =
      SilenceLimit(agent_.options_.receive_timeout, milliseconds(welcome.heartbeat_interval_ms()));
  state.targets.emplace(*state.sink, agent_.options_.create_tables, upstream_.name,
                        state.source_engine);
  StartCopyWriters(state);
  {
    std::lock_guard lock(requests_mutex_);
    replicated_tables_.emplace(welcome.replicated_tables().begin(),
                               welcome.replicated_tables().end());
  }
  if (!state.checkpoint && welcome.has_start()) {
    FERRY_RETURN_IF_ERROR(RecordStart(state, welcome));
  } else {
    FERRY_RETURN_IF_ERROR(RecordCopyPlan(state, welcome));
  }
  if (agent_.options_.copy_data) FERRY_RETURN_IF_ERROR(StartAddedTables(state, welcome));
  std::string resume = state.checkpoint ? state.checkpoint->value() : "the start of the slot";
  const std::string transport = upstream_.tls != nullptr
                                    ? "TLS, certificate verified"
                                    : "plain TCP, allowed by " + upstream_.plain_tcp_note;
  log_->info("upstream {}: connected to node {} ({}) at {} ({}), resuming after {}", upstream_.name,
             welcome.node(), welcome.engine(), upstream_.address, transport, resume);
  UpdateStatus([&](admin::StreamStatus& st) {
    st.state = "streaming";
    if (state.checkpoint) st.position = state.checkpoint->value();
    st.copy = state.copies->Status();
  });
  return Status::Ok();
}

// The capture agent speaks first: a Challenge whose nonce the Hello's proof must cover.
Result<wire::AuthExchange> ApplyAgent::UpstreamStream::ReceiveChallenge() {
  auto frame = connection()->Receive(kWelcomeTimeout);
  if (!frame.ok()) {
    // A capture agent that requires TLS waits for a TLS handshake a plain client never starts,
    // then hangs up: from here that looks like a closed connection, so say what it may mean.
    const std::string plain_hint =
        upstream_.tls != nullptr
            ? ""
            : "; or it requires TLS (a tls: block in its config) and this upstream has no tls: "
              "block with the CA that signed its certificate";
    return frame.status().WithContext(
        "waiting for the capture agent's Challenge from " + upstream_.address +
        " (an agent older than protocol version " + std::to_string(wire::kProtocolVersion) +
        " sends none: run the same Ferry version on both sides" + plain_hint + ")");
  }
  if (!frame->has_value()) {
    return Status::Error("no Challenge from " + upstream_.address + " in 60 s");
  }
  if ((*frame)->type == wire::FrameType::kError) {
    wire::Error error;
    FERRY_RETURN_IF_ERROR(wire::ParsePayload(**frame, &error));
    return Status::Error("capture agent at " + upstream_.address + " refused: " + error.message());
  }
  wire::Challenge challenge;
  if ((*frame)->type != wire::FrameType::kChallenge) {
    return Status::Error("expected Challenge, got " + wire::FrameTypeName((*frame)->type));
  }
  FERRY_RETURN_IF_ERROR(wire::ParsePayload(**frame, &challenge));
  if (challenge.protocol_version() != wire::kProtocolVersion) {
    return Status::Error("the capture agent at " + upstream_.address + " speaks protocol version " +
                         std::to_string(challenge.protocol_version()) + ", this apply agent " +
                         std::to_string(wire::kProtocolVersion) +
                         ": run the same Ferry version on both sides");
  }
  if (challenge.nonce().size() != wire::kNonceBytes) {
    return Status::Error("the capture agent's Challenge has no nonce of " +
                         std::to_string(wire::kNonceBytes) + " bytes");
  }
  auto client_nonce = wire::RandomNonce();
  if (!client_nonce.ok()) return client_nonce.status();
  return wire::AuthExchange{challenge.nonce(), *client_nonce, agent_.options_.node};
}

// The source keeps no bookmark for us (MySQL/MariaDB): until the first transaction commits,
// the start of the stream exists only here, so it becomes the checkpoint right away, together
// with the tables an initial copy will fill.
Status ApplyAgent::UpstreamStream::RecordStart(StreamState& state, const wire::Welcome& welcome) {
  const wire::Position& start = welcome.start();
  wire::Begin begin;
  *begin.mutable_position() = start;
  Status recorded = state.sink->BeginTransaction(upstream_.name, begin);
  std::vector<CopyProgress> planned = state.copies->Planned(welcome);
  for (CopyProgress table : planned) {
    table.origin = state.upstream_node;  // as every copy_progress row the agent writes
    if (recorded.ok()) recorded = state.sink->RecordCopyProgress(upstream_.name, table);
  }
  if (recorded.ok()) recorded = state.sink->CommitTransaction();
  // Nothing but this checkpoint remembers where the stream starts: it must not be lost in a
  // crash of the target, even where commits are asynchronous.
  if (recorded.ok()) recorded = WaitUntilDurable(state);
  if (!recorded.ok()) {
    state.sink->AbortTransaction();
    return recorded.WithContext("recording the start position " + start.value());
  }
  state.checkpoint = start;
  for (const CopyProgress& table : planned) state.copies->Committed(table, 0);
  log_->info("upstream {}: first contact: recorded the source's start position {} as checkpoint",
             upstream_.name, start.value());
  return Status::Ok();
}

// An initial copy's tables are recorded before the first chunk, so that a copy cut short
// resumes with every table rather than starting over as a first contact.
Status ApplyAgent::UpstreamStream::RecordCopyPlan(StreamState& state,
                                                  const wire::Welcome& welcome) {
  std::vector<CopyProgress> planned = state.copies->Planned(welcome);
  if (planned.empty()) return Status::Ok();
  FERRY_RETURN_IF_ERROR(RecordCopies(state, planned).WithContext("recording the tables to copy"));
  for (const CopyProgress& table : planned) state.copies->Committed(table, 0);
  log_->info("upstream {}: copying the existing rows of {} table(s) first", upstream_.name,
             planned.size());
  return Status::Ok();
}

Status ApplyAgent::UpstreamStream::RequestRecopy(const std::string& table) {
  std::lock_guard lock(requests_mutex_);
  if (!replicated_tables_) {
    return Status::Error("upstream " + upstream_.name + " has not connected to its capture agent " +
                         "yet; ask again once /status shows it streaming");
  }
  if (replicated_tables_->empty()) {
    return Status::Error("the capture agent of upstream " + upstream_.name +
                         " cannot copy rows from its source (or replicates no table)");
  }
  if (std::find(replicated_tables_->begin(), replicated_tables_->end(), table) ==
      replicated_tables_->end()) {
    std::string known;
    for (const std::string& name : *replicated_tables_) known += (known.empty() ? "" : ", ") + name;
    return Status::Error("upstream " + upstream_.name + " does not replicate " + table +
                         " (name it as schema.table; it replicates " + known +
                         "; a table added to the stream since the agent connected is copied by "
                         "itself once the agent reconnects)");
  }
  if (std::find(recopy_requests_.begin(), recopy_requests_.end(), table) ==
      recopy_requests_.end()) {
    recopy_requests_.push_back(table);
  }
  return Status::Ok();
}

// Records the re-copies asked for, each from its first row, then ends the connection: the next
// Hello asks for them like any unfinished copy. Called between transactions only.
Status ApplyAgent::UpstreamStream::StartRequestedRecopies(StreamState& state) {
  std::vector<std::string> tables;
  {
    std::lock_guard lock(requests_mutex_);
    tables.swap(recopy_requests_);
  }
  if (tables.empty()) return Status::Ok();
  std::vector<CopyProgress> copies;
  for (const std::string& table : tables) copies.push_back(CopyTracker::Recopy(table));
  Status recorded = RecordCopies(state, copies);
  if (!recorded.ok()) {
    std::lock_guard lock(requests_mutex_);
    recopy_requests_.insert(recopy_requests_.end(), tables.begin(), tables.end());
    return recorded.WithContext("recording the re-copy of " + tables.front());
  }
  for (const std::string& table : tables) {
    log_->info("upstream {}: re-copying {} from its first row, as asked; reconnecting to start",
               upstream_.name, table);
  }
  restarting_ = true;
  return Status::Error("reconnecting to start a re-copy");
}

// A table added to the replicated set after this subscriber's copy (ALTER PUBLICATION … ADD
// TABLE, a wider `tables:` pattern) is copied too, once the Welcome names it: recorded, then the
// connection starts again so that the Hello asks for it.
Status ApplyAgent::UpstreamStream::StartAddedTables(StreamState& state,
                                                    const wire::Welcome& welcome) {
  const std::vector<CopyProgress> added = state.copies->Added(welcome);
  if (added.empty()) return Status::Ok();
  FERRY_RETURN_IF_ERROR(RecordCopies(state, added).WithContext("recording tables to copy"));
  for (const CopyProgress& table : added) {
    log_->info("upstream {}: {} was added to the replicated tables: copying its rows",
               upstream_.name, table.table);
  }
  restarting_ = true;
  return Status::Error("reconnecting to copy tables added to the stream");
}

// Records copies to start in one copy transaction (nothing recorded on error). Each row names
// the upstream's node as origin: the first is the transaction's origin marker, as a chunk's is.
Status ApplyAgent::UpstreamStream::RecordCopies(StreamState& state,
                                                const std::vector<CopyProgress>& copies) {
  Status recorded = state.sink->BeginCopyTransaction();
  for (CopyProgress copy : copies) {
    copy.origin = state.upstream_node;
    if (recorded.ok()) recorded = state.sink->RecordCopyProgress(upstream_.name, copy);
  }
  if (recorded.ok()) recorded = state.sink->CommitTransaction();
  // A snapshot request answered as recorded must survive a crash of the target.
  if (recorded.ok()) recorded = WaitUntilDurable(state);
  if (!recorded.ok()) state.sink->AbortTransaction();
  return recorded;
}

Status ApplyAgent::UpstreamStream::HandleFrame(StreamState& state, wire::Frame& frame) {
  switch (frame.type) {
    case wire::FrameType::kBegin: {
      wire::Begin begin;
      FERRY_RETURN_IF_ERROR(wire::ParsePayload(frame, &begin));
      return HandleBegin(state, begin);
    }
    case wire::FrameType::kChanges: {
      if (state.chunk_table) return state.writers->Add(std::move(frame));
      wire::Changes changes;
      FERRY_RETURN_IF_ERROR(wire::ParsePayload(frame, &changes));
      return HandleChanges(state, changes);
    }
    case wire::FrameType::kCommit: {
      wire::Commit commit;
      FERRY_RETURN_IF_ERROR(wire::ParsePayload(frame, &commit));
      return HandleCommit(state, commit);
    }
    case wire::FrameType::kHeartbeat: {
      // Heartbeats also come in the middle of a transaction; a group ends only between two.
      if (GroupCanCommit(state)) FERRY_RETURN_IF_ERROR(CommitGroup(state));
      wire::Heartbeat heartbeat;
      FERRY_RETURN_IF_ERROR(wire::ParsePayload(frame, &heartbeat));
      UpdateStatus([&](admin::StreamStatus& st) {
        st.lag.OnHeartbeat(heartbeat.source_time_us(), heartbeat.idle() && !state.in_transaction,
                           std::chrono::steady_clock::now());
        if (heartbeat.has_source_head()) st.source_head = heartbeat.source_head().value();
      });
      // A stream with nothing to apply never commits: connected without a failure for as long as
      // the longest wait, it counts as healthy again (a failing change fails much sooner).
      if (std::chrono::steady_clock::now() - state.connected_at >=
          agent_.options_.reconnect_delay_max) {
        MarkHealthy();
      }
      return Status::Ok();
    }
    case wire::FrameType::kError: {
      wire::Error error;
      FERRY_RETURN_IF_ERROR(wire::ParsePayload(frame, &error));
      return Status::Error("capture agent reported: " + error.message());
    }
    default:
      return Status::Error("unexpected " + wire::FrameTypeName(frame.type) + " frame from capture");
  }
}

Status ApplyAgent::UpstreamStream::HandleBegin(StreamState& state, const wire::Begin& begin) {
  if (state.in_transaction) return Status::Error("Begin inside an open transaction");
  if (begin.has_copy()) {
    if (state.group) FERRY_RETURN_IF_ERROR(CommitGroup(state));
    return HandleChunkBegin(state, begin);
  }
  // The checkpoint row names where the transaction was first written, so that a capture agent
  // reading this target can tell it from local writes (ARCHITECTURE.md, "Origins and loop
  // prevention"): the upstream node, unless that forwarded it from another.
  wire::Begin tagged = begin;
  if (tagged.origin().empty()) tagged.set_origin(state.upstream_node);
  if (tagged.origin_commit_time_us() == 0) tagged.set_origin_commit_time_us(begin.commit_time_us());
  if (state.group && state.group_origin != tagged.origin()) {
    FERRY_RETURN_IF_ERROR(CommitGroup(state));
  }
  state.in_transaction = true;
  state.rows_in_transaction = 0;
  state.skipping = false;
  state.conflicts.clear();
  state.conflict_context = ConflictContext{
      &agent_.options_.conflicts, agent_.options_.node,          upstream_.name, tagged.origin(),
      begin.position().value(),   tagged.origin_commit_time_us()};
  if (state.checkpoint) {
    auto covered = wire::IsCovered(begin.position(), *state.checkpoint);
    if (!covered.ok()) return covered.status().WithContext("comparing with the checkpoint");
    state.skipping = *covered;
  }
  UpdateStatus([](admin::StreamStatus& st) { st.lag.OnTransactionBegin(); });
  if (state.skipping) return Status::Ok();
  if (state.group) return state.sink->ContinueTransaction(upstream_.name, tagged);
  state.group_origin = tagged.origin();
  return state.sink->BeginTransaction(upstream_.name, tagged);
}

Status ApplyAgent::UpstreamStream::HandleChanges(StreamState& state, const wire::Changes& changes) {
  if (!state.in_transaction) return Status::Error("Changes outside a transaction");
  for (const wire::Change& change : changes.changes()) {
    if (change.has_relation()) {
      FERRY_RETURN_IF_ERROR(HandleRelation(state, change.relation()));
    } else if (change.has_row() && !state.skipping) {
      FERRY_RETURN_IF_ERROR(HandleRow(state, change.row()));
    }
  }
  return Status::Ok();
}

namespace {

// A resolver column the table lacks would compare nothing and decide every conflict by node
// name: refused, naming the column and the table.
Status CheckResolverColumns(const conflict::ConflictPolicy& policy,
                            const MappedRelation& relation) {
  std::set<std::string> columns;
  for (const MappedColumn& column : relation.columns) columns.insert(column.target_name);
  for (conflict::ConflictType type : conflict::AllConflictTypes()) {
    const conflict::Resolver& resolver = policy.For(relation.target_name(), type);
    std::vector<std::string> needed = resolver.columns;
    if (!resolver.column.empty()) needed.push_back(resolver.column);
    for (const std::string& name : needed) {
      if (columns.contains(name)) continue;
      return Status::Error("conflict resolver " + conflict::Describe(resolver) + " for " +
                           conflict::ConflictTypeName(type) + " on " + relation.target_name() +
                           " names column " + name +
                           ", which the table does not replicate: name one of its columns, or "
                           "give the table a resolver of its own under conflicts.tables");
    }
  }
  return Status::Ok();
}

}  // namespace

// Without the source's whole old row a change made here meanwhile goes unseen (update_differs,
// delete_differs) and the nodes drift apart silently: stop with the fix instead.
Status ApplyAgent::UpstreamStream::NoFullImageError(const wire::Relation& relation,
                                                    const StreamState& state) const {
  const std::string table = relation.schema() + "." + relation.table();
  const std::string fix = state.source_engine == "postgres"
                              ? "run ALTER TABLE " + table + " REPLICA IDENTITY FULL there"
                              : "set binlog_row_image=FULL there";
  return Status::Error(
      "master-master needs the whole old row of each change to detect "
      "conflicts, and upstream " +
      upstream_.name + " sends only the key of " + table + ": " + fix +
      " before the nodes take writes (changes logged before it carry "
      "only the key)");
}

Status ApplyAgent::UpstreamStream::HandleRelation(StreamState& state,
                                                  const wire::Relation& relation) {
  auto mapped = agent_.mapper_.Map(relation);
  if (!mapped.ok()) return mapped.status();
  FERRY_RETURN_IF_ERROR(WaitForChunkOf(state, *mapped));
  FERRY_RETURN_IF_ERROR(state.targets->Check(*mapped));
  if (MasterMaster() && !mapped->full_old_image) return NoFullImageError(relation, state);
  FERRY_RETURN_IF_ERROR(CheckResolverColumns(agent_.options_.conflicts, *mapped));
  state.relations[relation.id()] = std::move(*mapped);
  return Status::Ok();
}

namespace {

Status UndescribedRelation(uint32_t id) {
  return Status::Error("row change for relation " + std::to_string(id) +
                       " that was never described: the capture agent broke the protocol");
}

}  // namespace

// One source TRUNCATE, however many tables it emptied, is one call: the sink must empty them
// together (tables that reference each other cannot be emptied one by one). Every relation
// goes through the mapping; one whose target is missing fails the whole change with the fix.
Status ApplyAgent::UpstreamStream::HandleTruncate(StreamState& state, const wire::RowChange& row) {
  std::vector<const MappedRelation*> relations;
  for (uint32_t id : wire::TruncatedRelationIds(row)) {
    auto relation = state.relations.find(id);
    if (relation == state.relations.end()) return UndescribedRelation(id);
    FERRY_RETURN_IF_ERROR(WaitForChunkOf(state, relation->second));
    relations.push_back(&relation->second);
  }
  FERRY_RETURN_IF_ERROR(state.sink->ApplyTruncate(relations, row));
  ++state.rows_in_transaction;
  return Status::Ok();
}

Status ApplyAgent::UpstreamStream::HandleRow(StreamState& state, const wire::RowChange& row) {
  if (row.op() == wire::RowChange::TRUNCATE) return HandleTruncate(state, row);
  auto relation = state.relations.find(row.relation_id());
  if (relation == state.relations.end()) return UndescribedRelation(row.relation_id());
  // Without a key an update or delete cannot find its row on the target. PostgreSQL refuses
  // them on a table published without a replica identity, so they should never arrive; if one
  // does, stop here with the fix rather than guess a row (the position is kept).
  const bool finds_row = row.op() == wire::RowChange::UPDATE || row.op() == wire::RowChange::DELETE;
  if (finds_row && !relation->second.has_key) return NoKeyError(relation->second);
  FERRY_RETURN_IF_ERROR(WaitForChunkOf(state, relation->second));
  if (DetectsConflicts()) return ApplyChecked(state, relation->second, row);
  Result<RowOutcome> outcome = Status::Error("not applied");
  if (relation->second.converts) {
    wire::RowChange converted = row;
    FERRY_RETURN_IF_ERROR(ConvertRow(relation->second, converted));
    outcome = state.sink->ApplyRow(relation->second, converted);
  } else {
    outcome = state.sink->ApplyRow(relation->second, row);
  }
  if (!outcome.ok()) return outcome.status();
  ++state.rows_in_transaction;
  if (*outcome != RowOutcome::kApplied && !ExpectsMissingRows(state, relation->second))
    RecordDivergence(relation->second.target_name(), *outcome, 1);
  return Status::Ok();
}

Status ApplyAgent::UpstreamStream::ApplyChecked(StreamState& state, const MappedRelation& relation,
                                                const wire::RowChange& row) {
  Result<std::vector<ConflictRecord>> met = Status::Error("not applied");
  if (relation.converts) {
    wire::RowChange converted = row;
    FERRY_RETURN_IF_ERROR(ConvertRow(relation, converted));
    met = state.sink->ApplyCheckedRow(relation, converted, state.conflict_context);
  } else {
    met = state.sink->ApplyCheckedRow(relation, row, state.conflict_context);
  }
  if (!met.ok()) return met.status();
  ++state.rows_in_transaction;
  for (const ConflictRecord& record : *met) {
    if (record.outcome != conflict::Outcome::kStopped) continue;
    // Retried until the row is fixed: reported once, not at every retry. The other conflicts
    // of the change are not recorded: the transaction is aborted with their resolutions.
    std::string stop = record.position + " " + Summary(record);
    if (stop != last_stop_) ReportConflict(record);
    last_stop_ = std::move(stop);
    return Status::Error("stopped at a conflict (resolver error): " + Summary(record) +
                         ": fix the row on the target, or choose another resolver for the table "
                         "and type; the stream retries the transaction (GET /conflicts shows "
                         "the rows)");
  }
  for (ConflictRecord& record : *met) {
    if (ExpectedWhileCopying(state, relation, record)) continue;
    FERRY_RETURN_IF_ERROR(state.sink->RecordConflict(record));
    state.conflicts.push_back(std::move(record));
  }
  return Status::Ok();
}

// While its table is copied, rows the copy has not reached yet are missing (or met again):
// resolved as usual, but no divergence (as in HandleRow).
bool ApplyAgent::UpstreamStream::ExpectedWhileCopying(const StreamState& state,
                                                      const MappedRelation& relation,
                                                      const ConflictRecord& record) const {
  const bool missing_or_met = record.type == conflict::ConflictType::kInsertExists ||
                              record.type == conflict::ConflictType::kUpdateMissing ||
                              record.type == conflict::ConflictType::kDeleteMissing;
  return missing_or_met && ExpectsMissingRows(state, relation);
}

void ApplyAgent::UpstreamStream::ReportConflict(const ConflictRecord& record) {
  log_->warn("upstream {}: conflict: {}", upstream_.name, Summary(record));
  admin::ConflictReport report;
  report.at_us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  report.upstream = record.upstream;
  report.origin = record.origin;
  report.position = record.position;
  report.remote_commit_us = record.remote_commit_us;
  report.table = record.table;
  report.type = conflict::ConflictTypeName(record.type);
  report.key = record.key;
  report.remote_old = record.remote_old.value_or("");
  report.remote_new = record.remote_new.value_or("");
  report.local = record.local.value_or("");
  report.final_row = record.final_row.value_or("");
  report.resolver = record.resolver;
  report.outcome = conflict::OutcomeName(record.outcome);
  report.reason = record.reason;
  agent_.registry_.RecordConflict(std::move(report));
}

// While a table is being copied, the stream changes rows the copy has not reached yet: an update
// or delete finds no row, an insert may meet one the stream already inserted. The copy brings
// those rows; they are not divergences.
bool ApplyAgent::UpstreamStream::ExpectsMissingRows(const StreamState& state,
                                                    const MappedRelation& relation) const {
  return state.copies &&
         state.copies->Copying(relation.source.schema() + "." + relation.source.table());
}

std::set<std::string> ApplyAgent::UpstreamStream::CopyingTargets(const StreamState& state) const {
  std::set<std::string> targets;
  for (const auto& [id, relation] : state.relations) {
    if (ExpectsMissingRows(state, relation)) targets.insert(relation.target_name());
  }
  return targets;
}

// The copy's chunks are written on connections of their own (copy_writers.h), up to
// copy_parallel_tables at once, while this thread goes on with the stream.
void ApplyAgent::UpstreamStream::StartCopyWriters(StreamState& state) {
  const size_t writers = std::max<size_t>(agent_.options_.copy_parallel_tables, 1);
  ChunkWriterContext context;
  context.upstream = upstream_.name;
  context.mapper = &agent_.mapper_;
  context.create_tables = agent_.options_.create_tables;
  context.source_engine = state.source_engine;
  context.upstream_node = state.upstream_node;
  context.registry = &agent_.registry_;
  context.rows_per_write = kCopyRowsPerWrite;
  context.bytes_per_write = std::max(kCopyMinBytesPerWrite, kCopyBytesPerWrites / writers);
  state.writers = std::make_unique<CopyWriters>(
      writers,
      [this, context] { return std::make_unique<ChunkWriter>(context, agent_.sink_factory_()); },
      [this, &state](const ChunkDone& done) { ChunkCommitted(state, done); });
}

Status ApplyAgent::UpstreamStream::HandleChunkBegin(StreamState& state, const wire::Begin& begin) {
  // The table's previous chunk commits first: this one's progress starts where that one's ends.
  FERRY_RETURN_IF_ERROR(state.writers->WaitFor(begin.copy().table()));
  ChunkJob job;
  job.chunk = begin.copy();
  job.before = state.copies->AfterChunk(begin.copy(), 0);
  job.recopy_after = state.copies->RecopyAfter(begin.copy().table());
  FERRY_RETURN_IF_ERROR(state.writers->Begin(std::move(job)));
  state.in_transaction = true;
  state.chunk_table = begin.copy().table();
  return Status::Ok();
}

Status ApplyAgent::UpstreamStream::HandleChunkCommit(StreamState& state) {
  FERRY_RETURN_IF_ERROR(state.writers->End());
  state.in_transaction = false;
  state.chunk_table.reset();
  return Status::Ok();
}

void ApplyAgent::UpstreamStream::ChunkCommitted(StreamState& state, const ChunkDone& done) {
  const CopyProgress& progress = done.progress;
  state.copies->Committed(progress, done.rows_estimate);
  if (progress.done) {
    log_->info("upstream {}: copied {}: {} rows", upstream_.name, progress.table,
               progress.rows_copied);
  }
  const admin::CopyStatus status = state.copies->Status();
  LogCopyProgress(state, status);
  if (status.state == "done" && progress.done) {
    log_->info("upstream {}: the copy is complete: {} rows in {} tables", upstream_.name,
               status.rows_copied, status.tables_total);
  }
  UpdateStatus([&](admin::StreamStatus& st) { st.copy = status; });
}

Status ApplyAgent::UpstreamStream::WaitForChunkOf(StreamState& state,
                                                  const MappedRelation& relation) {
  if (!state.writers || state.writers->Idle()) return Status::Ok();
  const std::string table = relation.source.schema() + "." + relation.source.table();
  if (!state.writers->Writing(table)) return Status::Ok();
  return state.writers->WaitFor(table);
}

void ApplyAgent::UpstreamStream::LogCopyProgress(StreamState& state,
                                                 const admin::CopyStatus& status) {
  const auto now = std::chrono::steady_clock::now();
  if (now - state.copy_logged_at < std::chrono::seconds(10)) return;
  state.copy_logged_at = now;
  log_->info(
      "upstream {}: copying {}: {} of about {} rows, {} of {} tables done, {:.0f} rows/s, {}",
      upstream_.name, status.table, status.rows_copied, status.rows_estimate, status.tables_done,
      status.tables_total, status.rows_per_second,
      status.eta_seconds < 0 ? std::string("time left unknown")
                             : fmt::format("about {:.0f} s left", status.eta_seconds));
}

// Master-slave divergences are not errors (the replica follows its source), but an operator
// must see them: a warning and a per-type counter.
void ApplyAgent::UpstreamStream::RecordDivergence(const std::string& target, RowOutcome outcome,
                                                  uint64_t rows) {
  log_->warn("upstream {}: {}: {}{} (the replica had diverged from its source)", upstream_.name,
             target, OutcomeAction(outcome),
             rows == 1 ? "" : " (" + std::to_string(rows) + " rows)");
  agent_.registry_.AddCounter("conflicts_" + ConflictName(outcome), upstream_.name, rows);
  agent_.registry_.CountConflict(upstream_.name, target, ConflictName(outcome),
                                 DivergenceOutcome(outcome), rows);
}

Status ApplyAgent::UpstreamStream::HandleCommit(StreamState& state, const wire::Commit& commit) {
  if (!state.in_transaction) return Status::Error("Commit outside a transaction");
  if (state.chunk_table) return HandleChunkCommit(state);
  state.in_transaction = false;
  if (std::exchange(state.skipping, false)) {
    // Already in the target (the checkpoint covers it): acknowledged again, nothing written.
    FERRY_RETURN_IF_ERROR(Acknowledge(state, commit.position()));
    UpdateStatus([&](admin::StreamStatus& st) {
      st.lag.OnTransactionApplied(commit.commit_time_us());
      ++st.skipped_transactions;
    });
    return Status::Ok();
  }
  if (!state.group) state.group = PendingGroup{0, 0, std::chrono::steady_clock::now(), {}, {}};
  for (ConflictRecord& record : state.conflicts)
    state.group->conflicts.push_back(std::move(record));
  state.conflicts.clear();
  ++state.group->transactions;
  state.group->rows += state.rows_in_transaction;
  state.group->last = commit;
  if (GroupIsFull(*state.group)) return CommitGroup(state);
  return Status::Ok();
}

bool ApplyAgent::UpstreamStream::GroupIsFull(const PendingGroup& group) const {
  const GroupingOptions& limits = agent_.options_.grouping;
  return group.transactions >= limits.max_transactions || group.rows >= limits.max_rows ||
         std::chrono::steady_clock::now() - group.started >= limits.max_delay;
}

// One target commit for the whole group (ARCHITECTURE.md invariant 1: no source transaction is
// split, and the checkpoint names the last one in the group).
Status ApplyAgent::UpstreamStream::CommitGroup(StreamState& state) {
  const PendingGroup group = *std::exchange(state.group, std::nullopt);
  FERRY_RETURN_IF_ERROR(state.sink->CommitTransaction());
  state.checkpoint = group.last.position();
  std::vector<LateOutcome> late = state.sink->TakeLateOutcomes();
  const std::set<std::string> copying =
      late.empty() ? std::set<std::string>() : CopyingTargets(state);
  for (const LateOutcome& outcome : late) {
    // An update or delete the sink sent ahead reports a row not found late; while its table
    // is copied that is expected, as in HandleRow. (No chunk runs inside a group, so what is
    // copied now was copied when the row was applied.)
    const bool finds_row = outcome.outcome != RowOutcome::kInsertedOverExisting;
    if (finds_row && copying.contains(outcome.target)) continue;
    RecordDivergence(outcome.target, outcome.outcome, outcome.rows);
  }
  for (const ConflictRecord& record : group.conflicts) ReportConflict(record);
  FERRY_RETURN_IF_ERROR(Acknowledge(state, group.last.position()));
  agent_.registry_.AddCounter("target_commits", upstream_.name);
  UpdateStatus([&](admin::StreamStatus& st) {
    st.lag.OnTransactionApplied(group.last.commit_time_us());
    st.position = group.last.position().value();
    st.transactions += group.transactions;
    st.rows += group.rows;
  });
  MarkHealthy();
  return Status::Ok();
}

// Between transactions with a group open, only a transaction already waiting may join it; acks
// held for durability are looked at every kDurabilityPoll even on an idle stream.
milliseconds ApplyAgent::UpstreamStream::NextWait(const StreamState& state) const {
  if (GroupCanCommit(state)) return milliseconds(0);
  const auto silent = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                               state.last_frame_at);
  milliseconds wait = std::max(milliseconds(0), state.silence_limit - silent);
  if (!state.held_acks.empty()) wait = std::min(wait, kDurabilityPoll);
  if (state.writers && !state.writers->Idle()) wait = std::min(wait, kCopyPoll);
  return wait;
}

Status ApplyAgent::UpstreamStream::Acknowledge(StreamState& state, const wire::Position& position) {
  const uint64_t mark = state.sink->LastCommitMark();
  if (mark == 0 && state.held_acks.empty()) {
    wire::Ack ack;
    *ack.mutable_position() = position;
    return connection()->Send(wire::FrameType::kAck, ack);
  }
  state.held_acks.push_back(HeldAck{mark, position});
  return Status::Ok();
}

Status ApplyAgent::UpstreamStream::WaitUntilDurable(StreamState& state) {
  const uint64_t mark = state.sink->LastCommitMark();
  if (mark == 0) return Status::Ok();
  const auto deadline = std::chrono::steady_clock::now() + kDurableWaitLimit;
  while (!agent_.stopping_) {
    Result<uint64_t> durable = state.sink->DurableMark();
    if (!durable.ok()) return durable.status().WithContext("reading the target's durable position");
    if (*durable >= mark) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kDurabilityPoll);
  }
  return Status::Error("the target's log was not flushed past its last commit within " +
                       std::to_string(kDurableWaitLimit.count()) + " ms");
}

// ARCHITECTURE.md invariant 3: a commit the target has not yet flushed would be lost in its crash,
// after the source, told by the ack, had discarded it.
Status ApplyAgent::UpstreamStream::ReleaseDurableAcks(StreamState& state) {
  if (state.held_acks.empty()) return Status::Ok();
  const auto now = std::chrono::steady_clock::now();
  if (now - state.durability_checked_at < kDurabilityPoll) return Status::Ok();
  state.durability_checked_at = now;
  Result<uint64_t> durable = state.sink->DurableMark();
  if (!durable.ok()) return durable.status().WithContext("reading the target's durable position");
  std::optional<wire::Position> release;
  while (!state.held_acks.empty() && state.held_acks.front().mark <= *durable) {
    release = std::move(state.held_acks.front().position);
    state.held_acks.pop_front();
  }
  if (!release) return Status::Ok();
  wire::Ack ack;
  *ack.mutable_position() = *release;
  return connection()->Send(wire::FrameType::kAck, ack);
}

ApplyAgent::ApplyAgent(ApplyAgentOptions options, SinkFactory sink_factory, TableMapper mapper,
                       admin::MetricsRegistry& registry)
    : options_(std::move(options)),
      sink_factory_(std::move(sink_factory)),
      mapper_(std::move(mapper)),
      registry_(registry) {}

ApplyAgent::~ApplyAgent() { Stop(); }

void ApplyAgent::Start() {
  for (const Upstream& upstream : options_.upstreams) {
    streams_.push_back(std::make_unique<UpstreamStream>(*this, upstream));
    streams_.back()->Launch();
  }
}

Status ApplyAgent::RequestRecopy(const std::string& upstream, const std::string& table) {
  if (upstream.empty() && streams_.size() == 1) return streams_.front()->RequestRecopy(table);
  std::string names;
  for (auto& stream : streams_) {
    if (stream->name() == upstream) return stream->RequestRecopy(table);
    names += (names.empty() ? "" : ", ") + stream->name();
  }
  if (upstream.empty()) {
    return Status::Error("this agent applies several upstreams (" + names + "): name one");
  }
  return Status::Error("no upstream named " + upstream + " (this agent applies " + names + ")");
}

void ApplyAgent::Stop() {
  stopping_ = true;
  for (auto& stream : streams_) stream->Wake();
  // A stream between statements stops at once, committing what it applied; one blocked on the
  // target (a lock, a long statement) gets a moment, then its statement is cancelled.
  const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  for (auto& stream : streams_) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!stream->WaitFinished(std::max(left, milliseconds(0)))) stream->CancelTargetStatement();
  }
  for (auto& stream : streams_) stream->Join();
}

Status CheckMappingsAgainstTarget(const std::vector<MappingRule>& rules, Sink& sink,
                                  bool create_tables) {
  std::string problems;
  for (size_t i = 0; i < rules.size(); ++i) {
    const MappingRule& rule = rules[i];
    auto [schema, table] = SplitQualifiedName(rule.target.empty() ? rule.source : rule.target);
    std::string where = "mappings[" + std::to_string(i) + "] (" + rule.source + "): ";
    auto columns = sink.TargetColumns(schema, table);
    if (!columns.ok()) return columns.status();
    if (!columns->has_value() && create_tables) continue;
    if (!columns->has_value()) {
      problems += where + "target table " + schema + "." + table +
                  " does not exist on the target: create it, fix `target:`, or set "
                  "create_tables: true\n";
      continue;
    }
    std::set<std::string> present((*columns)->begin(), (*columns)->end());
    for (const auto& [source_column, target_column] : rule.renames) {
      if (present.count(target_column) == 0) {
        problems += where + "columns." + source_column + ": target table " + schema + "." + table +
                    " has no column \"" + target_column + "\"\n";
      }
    }
  }
  if (problems.empty()) return Status::Ok();
  problems.pop_back();
  return Status::Error(problems);
}

}  // namespace ferry::apply
