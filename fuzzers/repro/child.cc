// Child runs and replay: see child.h.
#include "fuzzers/repro/child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "fuzzers/prog/encoding_binary.h"

extern char** environ;

namespace mcf::repro {
namespace {

const char* mode_flag(fuzz::ExecMode m) {
  switch (m) {
    case fuzz::ExecMode::kSequential: return "--mode=sequential";
    case fuzz::ExecMode::kDeterministic: return "--mode=deterministic";
    case fuzz::ExecMode::kThreads: break;
  }
  return "--mode=threads";
}

ChildRun spawn_failed(const std::string& why) {
  ChildRun r;
  r.log = absl::StrCat("==mcfuzz== CHILD SPAWN-FAILED ", why, "\n");
  r.crashed = true;
  r.signature.kind = "spawn-failed";
  r.signature.detail = why;
  return r;
}

// Writes all of `bytes` to `fd` (the child's stdin) and closes it. A child
// that exits before reading is not an error here: its log says why.
void write_all_and_close(int fd, const std::vector<uint8_t>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

}  // namespace

ChildRun run_child(const fuzz::Program& p, const ChildOptions& o, const SignatureOptions& so) {
  // A child that dies before reading its stdin must not kill us with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  std::string self = o.self.empty() ? "/proc/self/exe" : o.self;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return spawn_failed(absl::StrCat("pipe: ", std::strerror(errno)));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return spawn_failed(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  std::string cmd = kChildCommand, mode = mode_flag(o.mode), trace = "--trace";
  char* argv[] = {self.data(), cmd.data(), mode.data(), o.trace ? trace.data() : nullptr, nullptr};
  pid_t pid = -1;
  int err = posix_spawn(&pid, self.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  if (err != 0) {
    ::close(in[1]);
    ::close(out[0]);
    return spawn_failed(absl::StrCat(self, ": ", std::strerror(err)));
  }
  write_all_and_close(in[1], fuzz::program_to_binary(p));

  // Collect the output until EOF or the deadline.
  ChildRun r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  char buf[8192];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd pfd = {out[0], POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.log.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);

  r.signature = signature_of_log(r.log, so);
  if (r.signature.empty()) {
    // Nothing in the log says what happened: say it ourselves.
    if (r.timed_out) {
      absl::StrAppend(&r.log, "\n==mcfuzz== CHILD TIMEOUT after ", o.timeout_s, " s\n");
    } else if (r.term_signal != 0) {
      const char* name = sigabbrev_np(r.term_signal);
      absl::StrAppend(&r.log, "\n==mcfuzz== CHILD SIGNAL SIG", name ? name : "UNKNOWN", "\n");
    } else if (r.exit_status != 0) {
      absl::StrAppend(&r.log, "\n==mcfuzz== CHILD EXIT ", r.exit_status, "\n");
    }
    r.signature = signature_of_log(r.log, so);
  }
  r.crashed = !r.signature.empty();
  return r;
}

ReplayResult replay(const fuzz::Program& p, int times, const ChildOptions& o,
                    const SignatureOptions& so,
                    const std::function<void(int run, const ChildRun&)>& progress) {
  ReplayResult res;
  std::vector<std::string> order;  // first-seen order, for ties
  for (int i = 0; i < times; ++i) {
    ChildRun r = run_child(p, o, so);
    ++res.runs;
    if (!r.crashed) {
      ++res.clean;
    } else {
      std::string key = r.signature.text();
      auto it = res.by_signature.find(key);
      if (it == res.by_signature.end()) {
        order.push_back(key);
        res.by_signature.emplace(key, std::make_pair(1, r));
      } else {
        ++it->second.first;
      }
    }
    if (progress) progress(i + 1, r);
  }
  for (const std::string& key : order) {
    const auto& [count, run] = res.by_signature.at(key);
    if (count > res.top_count) {
      res.top_count = count;
      res.top = run.signature;
    }
  }
  return res;
}

}  // namespace mcf::repro
