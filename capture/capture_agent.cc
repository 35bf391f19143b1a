#include "capture/capture_agent.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <optional>
#include <variant>

#include "capture/origin_filter.h"
#include "capture/table_copier.h"
#include "common/log.h"
#include "wire/auth.h"
#include "wire/position.h"

namespace ferry::capture {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kHelloTimeout{10000};
// Before its Hello is accepted a peer may send no frame larger than this: a Hello is small (a
// resumed copy's list of tables and keys at most), and a stranger must not make the agent hold
// max_frame_bytes of buffer.
constexpr size_t kHelloFrameBytes = 1 << 20;
constexpr milliseconds kAcceptPoll{200};
// After a failed accept (out of descriptors, say) the loop waits, doubling up to this.
constexpr milliseconds kMaxAcceptBackoff{1000};
constexpr milliseconds kMaxSourceWait{200};
// While a copied chunk waits for the stream to pass its fence, the source is asked this often to
// say how far it is (capture/table_copier.h).
constexpr milliseconds kHeadRequestInterval{100};
// Commit times kept for acks to come: more than an apply agent leaves unacknowledged.
constexpr size_t kKeptCommitTimes = 100000;

int64_t NowUnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Acks arrive on the connection's reading side while the session thread is busy sending; this
// collects them for the session thread.
class AckInbox {
 public:
  void Add(const wire::Position& position) {
    std::lock_guard lock(mutex_);
    latest_ = position;
    ++count_;
  }
  void Fail(std::string reason) {
    std::lock_guard lock(mutex_);
    if (!failure_) failure_ = std::move(reason);
  }
  // Acks received since the last call, and the newest acked position.
  std::pair<uint64_t, std::optional<wire::Position>> Take() {
    std::lock_guard lock(mutex_);
    auto result = std::make_pair(count_, latest_);
    count_ = 0;
    latest_.reset();
    return result;
  }
  std::optional<std::string> failure() {
    std::lock_guard lock(mutex_);
    return failure_;
  }

 private:
  std::mutex mutex_;
  uint64_t count_ = 0;
  std::optional<wire::Position> latest_;
  std::optional<std::string> failure_;
};

}  // namespace

// One apply agent's connection: handshake, then stream source events as frames until the
// connection or the source fails, or the agent stops.
class CaptureAgent::Session {
 public:
  Session(CaptureAgent& agent, std::unique_ptr<wire::FrameConnection> connection)
      : agent_(agent), connection_(std::move(connection)), log_(Logger("capture")) {}

  ~Session() {
    Stop();
    if (thread_.joinable()) thread_.join();
  }

  void Launch() {
    thread_ = std::thread([this] {
      Serve();
      finished_ = true;
    });
  }
  void Stop() {
    stopping_ = true;
    connection_->Close();
  }
  bool finished() const { return finished_; }
  const std::string& subscriber() const { return subscriber_; }

 private:
  // Between a source transaction's Begin and Commit, whether or not the origin filter sent it.
  bool InSourceTransaction() const {
    return in_transaction_ || (origins_ && origins_->in_transaction());
  }
  void Serve();
  Status Handshake(wire::Hello& hello);
  Status StartCopy(const wire::CopyRequest& request, wire::Welcome& welcome);
  Status Stream(ChangeSource& source);
  Status SendEvent(const SourceEvent& event);
  Status PollCopy(ChangeSource& source);
  Status ObserveForCopy(const SourceEvent& event);
  Status FlushChanges();
  Status SendHeartbeat();
  Status ProcessAcks(ChangeSource& source);
  Status CheckAck(const wire::Position& ack) const;
  int64_t TakeCommitTime(const wire::Position& ack);
  Status ConfirmIfIdle(ChangeSource& source);
  void ReadAcks();
  void Refuse(const std::string& code, const std::string& message);
  void UpdateStatus(const std::function<void(admin::StreamStatus&)>& update) {
    agent_.registry_.UpdateStream(subscriber_.empty() ? connection_->peer() : subscriber_, update);
  }

  CaptureAgent& agent_;
  std::unique_ptr<wire::FrameConnection> connection_;
  std::shared_ptr<spdlog::logger> log_;
  std::thread thread_;
  std::thread ack_reader_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};
  std::string subscriber_;
  std::string welcome_proof_;  // once the Hello is admitted
  AckInbox acks_;

  // Streaming state, touched only by the session thread.
  wire::Changes pending_changes_;
  size_t pending_bytes_ = 0;
  bool in_transaction_ = false;
  // The last Commit sent, until an ack names it: the apply side acknowledges a group of
  // transactions with one ack (its last), so acks are not counted against commits.
  std::optional<wire::Position> unacked_commit_;
  // The last Commit sent at all: no ack may go beyond it.
  std::optional<wire::Position> last_commit_sent_;
  std::optional<wire::Position> source_head_;
  int64_t source_head_time_us_ = 0;
  // Commit times of commits sent and not yet acknowledged, oldest first, so an ack's commit
  // time is known (MySQL/MariaDB give binary logs up by age: capture/retention_watch.h).
  std::deque<std::pair<std::string, int64_t>> unacked_commit_times_;
  int64_t acked_commit_time_us_ = 0;
  Clock::time_point last_heartbeat_sent_{};
  uint64_t rows_in_transaction_ = 0;
  std::optional<OriginFilter> origins_;  // once the subscriber is known
  std::unique_ptr<TableCopier> copier_;  // while existing rows are being copied
  Clock::time_point head_requested_at_{};
};

void CaptureAgent::Session::Serve() {
  wire::Hello hello;
  if (Status s = Handshake(hello); !s.ok()) {
    log_->warn("refused connection from {}: {}", connection_->peer(), s.message());
    connection_->Close();
    return;
  }
  agent_.TakeOverSubscriber(this, subscriber_);
  UpdateStatus([&](admin::StreamStatus& st) {
    st.state = "connecting";
    st.peer = connection_->peer();
    st.last_error.clear();
  });

  auto source = agent_.source_factory_(subscriber_, {hello.tables().begin(), hello.tables().end()});
  Status status = source.ok() ? (*source)->Start(hello.resume_from()) : source.status();
  if (!status.ok()) {
    log_->error("subscriber {}: cannot start the source: {}", subscriber_, status.message());
    Refuse("source", status.message());
    UpdateStatus([&](admin::StreamStatus& st) {
      st.state = "error";
      st.last_error = status.message();
    });
    return;
  }
  wire::Welcome welcome;
  welcome.set_protocol_version(wire::kProtocolVersion);
  welcome.set_node(agent_.options_.node);
  welcome.set_engine((*source)->engine());
  welcome.set_heartbeat_interval_ms(
      static_cast<uint32_t>(agent_.options_.heartbeat_interval.count()));
  welcome.set_auth_proof(welcome_proof_);
  if (auto start = (*source)->start_position()) *welcome.mutable_start() = *start;
  status = StartCopy(hello.copy(), welcome);
  if (!status.ok()) {
    log_->error("subscriber {}: cannot copy existing rows: {}", subscriber_, status.message());
    Refuse("copy", status.message());
    (*source)->Stop();
    UpdateStatus([&](admin::StreamStatus& st) {
      st.state = "error";
      st.last_error = status.message();
    });
    return;
  }
  status = connection_->Send(wire::FrameType::kWelcome, welcome);
  if (status.ok()) {
    log_->info("subscriber {} connected from {}, resuming after {}", subscriber_,
               connection_->peer(),
               hello.resume_from().engine().empty() ? "the slot's confirmed position"
                                                    : hello.resume_from().value());
    UpdateStatus([](admin::StreamStatus& st) { st.state = "streaming"; });
    ack_reader_ = std::thread([this] { ReadAcks(); });
    status = Stream(**source);
  }
  (*source)->Stop();
  connection_->Close();
  if (ack_reader_.joinable()) ack_reader_.join();
  if (stopping_) {
    log_->info("subscriber {}: session ended", subscriber_);
    UpdateStatus([](admin::StreamStatus& st) { st.state = "disconnected"; });
  } else {
    log_->warn("subscriber {}: session ended: {}", subscriber_, status.message());
    UpdateStatus([&](admin::StreamStatus& st) {
      st.state = "disconnected";
      st.last_error = status.message();
    });
  }
}

// Challenge, then Hello: the peer proves its subscriber's token over this connection's nonces
// (wire/auth.h), and learns in the Welcome that this agent holds the token too.
Status CaptureAgent::Session::Handshake(wire::Hello& hello) {
  connection_->SetMaxReceiveBytes(std::min(kHelloFrameBytes, agent_.options_.max_frame_bytes));
  auto nonce = wire::RandomNonce();
  if (!nonce.ok()) {
    Refuse("internal", nonce.message());
    return nonce.status();
  }
  wire::Challenge challenge;
  challenge.set_protocol_version(wire::kProtocolVersion);
  challenge.set_nonce(*nonce);
  FERRY_RETURN_IF_ERROR(connection_->Send(wire::FrameType::kChallenge, challenge));
  auto frame = connection_->Receive(kHelloTimeout);
  if (!frame.ok()) return frame.status();
  if (!frame->has_value()) return Status::Error("no Hello within 10 s");
  if ((*frame)->type != wire::FrameType::kHello) {
    Refuse("protocol", "expected Hello, got " + wire::FrameTypeName((*frame)->type));
    return Status::Error("first frame was " + wire::FrameTypeName((*frame)->type) + ", not Hello");
  }
  FERRY_RETURN_IF_ERROR(wire::ParsePayload(**frame, &hello));
  if (hello.protocol_version() != wire::kProtocolVersion) {
    std::string message = "protocol version " + std::to_string(hello.protocol_version()) +
                          " is not supported; this capture agent speaks version " +
                          std::to_string(wire::kProtocolVersion) + ": run the same Ferry version";
    Refuse("version", message);
    return Status::Error(message);
  }
  auto token = agent_.authenticator_.Admit(hello, *nonce, connection_->PeerCertificateName());
  if (!token.ok()) {
    Refuse("auth", token.message());
    return token.status();
  }
  welcome_proof_ =
      wire::WelcomeProof(*token, {*nonce, hello.client_nonce(), hello.subscriber_id()});
  subscriber_ = hello.subscriber_id();
  connection_->SetMaxReceiveBytes(agent_.options_.max_frame_bytes);
  origins_.emplace(OriginFilterOptions{subscriber_, agent_.options_.forward_remote_changes});
  return Status::Ok();
}

// Sets up the copy the subscriber asked for, if any. On first contact the tables come from the
// source (every table the stream carries) and are named in the Welcome, so that the subscriber
// records them before anything else; a resumed copy or a re-copy names its tables itself. Every
// Welcome lists the tables the stream carries when this agent can copy, so that the subscriber
// can check a re-copy request before recording it.
Status CaptureAgent::Session::StartCopy(const wire::CopyRequest& request, wire::Welcome& welcome) {
  const bool wanted = request.initial() || request.tables_size() > 0;
  if (!agent_.chunk_reader_factory_) {
    if (!wanted) return Status::Ok();
    return Status::Error("this capture agent cannot copy existing rows from its source; " +
                         std::string("seed the target by other means and set `copy_data: false` ") +
                         "in the apply config");
  }
  auto reader = agent_.chunk_reader_factory_(subscriber_);
  auto all = reader.ok() ? (*reader)->TablesToCopy() : reader.status();
  if (!all.ok()) {
    if (!wanted) {
      log_->debug("subscriber {}: cannot list the tables to copy: {}", subscriber_, all.message());
      return Status::Ok();
    }
    return all.status();
  }
  for (const std::string& table : *all) welcome.add_replicated_tables(table);
  if (!wanted) return Status::Ok();
  std::vector<wire::TableCopy> tables(request.tables().begin(), request.tables().end());
  for (const wire::TableCopy& table : tables) {
    if (std::find(all->begin(), all->end(), table.table()) == all->end()) {
      return Status::Error("cannot copy " + table.table() +
                           ": the stream does not carry it (it is not in the publication, or " +
                           "the capture config's tables do not select it); add it back, or " +
                           "delete its row from ferry_meta.copy_progress on the target");
    }
  }
  if (request.initial()) {
    for (const std::string& table : *all) {
      welcome.add_copy_tables(table);
      const bool listed = std::any_of(tables.begin(), tables.end(),
                                      [&](const wire::TableCopy& t) { return t.table() == table; });
      if (listed) continue;
      wire::TableCopy copy;
      copy.set_table(table);
      tables.push_back(std::move(copy));
    }
  }
  TableCopierOptions options{agent_.options_.copy_chunk_rows, agent_.options_.rows_per_frame,
                             agent_.options_.bytes_per_frame,
                             std::clamp<size_t>(request.parallel_tables(), 1, kMaxParallelTables),
                             agent_.options_.copy_max_rows_per_second};
  log_->info("subscriber {}: copying the existing rows of {} table(s), {} at a time", subscriber_,
             tables.size(), std::min(options.parallel_tables, tables.size()));
  copier_ = std::make_unique<TableCopier>(
      std::move(reader).value(), std::move(tables), options,
      [this](wire::FrameType type, const google::protobuf::Message& message) {
        return connection_->Send(type, message);
      });
  return Status::Ok();
}

void CaptureAgent::Session::Refuse(const std::string& code, const std::string& message) {
  wire::Error error;
  error.set_code(code);
  error.set_message(message);
  (void)connection_->Send(wire::FrameType::kError, error);
}

void CaptureAgent::Session::ReadAcks() {
  while (!stopping_) {
    auto frame = connection_->Receive(milliseconds(1000));
    if (!frame.ok()) {
      acks_.Fail(frame.message());
      return;
    }
    if (!frame->has_value()) continue;
    wire::Ack ack;
    if ((*frame)->type != wire::FrameType::kAck) {
      wire::Error error;
      if ((*frame)->type == wire::FrameType::kError && wire::ParsePayload(**frame, &error).ok()) {
        acks_.Fail("apply agent reported: " + error.message());
      } else {
        acks_.Fail("unexpected " + wire::FrameTypeName((*frame)->type) + " frame from apply");
      }
      return;
    }
    if (Status s = wire::ParsePayload(**frame, &ack); !s.ok()) {
      acks_.Fail(s.message());
      return;
    }
    acks_.Add(ack.position());
  }
}

Status CaptureAgent::Session::Stream(ChangeSource& source) {
  while (!stopping_) {
    if (auto failure = acks_.failure()) return Status::Error(*failure);
    FERRY_RETURN_IF_ERROR(ProcessAcks(source));
    if (Status copied = PollCopy(source); !copied.ok()) {
      Refuse("copy", copied.message());  // the subscriber's operator needs the cause too
      return copied;
    }
    auto wait = std::min(kMaxSourceWait, agent_.options_.heartbeat_interval);
    // Between transactions, a copy with its next chunk to read waits for the source only until
    // that read is due.
    if (copier_ && !InSourceTransaction()) wait = std::min(wait, copier_->TimeToNextRead());
    auto event = source.Next(wait);
    if (!event.ok()) {
      // The subscriber's operator needs the cause too, not just a closed connection.
      Refuse("source", event.message());
      return event.status();
    }
    const bool heartbeat = std::holds_alternative<SourceHeartbeat>(*event);
    const uint64_t filtered = origins_->filtered_transactions();
    for (const SourceEvent& out : origins_->Take(std::move(*event))) {
      if (Status sent = SendEvent(out); !sent.ok()) {
        // A row too large for a frame, say: the subscriber's operator must learn why, or its
        // agent only sees the connection close and tries again forever.
        Refuse("send", sent.message());
        return sent;
      }
    }
    if (origins_->filtered_transactions() != filtered) {
      UpdateStatus([&](admin::StreamStatus& st) {
        st.filtered_transactions = origins_->filtered_transactions();
      });
    }
    if (heartbeat) FERRY_RETURN_IF_ERROR(ConfirmIfIdle(source));
    if (Clock::now() - last_heartbeat_sent_ >= agent_.options_.heartbeat_interval) {
      FERRY_RETURN_IF_ERROR(SendHeartbeat());
    }
  }
  return Status::Ok();
}

Status CaptureAgent::Session::ProcessAcks(ChangeSource& source) {
  auto acks = acks_.Take();
  uint64_t count = acks.first;
  if (count == 0) return Status::Ok();
  const wire::Position latest = *acks.second;
  if (Status valid = CheckAck(latest); !valid.ok()) {
    Refuse("ack", valid.message());
    return valid;
  }
  if (unacked_commit_ && unacked_commit_->engine() == latest.engine() &&
      unacked_commit_->value() == latest.value()) {
    unacked_commit_.reset();
  }
  FERRY_RETURN_IF_ERROR(source.Confirm(latest));
  agent_.acknowledged_.Record(subscriber_, latest, TakeCommitTime(latest));
  UpdateStatus([&](admin::StreamStatus& st) { st.position = latest.value(); });
  return Status::Ok();
}

// The commit time of the acknowledged commit, forgetting those of the commits it covers. An ack
// of a commit whose time was dropped (more than kKeptCommitTimes unacknowledged) keeps the
// previous ack's time: older, so the retention watch errs on the side of warning early.
int64_t CaptureAgent::Session::TakeCommitTime(const wire::Position& ack) {
  auto it = std::find_if(unacked_commit_times_.begin(), unacked_commit_times_.end(),
                         [&](const auto& entry) { return entry.first == ack.value(); });
  if (it != unacked_commit_times_.end()) {
    acked_commit_time_us_ = it->second;
    unacked_commit_times_.erase(unacked_commit_times_.begin(), it + 1);
  }
  return acked_commit_time_us_;
}

// An ack beyond what this session sent would make the source discard log the subscriber never
// received (and a PostgreSQL slot cannot go back): the peer is broken or hostile.
Status CaptureAgent::Session::CheckAck(const wire::Position& ack) const {
  const std::string what = "ack of " + ack.engine() + " position '" + ack.value() + "'";
  if (!last_commit_sent_) {
    return Status::Error(what + " before any commit was sent on this connection; refused");
  }
  Result<bool> covered = wire::IsCovered(ack, *last_commit_sent_);
  if (!covered.ok()) return Status::Error(what + " refused: " + covered.message());
  if (!*covered) {
    return Status::Error(what + " is beyond the last commit sent (" + last_commit_sent_->value() +
                         "); refused");
  }
  return Status::Ok();
}

// When everything sent is acknowledged and no transaction is being read, nothing up to the
// source's head is of interest to this subscriber: confirming it keeps the source from holding
// log for changes on tables this subscriber does not replicate.
Status CaptureAgent::Session::ConfirmIfIdle(ChangeSource& source) {
  bool idle = !InSourceTransaction() && pending_changes_.changes_size() == 0 && !unacked_commit_;
  if (!idle || !source_head_) return Status::Ok();
  FERRY_RETURN_IF_ERROR(source.Confirm(*source_head_));
  agent_.acknowledged_.Record(subscriber_, *source_head_, source_head_time_us_);
  return Status::Ok();
}

// Between source transactions the copier may read its next chunk, or send the one it holds.
Status CaptureAgent::Session::PollCopy(ChangeSource& source) {
  if (!copier_ || InSourceTransaction()) return Status::Ok();
  FERRY_RETURN_IF_ERROR(copier_->Poll(source_head_));
  if (copier_->waiting() && Clock::now() - head_requested_at_ >= kHeadRequestInterval) {
    head_requested_at_ = Clock::now();
    FERRY_RETURN_IF_ERROR(source.RequestHeartbeat());
  }
  if (copier_->done()) {
    log_->info("subscriber {}: every table's existing rows are copied", subscriber_);
    copier_.reset();
  }
  return Status::Ok();
}

// The copier sees every event before it is sent: a chunk may have to go before a transaction,
// or leave out rows a transaction touched (capture/table_copier.h).
Status CaptureAgent::Session::ObserveForCopy(const SourceEvent& event) {
  if (!copier_) return Status::Ok();
  if (auto* heartbeat = std::get_if<SourceHeartbeat>(&event)) {
    return InSourceTransaction() ? Status::Ok() : copier_->OnHead(heartbeat->head);
  }
  if (auto* begin = std::get_if<wire::Begin>(&event)) return copier_->OnBegin(*begin);
  if (auto* relation = std::get_if<wire::Relation>(&event)) copier_->OnRelation(*relation);
  if (auto* row = std::get_if<wire::RowChange>(&event)) copier_->OnRow(*row);
  if (std::holds_alternative<wire::Commit>(event)) copier_->OnCommit();
  return Status::Ok();
}

Status CaptureAgent::Session::SendEvent(const SourceEvent& event) {
  FERRY_RETURN_IF_ERROR(ObserveForCopy(event));
  if (auto* heartbeat = std::get_if<SourceHeartbeat>(&event)) {
    source_head_ = heartbeat->head;
    source_head_time_us_ = heartbeat->source_time_us;
    UpdateStatus([&](admin::StreamStatus& st) { st.source_head = heartbeat->head.value(); });
    return Status::Ok();
  }
  if (auto* begin = std::get_if<wire::Begin>(&event)) {
    in_transaction_ = true;
    rows_in_transaction_ = 0;
    return connection_->Send(wire::FrameType::kBegin, *begin);
  }
  if (auto* relation = std::get_if<wire::Relation>(&event)) {
    *pending_changes_.add_changes()->mutable_relation() = *relation;
    pending_bytes_ += relation->ByteSizeLong();
  } else if (auto* row = std::get_if<wire::RowChange>(&event)) {
    *pending_changes_.add_changes()->mutable_row() = *row;
    pending_bytes_ += row->ByteSizeLong();
    ++rows_in_transaction_;
  } else if (auto* commit = std::get_if<wire::Commit>(&event)) {
    FERRY_RETURN_IF_ERROR(FlushChanges());
    FERRY_RETURN_IF_ERROR(connection_->Send(wire::FrameType::kCommit, *commit));
    in_transaction_ = false;
    unacked_commit_ = commit->position();
    last_commit_sent_ = commit->position();
    if (unacked_commit_times_.size() >= kKeptCommitTimes) unacked_commit_times_.pop_front();
    unacked_commit_times_.emplace_back(commit->position().value(), commit->commit_time_us());
    uint64_t rows = rows_in_transaction_;
    UpdateStatus([&](admin::StreamStatus& st) {
      ++st.transactions;
      st.rows += rows;
    });
    return Status::Ok();
  }
  if (static_cast<size_t>(pending_changes_.changes_size()) >= agent_.options_.rows_per_frame ||
      pending_bytes_ >= agent_.options_.bytes_per_frame) {
    return FlushChanges();
  }
  return Status::Ok();
}

Status CaptureAgent::Session::FlushChanges() {
  if (pending_changes_.changes_size() == 0) return Status::Ok();
  Status status = connection_->Send(wire::FrameType::kChanges, pending_changes_);
  pending_changes_.Clear();
  pending_bytes_ = 0;
  return status;
}

// Tells apply the source's clock: this agent runs beside the source, so its clock is the
// source's, and commit times come from the same clock.
Status CaptureAgent::Session::SendHeartbeat() {
  bool idle = !InSourceTransaction() && pending_changes_.changes_size() == 0;
  wire::Heartbeat heartbeat;
  if (source_head_) *heartbeat.mutable_source_head() = *source_head_;
  heartbeat.set_source_time_us(NowUnixMicros());
  heartbeat.set_idle(idle);
  last_heartbeat_sent_ = Clock::now();
  return connection_->Send(wire::FrameType::kHeartbeat, heartbeat);
}

namespace {
std::vector<std::string> ListedSubscriberIds(const SubscriberPolicy& policy) {
  std::vector<std::string> ids;
  for (const SubscriberCredentials& listed : policy.subscribers) ids.push_back(listed.id);
  return ids;
}
}  // namespace

CaptureAgent::CaptureAgent(CaptureAgentOptions options, ChangeSourceFactory source_factory,
                           ChunkReaderFactory chunk_reader_factory,
                           admin::MetricsRegistry& registry)
    : options_(std::move(options)),
      source_factory_(std::move(source_factory)),
      chunk_reader_factory_(std::move(chunk_reader_factory)),
      authenticator_(options_.subscribers),
      registry_(registry),
      acknowledged_(ListedSubscriberIds(options_.subscribers)) {}

CaptureAgent::~CaptureAgent() {
  Stop();
  EndAllSessions();
  if (retention_watch_) retention_watch_->Stop();
}

std::string CaptureAgent::TransportText() const {
  if (options_.tls == nullptr) return "plain TCP, allowed by " + options_.plain_tcp_note;
  return "TLS";
}

Status CaptureAgent::Start() {
  auto listener =
      wire::FrameListener::Listen(options_.listen, options_.max_frame_bytes, options_.tls);
  if (!listener.ok())
    return listener.status().WithContext("capture listen address " + options_.listen);
  listener_ = std::move(*listener);
  if (options_.retention_probe) {
    retention_watch_ = std::make_unique<RetentionWatch>(options_.retention_probe, acknowledged_,
                                                        options_.retention_interval, registry_);
    retention_watch_->Start();
  }
  Logger("capture")->info("node {} listening on {} (port {}), {}; admits {}", options_.node,
                          options_.listen, listener_->port(), TransportText(),
                          authenticator_.Describe());
  return Status::Ok();
}

void CaptureAgent::Run() {
  milliseconds backoff{0};
  while (!stopping_) {
    auto connection = listener_->Accept(kAcceptPoll);
    ReapFinishedSessions();
    if (!connection.ok()) {
      if (stopping_) continue;
      // Out of descriptors, say: the same failure would come back at once, and the loop spin.
      backoff = std::min(kMaxAcceptBackoff, std::max(milliseconds(10), backoff * 2));
      Logger("capture")->error("accept failed: {}; trying again in {} ms", connection.message(),
                               backoff.count());
      std::this_thread::sleep_for(backoff);
      continue;
    }
    backoff = milliseconds(0);
    if (*connection == nullptr) continue;
    if (SessionCount() >= options_.max_connections) {
      RefuseConnection(**connection);
      continue;
    }
    StartSession(std::move(*connection));
  }
  EndAllSessions();
}

size_t CaptureAgent::SessionCount() {
  std::lock_guard lock(sessions_mutex_);
  return sessions_.size();
}

// One connection too many: told why, then closed, without a thread of its own.
void CaptureAgent::RefuseConnection(wire::FrameConnection& connection) {
  const std::string message = "this capture agent already serves " +
                              std::to_string(options_.max_connections) +
                              " connections (max_connections); try again later, or raise "
                              "max_connections in its config";
  Logger("capture")->warn("connection from {} refused: {}", connection.peer(), message);
  wire::Error error;
  error.set_code("busy");
  error.set_message(message);
  (void)connection.Send(wire::FrameType::kError, error);
  connection.Close();
}

// Sessions are destroyed (joined) outside the lock: a session thread may be waiting for it.
void CaptureAgent::EndAllSessions() {
  std::map<Session*, std::shared_ptr<Session>> ending;
  {
    std::lock_guard lock(sessions_mutex_);
    ending.swap(sessions_);
  }
  for (auto& [ptr, session] : ending) session->Stop();
  ending.clear();
}

void CaptureAgent::Stop() {
  stopping_ = true;
  std::lock_guard lock(sessions_mutex_);
  for (auto& [ptr, session] : sessions_) session->Stop();
}

uint16_t CaptureAgent::port() const { return listener_ ? listener_->port() : 0; }

void CaptureAgent::StartSession(std::unique_ptr<wire::FrameConnection> connection) {
  auto session = std::make_shared<Session>(*this, std::move(connection));
  Session* raw = session.get();
  std::lock_guard lock(sessions_mutex_);
  sessions_.emplace(raw, std::move(session));
  raw->Launch();
}

void CaptureAgent::ReapFinishedSessions() {
  std::vector<std::shared_ptr<Session>> finished;
  std::lock_guard lock(sessions_mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second->finished()) {
      finished.push_back(it->second);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

void CaptureAgent::TakeOverSubscriber(Session* newcomer, const std::string& subscriber) {
  std::vector<std::shared_ptr<Session>> previous;
  {
    std::lock_guard lock(sessions_mutex_);
    for (auto& [ptr, session] : sessions_) {
      if (ptr != newcomer && session->subscriber() == subscriber && !session->finished()) {
        Logger("capture")->info("subscriber {} reconnected: ending its previous session",
                                subscriber);
        session->Stop();
        previous.push_back(session);
      }
    }
  }
  // The source (a PostgreSQL slot) can be read by one session at a time: wait for the old one.
  auto deadline = Clock::now() + std::chrono::seconds(30);
  for (const auto& old : previous) {
    while (!old->finished() && Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
}

}  // namespace ferry::capture
