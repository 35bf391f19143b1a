#include "capture/postgres/pg_connection.h"

#include <libpq-fe.h>

#include <utility>

#include "capture/postgres/replication_stream.h"

namespace ferry::capture::postgres {

void PgResultDeleter::operator()(pg_result* result) const { PQclear(result); }

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& dsn) {
  Result<std::vector<std::pair<std::string, std::string>>> params = SessionConnectParams(dsn);
  if (!params.ok()) return params.status();
  Result<PGconn*> conn = OpenConnection(*params, "connecting to source PostgreSQL");
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<PgConnection>(new PgConnection(*conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

std::string PgConnection::LastError() const {
  std::string text = PQerrorMessage(conn_);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

Result<PgResult> PgConnection::Query(const std::string& sql, const std::vector<std::string>& params,
                                     const std::vector<uint32_t>& param_types,
                                     const std::string& what) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& param : params) values.push_back(param.c_str());
  // libpq reads one type per parameter: missing ones are 0, "infer".
  std::vector<Oid> types(params.size(), 0);
  for (size_t i = 0; i < param_types.size() && i < types.size(); ++i) types[i] = param_types[i];
  PgResult result(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), types.data(),
                               values.data(), nullptr, nullptr, /*resultFormat=*/0));
  if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return Status::Error(what + ": " + LastError());
  }
  return result;
}

Status PgConnection::Command(const std::string& sql, const std::string& what) {
  PgResult result(PQexec(conn_, sql.c_str()));
  if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return Status::Error(what + ": " + LastError());
  }
  return Status::Ok();
}

Result<std::string> PgConnection::Literal(const std::string& text) {
  char* quoted = PQescapeLiteral(conn_, text.c_str(), text.size());
  if (quoted == nullptr) return Status::Error("quoting a literal: " + LastError());
  std::string literal = quoted;
  PQfreemem(quoted);
  return literal;
}

}  // namespace ferry::capture::postgres
