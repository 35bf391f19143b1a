// MySQL/MariaDB as an apply target (MySQL Connector/C++, its JDBC-style API). Keeps
// ferry_meta.checkpoints and ferry_meta.conflicts (a database of its own, InnoDB), writes each
// source transaction in one target transaction that upserts the checkpoint first, and applies
// rows through server-side prepared statements cached by their SQL text. Values are converted
// by the target column's type (apply/mysql/mysql_values.h has the mapping table); a value the
// column cannot hold exactly is an error naming table, column and value.
//
// Behaviour, as the PostgreSQL sink's:
//  - The replica follows its source: an insert meeting an existing key overwrites that row
//    (kInsertedOverExisting), an update finding no row inserts it (kUpdateInsertedMissing), a
//    delete finding no row is a no-op (kDeleteMissing); `unchanged` values leave their column
//    as it is; a full old image is matched on the target's primary key when the mapping covers
//    it, else on every column with the NULL-safe `<=>` (one row only, LIMIT 1).
//  - How "existing" and "missing" are told: the connection uses CLIENT_FOUND_ROWS, so an UPDATE
//    reports the rows it matched, not the rows it changed (else an update that sets a row to
//    the values it already has would look like a missing row). With that flag an
//    INSERT ... ON DUPLICATE KEY UPDATE reports 1 both for a new row and for an existing row it
//    left unchanged, so it cannot tell the two apart; and it would overwrite whatever row any
//    unique index matched. Inserts are therefore plain INSERTs: a duplicate-key error (1062,
//    which InnoDB rolls back for that statement alone, not the transaction) is followed by an
//    UPDATE of the row with the key; if that finds no row, the clash was on another unique
//    index and the error stands, naming it.
//  - Copy chunks (Sink::CopyRows) take a bulk path: multi-row INSERTs of SQL literals of up to
//    4 MiB (half the server's max_allowed_packet if that is less), ON DUPLICATE KEY UPDATE
//    where the stream may have written a row first. The check that keeps that from overwriting
//    a row met on another unique index (mysql_sql.h, CopyInsertTail) makes such a statement
//    fail instead; InnoDB undoes it alone, and its rows go in as above, one at a time, so the
//    error names the clash. A row too big for one statement, and a key whose unique index
//    allows NULL, take that path too.
//  - A source TRUNCATE becomes DELETE FROM. TRUNCATE TABLE is DDL in MySQL: it commits the open
//    transaction implicitly and cannot be rolled back, so the checkpoint would be committed
//    together with half a source transaction, and a crash before the real COMMIT would leave
//    the target holding part of a transaction its checkpoint claims whole (ARCHITECTURE.md
//    invariant 1). DELETE is transactional. The costs: it deletes row by row (slow on big tables),
//    and it neither resets AUTO_INCREMENT (restart_identity is ignored; replicated rows carry their
//    ids, so the counter does not matter to them) nor cascades (see foreign_key_checks below;
//    a source TRUNCATE ... CASCADE lists every table it emptied, and they are all deleted from
//    in the same transaction).
//  - Target triggers fire: MySQL has no session switch like PostgreSQL's
//    session_replication_role. A trigger that writes replicated tables would apply its effect
//    twice; drop such triggers on the replica.
//  - TIMESTAMP columns are written in the session time zone, UTC; DATETIME columns receive the
//    UTC wall time of a timestamp with time zone.
//
// Durability (ARCHITECTURE.md invariant 3): CommitTransaction returns when COMMIT returns, which is
// durable only with innodb_flush_log_at_trx_commit=1 on the target, and, when the target
// writes a binary log, sync_binlog=1 (after a crash InnoDB rolls back prepared transactions
// the binlog lost). Open() logs a warning when either is not so.
//
// Target requirements: the database and table exist (or create_tables creates them, see
// CreateTable) with every mapped column; for a source with a key, a primary key or unique index on
// the key columns; InnoDB (or another transactional engine); the apply user may create the
// ferry_meta database (or it exists with both tables) and set the session variables below
// (foreign_key_checks needs no privilege). With binlog_format=STATEMENT, READ COMMITTED writes to
// InnoDB are refused: use ROW or MIXED. The target schema of a relation is the MySQL database. One
// sink serves one stream from one thread.
#pragma once

#include <memory>
#include <string>

#include "apply/sink.h"

namespace ferry::apply::mysql {

// dsn: "host=127.0.0.1 port=3306 user=ferry password=... dbname=app", with TLS keys such as
// "sslmode=verify-full sslrootcert=ca.pem" (see common/mysql_dsn.h, MysqlDsnRole::kTarget).
// lock_timeout: the longest a statement waits for a row lock (innodb_lock_wait_timeout) or a
// table's metadata lock (lock_wait_timeout) held by another session, in whole seconds rounded
// up; 0: no limit. Longer fails the stream with an error that says so.
std::unique_ptr<Sink> MakeMysqlSink(std::string dsn,
                                    std::chrono::milliseconds lock_timeout = kDefaultLockTimeout);

}  // namespace ferry::apply::mysql
