// mcf-repro: see repro_cli.h. The flags and the commands are two tables
// (libFuzzer's FuzzerFlags.def style): --help is printed from them, and the
// parser checks every flag against them.
#include "fuzzers/tools/repro_cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/fs/file.h"
#include "core/fs/process.h"
#include "core/kernel/devtmpfs.h"
#include "core/kernel/kerrno.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/platform.h"
#include "drivers/driver_table.h"
#include "fuzzers/exec/executor.h"
#include "fuzzers/prog/encoding_binary.h"
#include "fuzzers/prog/encoding_text.h"
#include "fuzzers/repro/child.h"
#include "fuzzers/repro/crash_report.h"
#include "fuzzers/repro/minimize.h"
#include "fuzzers/repro/program_file.h"
#include "tools/topology/topology.h"

namespace mcf::repro {
namespace {

// ------------------------------------------------------------ tables

struct FlagSpec {
  const char* name;
  const char* value;     // "N", "FILE"... ; null for a switch
  const char* commands;  // the commands it applies to, space separated
  const char* help;
};

constexpr FlagSpec kFlags[] = {
    {"mode", "M", "run replay minimize faults __run-child",
     "how the executor runs the program's threads: deterministic (the default: the program's "
     "schedule decides the interleaving, as lifetime_fuzzer runs), threads (real threads, as "
     "race_fuzzer) or sequential (every call in order on one thread, as mc_ioctl_fuzzer and "
     "v4l2_ioctl_fuzzer)"},
    {"times", "N", "replay", "number of child runs (default 10)"},
    {"expect-clean", nullptr, "replay",
     "succeed only when no run crashed (how ctest replays corpus/regressions/)"},
    {"trace", nullptr, "replay __run-child",
     "print the deterministic scheduler's trace of the first run"},
    {"tries", "N", "minimize",
     "child runs per candidate; one hit of the signature keeps it (default 1; more for races "
     "in threads mode)"},
    {"out", "FILE", "minimize", "also write the minimised text program to FILE"},
    {"timeout", "S", "replay minimize",
     "a child run longer than S seconds is a finding of kind timeout (default 120)"},
    {"to", "FORM", "convert", "text or binary"},
    {"lenient", nullptr, "print convert run replay minimize faults",
     "read any bytes as the fuzz targets do (no error for a foreign or truncated binary)"},
    {"driver", "NAME", "topology", "the driver row whose device 0 is printed (default vimc)"},
    {"dot", nullptr, "topology", "print the dot graph (media-ctl --print-dot)"},
};

struct Args {
  std::string command;
  std::vector<std::string> pos;
  std::map<std::string, std::string> flags;  // switches map to ""
  bool has(const char* f) const { return flags.count(f) > 0; }
  std::string get(const char* f, const std::string& def) const {
    auto it = flags.find(f);
    return it == flags.end() ? def : it->second;
  }
};

struct Ctx {
  const ReproConfig& config;
  const Args& args;
};

// A one-line error: what every bad usage and bad input gets.
struct Failure {
  int status;
  std::string message;
};

int cmd_print(const Ctx& c);
int cmd_convert(const Ctx& c);
int cmd_run(const Ctx& c);
int cmd_faults(const Ctx& c);
int cmd_replay(const Ctx& c);
int cmd_minimize(const Ctx& c);
int cmd_signature(const Ctx& c);
int cmd_topology(const Ctx& c);
int cmd_child(const Ctx& c);

struct CommandSpec {
  const char* name;
  const char* usage;  // after the name
  size_t positional;  // exact number of positional arguments
  const char* help;
  int (*run)(const Ctx&);
};

constexpr CommandSpec kCommands[] = {
    {"print", "FILE", 1,
     "print any corpus entry, crash artifact (binary) or crash log (a PROGRAM block) as a text "
     "program",
     cmd_print},
    {"convert", "--to=text|binary IN OUT", 2, "convert a program between its two forms (OUT - is stdout)",
     cmd_convert},
    {"run", "[--mode=M] FILE", 1,
     "run the program once in this process and print each call's result (a crash prints the "
     "report)",
     cmd_run},
    {"faults", "[--mode=M] FILE", 1,
     "run the program once and list, for each call, the failure points it reaches: n, the "
     "step (kzalloc, device_add, cdev_add, media_device_register_entity, request_irq, "
     "v4l2_async_register, devres_alloc, vmalloc, media_graph_walk_init), what it allocates or registers, and the "
     "error the call gets when it fails; add fail_nth=n to the call's line to fail that one "
     "(points after a fault are listed as that run reaches them)",
     cmd_faults},
    {"replay", "[--mode=M] [--times=N] [--expect-clean] [--trace] FILE", 1,
     "run the program N times, each in a child process, and count the runs that hit each "
     "signature; exit 0 when all N hit the same one",
     cmd_replay},
    {"minimize", "[--mode=M] [--tries=N] [--out=FILE] FILE", 1,
     "drop calls, threads, schedule steps, fail_nth and argument values while the signature "
     "holds; print the smallest text program",
     cmd_minimize},
    {"signature", "LOG", 1, "print the signature (id and text) of the first finding in a crash log (- is stdin)",
     cmd_signature},
    {"topology", "[--driver=NAME] [--dot]", 0,
     "bind device 0 of a driver and print its media graph as media-ctl -p (or --print-dot) does",
     cmd_topology},
    {kChildCommand, "--mode=M", 0, nullptr, cmd_child},  // internal: one child run
};

const char* g_name = "mcf-repro";

// `text` as lines of at most 78 columns, each after `indent`.
std::string wrap(absl::string_view text, absl::string_view indent) {
  std::string out, line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > 78) {
      absl::StrAppend(&out, indent, line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty()) absl::StrAppend(&out, indent, line, "\n");
  return out;
}

std::string usage() {
  std::string u = absl::StrCat(
      "usage: ", g_name, " COMMAND [flags] [args]\n\n",
      "Reads, runs, replays and minimises mcfuzz programs and crashes. FILE is a text program,\n"
      "a binary input (a libFuzzer crash-* file) or a crash log with a ==mcfuzz== PROGRAM block.\n\n"
      "commands:\n");
  for (const CommandSpec& c : kCommands) {
    if (c.help == nullptr) continue;
    absl::StrAppend(&u, "  ", c.name, " ", c.usage, "\n", wrap(c.help, "      "));
  }
  absl::StrAppend(&u, "\nflags (--name=value; switches take no value):\n");
  for (const FlagSpec& f : kFlags) {
    std::string name = absl::StrCat("--", f.name, f.value ? absl::StrCat("=", f.value) : "");
    std::vector<std::string> cmds;
    for (absl::string_view cmd : absl::StrSplit(f.commands, ' '))
      if (!absl::StartsWith(cmd, "__")) cmds.emplace_back(cmd);
    absl::StrAppend(&u, "  ", name, "  (", absl::StrJoin(cmds, ", "), ")\n", wrap(f.help, "      "));
  }
  absl::StrAppend(&u, "  --help\n      this text\n\n",
                  "exit status: 0 success; 1 the answer is no (replay not N of N, nothing to "
                  "minimise, no finding);\n2 bad usage or bad input (one line on stderr).\n");
  return u;
}

const FlagSpec* find_flag(absl::string_view name) {
  for (const FlagSpec& f : kFlags)
    if (name == f.name) return &f;
  return nullptr;
}

const CommandSpec* find_command(absl::string_view name) {
  for (const CommandSpec& c : kCommands)
    if (name == c.name) return &c;
  return nullptr;
}

// Parses argv; a Failure for anything the tables do not allow.
std::optional<Failure> parse_args(int argc, char** argv, Args* out, bool* help) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (a == "--help" || a == "-h" || a == "help") {
      *help = true;
      continue;
    }
    if (absl::StartsWith(a, "-") && a != "-") {
      absl::string_view body = a;
      if (!absl::ConsumePrefix(&body, "--")) return Failure{2, absl::StrCat("unknown flag ", a, " (see --help)")};
      size_t eq = body.find('=');
      absl::string_view name = body.substr(0, eq);
      const FlagSpec* f = find_flag(name);
      if (f == nullptr) return Failure{2, absl::StrCat("unknown flag --", name, " (see --help)")};
      if (f->value != nullptr && eq == absl::string_view::npos)
        return Failure{2, absl::StrCat("--", name, " needs a value: --", name, "=", f->value)};
      if (f->value == nullptr && eq != absl::string_view::npos)
        return Failure{2, absl::StrCat("--", name, " takes no value")};
      out->flags[std::string(name)] =
          eq == absl::string_view::npos ? "" : std::string(body.substr(eq + 1));
      continue;
    }
    if (out->command.empty()) {
      out->command = std::string(a);
    } else {
      out->pos.emplace_back(a);
    }
  }
  if (*help) return std::nullopt;
  if (out->command.empty()) return Failure{2, "no command (see --help)"};
  const CommandSpec* cmd = find_command(out->command);
  if (cmd == nullptr) return Failure{2, absl::StrCat("unknown command '", out->command, "' (see --help)")};
  for (const auto& [name, value] : out->flags) {
    std::vector<absl::string_view> cmds = absl::StrSplit(find_flag(name)->commands, ' ');
    if (std::find(cmds.begin(), cmds.end(), out->command) == cmds.end())
      return Failure{2, absl::StrCat("--", name, " does not apply to ", out->command)};
  }
  if (out->pos.size() != cmd->positional) {
    return Failure{2, absl::StrCat(out->command, " takes ", cmd->positional, " argument",
                                   cmd->positional == 1 ? "" : "s", ": ", out->command, " ",
                                   cmd->usage)};
  }
  return std::nullopt;
}

// ------------------------------------------------------------ helpers

int fail(int status, absl::string_view message) {
  std::fprintf(stderr, "%s: %s\n", g_name, std::string(message).c_str());
  return status;
}

// A positive whole number flag, or nullopt after printing the error.
std::optional<int> int_flag(const Args& a, const char* name, int def, int max) {
  if (!a.has(name)) return def;
  int v = 0;
  if (!absl::SimpleAtoi(a.get(name, ""), &v) || v < 1 || v > max) {
    fail(2, absl::StrCat("--", name, " needs a whole number from 1 to ", max));
    return std::nullopt;
  }
  return v;
}

std::optional<fuzz::ExecMode> mode_flag(const Args& a) {
  std::string m = a.get("mode", "deterministic");
  if (m == "deterministic") return fuzz::ExecMode::kDeterministic;
  if (m == "threads") return fuzz::ExecMode::kThreads;
  if (m == "sequential") return fuzz::ExecMode::kSequential;
  fail(2, absl::StrCat("--mode=", m, ": not deterministic, threads or sequential"));
  return std::nullopt;
}

const char* mode_name(fuzz::ExecMode m) {
  switch (m) {
    case fuzz::ExecMode::kDeterministic: return "deterministic";
    case fuzz::ExecMode::kThreads: return "threads";
    case fuzz::ExecMode::kSequential: return "sequential";
  }
  return "?";
}

// Loads the program argument; prints the one-line error itself.
std::optional<LoadedProgram> load(const Ctx& c, const std::string& path) {
  absl::StatusOr<LoadedProgram> p = load_program(path, c.args.has("lenient"));
  if (!p.ok()) {
    fail(2, p.status().message());
    return std::nullopt;
  }
  return *std::move(p);
}

std::string result_text(const fuzz::CallResult& r) {
  std::string s = r.ret >= 0 ? absl::StrCat(r.ret) : absl::StrCat("-", errno_name(static_cast<int>(-r.ret)));
  if (r.status == fuzz::CallStatus::kNotRun) s = "(not run)";
  if (r.status == fuzz::CallStatus::kInterrupted) absl::StrAppend(&s, " (interrupted)");
  if (r.fault_site != nullptr) absl::StrAppend(&s, " (fault: ", r.fault_site, ")");
  return s;
}

std::string block_of(const std::string& log, const std::string& begin, const std::string& end) {
  size_t b = log.find(begin);
  if (b == std::string::npos) return "";
  size_t e = log.find(end, b);
  return log.substr(b, e == std::string::npos ? std::string::npos : e + end.size() - b) + "\n";
}

// ------------------------------------------------------------ commands

int cmd_print(const Ctx& c) {
  auto p = load(c, c.args.pos[0]);
  if (!p) return 2;
  std::fputs(fuzz::program_to_text(p->program).c_str(), stdout);
  return 0;
}

int cmd_convert(const Ctx& c) {
  std::string to = c.args.get("to", "");
  if (to != "text" && to != "binary") return fail(2, "convert needs --to=text or --to=binary");
  auto p = load(c, c.args.pos[0]);
  if (!p) return 2;
  std::string bytes;
  if (to == "text") {
    bytes = fuzz::program_to_text(p->program);
  } else {
    std::vector<uint8_t> b = fuzz::program_to_binary(p->program);
    bytes.assign(b.begin(), b.end());
  }
  absl::Status st = write_file(c.args.pos[1], bytes);
  if (!st.ok()) return fail(2, st.message());
  return 0;
}

// The program argument run once in this process (run, faults), with the
// crash report armed and --mode's executor mode. First prints "# <tool>
// <command> FILE (form, N calls), M mode<note>" and flushes it, so that it
// comes before a crash report on stderr. Nullopt after a one-line error.
struct InProcessRun {
  LoadedProgram in;
  fuzz::ExecMode mode;
  fuzz::ExecResult result;
};
std::optional<InProcessRun> run_in_process(const Ctx& c, fuzz::ExecOptions o, const char* note) {
  auto mode = mode_flag(c.args);
  if (!mode) return std::nullopt;
  auto p = load(c, c.args.pos[0]);
  if (!p) return std::nullopt;
  crash_report_install(c.config.signature);
  crash_report_set_program(&p->program);
  o.mode = *mode;
  std::printf("# %s %s %s (%s, %zu calls), %s mode%s\n", g_name, c.args.command.c_str(),
              c.args.pos[0].c_str(), input_form_name(p->form), p->program.calls.size(),
              mode_name(*mode), note);
  std::fflush(stdout);
  fuzz::ExecResult r = fuzz::execute(p->program, o);
  crash_report_set_program(nullptr);
  return InProcessRun{*std::move(p), *mode, std::move(r)};
}

int cmd_run(const Ctx& c) {
  std::optional<InProcessRun> run = run_in_process(c, fuzz::ExecOptions{}, "");
  if (!run) return 2;
  const fuzz::Program& prog = run->in.program;
  const fuzz::ExecResult& r = run->result;
  size_t width = 0;
  std::vector<std::string> lines;
  for (size_t i = 0; i < prog.calls.size(); ++i) {
    lines.push_back(fuzz::call_to_text(prog, i));
    width = std::max(width, std::min<size_t>(lines.back().size(), 72));
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    std::printf("%-*s = %s\n", static_cast<int>(width), lines[i].c_str(),
                result_text(r.calls[i]).c_str());
  }
  const auto& table = driver_table();
  for (size_t row = 0; row < r.setup_register.size() && row < table.size(); ++row) {
    if (r.setup_register[row] != 0 || r.setup_plug[row] != 0) {
      std::printf("# setup: %s: register %s, plug %s.0 %s\n", table[row].name,
                  errno_name(static_cast<int>(r.setup_register[row])), table[row].name,
                  errno_name(static_cast<int>(r.setup_plug[row])));
    }
  }
  if (r.blocked) std::printf("# teardown began while a program thread slept\n");
  if (run->mode == fuzz::ExecMode::kDeterministic)
    std::printf("# deterministic: %llu scheduling points, %d preemptions\n",
                static_cast<unsigned long long>(r.sched_points), r.sched_preemptions);
  std::printf("# no finding; live objects after teardown: %s\n", live_objects_line().c_str());
  return 0;
}

// Each call's failure points, from a run that records them. The program's
// own fail_nth values stay: the point they fail is marked, and the calls
// after it list what that run reached.
int cmd_faults(const Ctx& c) {
  fuzz::ExecOptions o;
  o.record_fault_points = true;
  std::optional<InProcessRun> run = run_in_process(
      c, o, ": the failure points each call reaches;\n# fail_nth=n on a call fails its n-th");
  if (!run) return 2;
  const fuzz::Program& prog = run->in.program;
  const fuzz::ExecResult& r = run->result;
  size_t total = 0;
  for (size_t i = 0; i < prog.calls.size(); ++i) {
    const std::vector<fuzz::FaultPointSeen>& points = r.calls[i].fault_points;
    total += points.size();
    std::printf("%s = %s: %zu failure point%s\n", fuzz::call_to_text(prog, i).c_str(),
                result_text(r.calls[i]).c_str(), points.size(), points.size() == 1 ? "" : "s");
    for (size_t n = 0; n < points.size(); ++n) {
      std::printf("  %3zu  %s%s\n", n + 1, fuzz::fault_point_text(points[n]).c_str(),
                  points[n].failed ? "  <- fails (fail_nth)" : "");
    }
  }
  std::printf("# %zu failure points in %zu calls\n", total, prog.calls.size());
  return 0;
}

ChildOptions child_options(const Ctx& c, fuzz::ExecMode mode, int timeout) {
  ChildOptions o;
  o.mode = mode;
  o.timeout_s = timeout;
  o.trace = c.args.has("trace");
  return o;
}

int cmd_replay(const Ctx& c) {
  auto mode = mode_flag(c.args);
  auto times = int_flag(c.args, "times", 10, 100000);
  auto timeout = int_flag(c.args, "timeout", 120, 86400);
  if (!mode || !times || !timeout) return 2;
  auto p = load(c, c.args.pos[0]);
  if (!p) return 2;
  ChildOptions o = child_options(c, *mode, *timeout);
  std::printf("replay: %d run%s of %s (%zu calls) in %s mode, each in a child process\n", *times,
              *times == 1 ? "" : "s", c.args.pos[0].c_str(), p->program.calls.size(),
              mode_name(*mode));
  std::string first_log;
  ReplayResult res = replay(p->program, *times, o, c.config.signature,
                            [&](int run, const ChildRun& r) {
                              if (run == 1) first_log = r.log;
                              std::printf("  run %d: %s\n", run,
                                          r.crashed ? r.signature.id().c_str() : "clean");
                              std::fflush(stdout);
                            });
  if (c.args.has("trace")) {
    std::string trace = block_of(first_log, "==mcfuzz== TRACE", "==mcfuzz== END TRACE");
    std::fputs(trace.empty() ? "(no trace: not deterministic mode)\n" : trace.c_str(), stdout);
  }
  std::printf("signatures:\n");
  for (const auto& [text, entry] : res.by_signature)
    std::printf("  %d/%d  %s  [%s]\n", entry.first, res.runs, text.c_str(),
                entry.second.signature.id().c_str());
  std::printf("  %d/%d  clean\n", res.clean, res.runs);
  if (c.args.has("expect-clean")) {
    std::printf("result: %d/%d runs clean\n", res.clean, res.runs);
    if (res.clean == res.runs) return 0;
    // The first crashing run's log, for whoever reads the test output.
    const ChildRun& bad = res.by_signature.begin()->second.second;
    std::fputs(bad.log.c_str(), stderr);
    return 1;
  }
  if (res.top.empty()) {
    std::printf("result: 0/%d runs crashed\n", res.runs);
    return 1;
  }
  std::printf("result: %d/%d runs hit %s\n", res.top_count, res.runs, res.top.text().c_str());
  return res.top_count == res.runs ? 0 : 1;
}

int cmd_minimize(const Ctx& c) {
  auto mode = mode_flag(c.args);
  auto tries = int_flag(c.args, "tries", 1, 1000);
  auto timeout = int_flag(c.args, "timeout", 120, 86400);
  if (!mode || !tries || !timeout) return 2;
  const std::string& path = c.args.pos[0];
  auto p = load(c, path);
  if (!p) return 2;
  ChildOptions o = child_options(c, *mode, *timeout);
  // 1. The signature to keep: the first crash of the input itself.
  Signature ref;
  int runs = 0;
  for (int i = 0; i < *tries && ref.empty(); ++i) {
    ++runs;
    ref = run_child(p->program, o, c.config.signature).signature;
  }
  if (ref.empty()) {
    return fail(1, absl::StrCat(path, ": no crash in ", *tries, " run(s) in ", mode_name(*mode),
                                " mode: nothing to minimise"));
  }
  std::fprintf(stderr, "minimize: keeping %s\n", ref.text().c_str());
  // 2. The passes, each candidate judged by up to `tries` child runs.
  StillCrashes still = [&](const fuzz::Program& cand) {
    for (int i = 0; i < *tries; ++i) {
      ++runs;
      if (run_child(cand, o, c.config.signature).signature == ref) return true;
    }
    return false;
  };
  MinimizeOptions mo;
  mo.log = [](const std::string& step) { std::fprintf(stderr, "minimize: %s\n", step.c_str()); };
  MinimizeStats stats;
  fuzz::Program small = minimize(p->program, still, mo, &stats);
  std::string text = absl::StrCat(
      "# minimised by ", g_name, " from ", path, ": ", p->program.calls.size(), " -> ",
      small.calls.size(), " calls, ", runs, " runs, ", mode_name(*mode), " mode\n",
      "# signature: ", ref.id(), " ", ref.text(), "\n", fuzz::program_to_text(small));
  std::fputs(text.c_str(), stdout);
  if (c.args.has("out")) {
    absl::Status st = write_file(c.args.get("out", ""), text);
    if (!st.ok()) return fail(2, st.message());
  }
  return 0;
}

int cmd_signature(const Ctx& c) {
  absl::StatusOr<std::string> log = read_file(c.args.pos[0]);
  if (!log.ok()) return fail(2, log.status().message());
  Signature s = signature_of_log(*log, c.config.signature);
  if (s.empty()) return fail(1, absl::StrCat(c.args.pos[0], ": no finding in this log"));
  std::printf("%s %s\n", s.id().c_str(), s.text().c_str());
  return 0;
}

int cmd_topology(const Ctx& c) {
  const auto& table = driver_table();
  std::string name = c.args.get("driver", table.empty() ? "" : table[0].name);
  const driver_desc* drv = find_driver(name);
  if (drv == nullptr) {
    std::vector<std::string> names;
    for (const driver_desc& d : table) names.push_back(d.name);
    return fail(2, absl::StrCat("unknown driver '", name, "' (drivers: ", absl::StrJoin(names, ", "), ")"));
  }
  // Every row registered and its device 0 plugged, as the executor's setup
  // does: a bridge finds its sensor (omap3isp and mcf-sensor).
  std::vector<platform_device*> devices;
  for (const driver_desc& d : table) d.register_driver();
  for (const driver_desc& d : table) devices.push_back(d.add_device(0));
  int status = 0;
  {
    process proc;
    std::vector<std::string> nodes = devtmpfs_nodes_of(absl::StrCat(name, ".0"), "media");
    int fd = nodes.empty() ? -1 : proc.open(nodes[0], O_RDWR_);
    if (fd < 0) {
      status = fail(1, absl::StrCat(name, ".0 has no media device node to open"));
    } else {
      std::string out = c.args.has("dot") ? topology::topology_dot(proc, fd) : topology::topology_text(proc, fd);
      std::fputs(out.c_str(), stdout);
      proc.close(fd);
    }
  }
  for (platform_device* d : devices)
    if (d != nullptr) platform_device_unregister(d);
  for (auto it = table.rbegin(); it != table.rend(); ++it) it->unregister_driver();
  live_objects_check_all_released("after mcf-repro topology");
  return status;
}

// One child run (child.h): the program on stdin, binary.
int cmd_child(const Ctx& c) {
  auto mode = mode_flag(c.args);
  if (!mode) return 2;
  absl::StatusOr<std::string> bytes = read_file("-");
  if (!bytes.ok()) return fail(2, bytes.status().message());
  fuzz::Program p = fuzz::program_from_binary(reinterpret_cast<const uint8_t*>(bytes->data()),
                                              bytes->size());
  crash_report_install(c.config.signature);
  crash_report_set_program(&p);
  crash_report_set_full_trace(c.args.has("trace"));  // a crashing run prints it too
  fuzz::ExecOptions o;
  o.mode = *mode;
  o.keep_trace = c.args.has("trace");
  fuzz::ExecResult r = fuzz::execute(p, o);
  crash_report_set_program(nullptr);
  if (o.keep_trace && !r.trace.empty())
    std::fprintf(stderr, "==mcfuzz== TRACE\n%s==mcfuzz== END TRACE\n", r.trace.c_str());
  return 0;
}

}  // namespace

int repro_main(int argc, char** argv, const ReproConfig& config) {
  g_name = config.name;
  Args args;
  bool help = false;
  std::optional<Failure> f = parse_args(argc, argv, &args, &help);
  if (help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (f) return fail(f->status, f->message);
  Ctx ctx{config, args};
  return find_command(args.command)->run(ctx);
}

}  // namespace mcf::repro
