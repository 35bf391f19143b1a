#include "cli/verify_command.h"

#include "cli/config.h"
#include "verify/verify.h"

namespace ferry::cli {
namespace {

verify::VerifySetup SetupFrom(const ApplyConfig& apply, const CaptureConfig& capture,
                              const std::vector<std::string>& tables) {
  verify::VerifySetup setup;
  setup.source_engine = capture.source.engine;
  setup.source_dsn = capture.source.dsn;
  setup.source_tables = capture.tables;
  if (capture.source.engine == "postgres") setup.publication = capture.publication;
  setup.target_engine = apply.target.engine;
  setup.target_dsn = apply.target.dsn;
  setup.zero_dates_as_null = apply.target.zero_dates != "error";
  setup.mappings = apply.mappings;
  setup.only_tables = tables;
  return setup;
}

}  // namespace

int RunVerify(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Result<verify::VerifyArguments> parsed = verify::ParseVerifyArguments(args);
  if (!parsed.ok()) {
    err << "ferry: " << parsed.message() << "\n";
    return 2;
  }
  Result<ApplyConfig> apply = LoadApplyConfig(parsed->apply_config);
  Result<CaptureConfig> capture = LoadCaptureConfig(parsed->capture_config);
  if (!apply.ok() || !capture.ok()) {
    err << "ferry: configuration is not valid:\n";
    if (!apply.ok()) err << apply.message() << "\n";
    if (!capture.ok()) err << capture.message() << "\n";
    return 2;
  }
  verify::VerifyReport report =
      verify::Verify(SetupFrom(*apply, *capture, parsed->tables), parsed->options);
  out << (parsed->json ? verify::JsonReport(report) : verify::TextReport(report));
  return report.ExitCode();
}

}  // namespace ferry::cli
