// The capture agent: listens for apply agents and, for each one, streams its source's
// transactions as wire frames. Engine-neutral: the source comes from a ChangeSourceFactory.
//
// Invariants it keeps:
//  - The source is told to discard changes only up to what the apply side acknowledged
//    (ARCHITECTURE.md #3), or up to the source's end of log when nothing is in flight, so a slot
//    never holds WAL because of traffic on tables nobody replicates.
//  - Frames are written with blocking sends and the source is read only between sends, so a slow
//    apply side stops the source reader instead of filling memory (ARCHITECTURE.md #4).
//  - One session per subscriber: a new connection for a subscriber replaces the old one, and only
//    after it proved that subscriber's credentials (capture/subscriber_auth.h).
//  - An ack may name only a commit the session sent: a peer cannot make the source discard log
//    it never delivered.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "admin/registry.h"
#include "capture/chunk_reader.h"
#include "capture/retention_watch.h"
#include "capture/source.h"
#include "capture/subscriber_auth.h"
#include "common/status.h"
#include "wire/connection.h"

namespace ferry::capture {

struct CaptureAgentOptions {
  std::string node;
  std::string listen = "127.0.0.1:7400";
  // Set: every connection is TLS (wire/tls.h). Unset: plain TCP; `plain_tcp_note` says why it is
  // allowed, for the log ("a loopback address", "tls: disabled").
  std::shared_ptr<const wire::TlsContext> tls;
  std::string plain_tcp_note = "a loopback address";
  // Who may subscribe and with which token (capture/subscriber_auth.h).
  SubscriberPolicy subscribers;
  std::chrono::milliseconds heartbeat_interval{1000};
  size_t max_frame_bytes = wire::kDefaultMaxFrameBytes;
  // Connections served at once, authenticated or not; one more is refused with an Error.
  size_t max_connections = 64;
  size_t rows_per_frame = 1000;
  size_t bytes_per_frame = 1024 * 1024;  // a Changes frame is flushed at this size
  size_t copy_chunk_rows = 10000;        // rows per chunk when copying existing rows
  size_t copy_max_rows_per_second = 0;   // per session's copy; 0: no limit
  // Forward transactions that apply agents wrote here from a third node (a ring); false: only
  // transactions written here (a full mesh). Never the subscriber's own (capture/origin_filter.h).
  bool forward_remote_changes = true;
  // Set: what the source keeps for each subscriber is checked this often, connected or not
  // (capture/retention_watch.h).
  RetentionProbe retention_probe;
  std::chrono::milliseconds retention_interval{10000};
};

class CaptureAgent {
 public:
  // `chunk_reader_factory` serves subscribers that ask for a copy of existing rows; without
  // one, such a request is refused with an error that names the fix.
  CaptureAgent(CaptureAgentOptions options, ChangeSourceFactory source_factory,
               ChunkReaderFactory chunk_reader_factory, admin::MetricsRegistry& registry);
  ~CaptureAgent();

  // Binds the listening address.
  Status Start();
  // How connections are carried, for the log: "TLS", "TLS, client certificates required" or
  // "plain TCP, allowed by ...".
  std::string TransportText() const;
  // Accepts and serves apply agents until Stop() is called.
  void Run();
  // Ends Run() and every session; callable from any thread.
  void Stop();
  uint16_t port() const;

 private:
  class Session;
  void StartSession(std::unique_ptr<wire::FrameConnection> connection);
  void ReapFinishedSessions();
  size_t SessionCount();
  void RefuseConnection(wire::FrameConnection& connection);
  void EndAllSessions();
  // Ends the other sessions of `subscriber` and waits for them: a source (a PostgreSQL slot)
  // serves one reader at a time.
  void TakeOverSubscriber(Session* newcomer, const std::string& subscriber);

  const CaptureAgentOptions options_;
  const ChangeSourceFactory source_factory_;
  const ChunkReaderFactory chunk_reader_factory_;
  const SubscriberAuthenticator authenticator_;
  admin::MetricsRegistry& registry_;
  std::unique_ptr<wire::FrameListener> listener_;
  AcknowledgementBook acknowledged_;  // for the retention watch
  std::unique_ptr<RetentionWatch> retention_watch_;
  std::atomic<bool> stopping_{false};
  std::mutex sessions_mutex_;
  std::map<Session*, std::shared_ptr<Session>> sessions_;
};

}  // namespace ferry::capture
