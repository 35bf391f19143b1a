// The capture side's view of a source database: a stream of transactions for one subscriber.
// Engine adapters (capture/postgres, capture/mysql) implement ChangeSource; the capture agent
// drives it from its session thread (one thread per subscriber, one source per session) and knows
// nothing of the engine.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "wire/ferry.pb.h"

namespace ferry::capture {

// Nothing arrived within the wait.
struct NoEvent {};

// The source's current end of log and clock, from a keepalive. When the agent has nothing in
// flight, it may confirm `head` so the source does not keep log it will never need.
struct SourceHeartbeat {
  wire::Position head;
  int64_t source_time_us = 0;
};

// One source transaction arrives as Begin, then Relations and RowChanges in order, then Commit.
using SourceEvent = std::variant<NoEvent, SourceHeartbeat, wire::Begin, wire::Relation,
                                 wire::RowChange, wire::Commit>;

class ChangeSource {
 public:
  virtual ~ChangeSource() = default;

  // Connects and starts streaming after `resume` (a transaction the subscriber already has; empty
  // engine = wherever the source's own bookmark for this subscriber is). Creates whatever the
  // source needs for this subscriber (PostgreSQL: publication and slot) if it is missing.
  virtual Status Start(const wire::Position& resume) = 0;

  // The next event, waiting at most `timeout`. Errors end the stream; call Start again.
  virtual Result<SourceEvent> Next(std::chrono::milliseconds timeout) = 0;

  // The subscriber holds everything up to and including `position` durably: the source may
  // discard it. Never called with a position beyond what the subscriber acknowledged, or beyond a
  // heartbeat head seen while nothing was in flight.
  virtual Status Confirm(const wire::Position& position) = 0;

  // Asks the source to report its head soon (as a SourceHeartbeat), where it would otherwise
  // wait: a chunk of a copy waits for the stream to pass its fence (capture/table_copier.h).
  virtual Status RequestHeartbeat() { return Status::Ok(); }

  // Stops streaming and closes the connection.
  virtual void Stop() = 0;

  // "postgres", "mariadb", ...
  virtual std::string engine() const = 0;

  // After a Start without resume position: where the stream began, when the source keeps no
  // bookmark of its own for the subscriber (MySQL/MariaDB: the end of the binary log at Start).
  // The subscriber records it as its checkpoint before anything else (invariant 2: the apply
  // side owns the position), so a reconnect before its first commit resumes there instead of
  // at a later end of log. Nullopt when the source remembers (a PostgreSQL slot) or on resume.
  virtual std::optional<wire::Position> start_position() const { return std::nullopt; }
};

// Creates a source for one subscriber. One factory per agent, called once per connection.
using ChangeSourceFactory = std::function<Result<std::unique_ptr<ChangeSource>>(
    const std::string& subscriber_id, const std::vector<std::string>& tables)>;

}  // namespace ferry::capture
