// Checkpoints: bitwise round trip; every kind of bad file refused with a clear message and
// without touching the destination tensors; random corruption never crashes the parser; and a
// writer killed at random moments always leaves a complete checkpoint behind.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "engine/random.h"
#include "io/checkpoint.h"
#include "io/temporary_file.h"
#include "optim/sgd.h"

using namespace glimpse;
using Catch::Contains;
namespace fs = std::filesystem;

// ---- helpers ----

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "glimpse_checkpoint_XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

static std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

static void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Little-endian fields, to craft files by hand.
static void put_u32(std::vector<uint8_t>& bytes, size_t at, uint32_t v) {
  for (int b = 0; b < 4; b++) bytes[at + b] = static_cast<uint8_t>(v >> (8 * b));
}
static void put_u64(std::vector<uint8_t>& bytes, size_t at, uint64_t v) {
  for (int b = 0; b < 8; b++) bytes[at + b] = static_cast<uint8_t>(v >> (8 * b));
}

// Makes a modified file self-consistent again: size field (bytes 12-19) and FNV-1a checksum
// (last 8 bytes), so the checks past the checksum are reached.
static void reseal(std::vector<uint8_t>& bytes) {
  if (bytes.size() < 28) return;
  put_u64(bytes, 12, bytes.size());
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i + 8 < bytes.size(); i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
  put_u64(bytes, bytes.size() - 8, h);
}

static bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(real) * a.numel()) == 0;
}

static NamedTensors sample_tensors() {
  Rng rng(42);
  Tensor special = Tensor::from_data({6}, {-0.0f, std::numeric_limits<real>::infinity(), -1e-40f /* denormal */,
                                           std::numeric_limits<real>::quiet_NaN(), 3.0f, -1e30f});
  return {{"conv1.weight", Tensor::normal({4, 3, 3, 3}, 0, 1, rng)},
          {"conv1.bias", Tensor::normal({4}, 0, 1, rng)},
          {"bn.running_var", Tensor::uniform({4}, 0.5f, 2, rng)},
          {"step", Tensor::scalar(17)},
          {"empty", Tensor::zeros({0, 5})},
          {"special", special}};
}

// Same names and shapes, filled with a sentinel.
static NamedTensors blank_like(const NamedTensors& tensors) {
  NamedTensors blank;
  for (const auto& [name, t] : tensors) blank.emplace_back(name, Tensor::full(t.shape(), -7));
  return blank;
}

static const Metadata sample_metadata = {{"model", "resnet20"},
                                         {"epoch", "12"},
                                         {"rng", std::string("\0\x01\xff binary", 10)},
                                         {"empty", ""},
                                         {"note", "σ = 0.1, ünïcode"}};

// ---- round trip ----

TEST_CASE("checkpoint round trip is bitwise", "[checkpoint]") {
  TempDir dir;
  std::string path = dir.file("model.ckpt");
  NamedTensors saved = sample_tensors();
  save_checkpoint(path, saved, sample_metadata);
  CHECK_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));

  NamedTensors loaded = blank_like(saved);
  std::reverse(loaded.begin(), loaded.end());  // matched by name, not by position
  Metadata metadata = load_checkpoint(path, loaded);
  CHECK(metadata == sample_metadata);
  for (size_t i = 0; i < saved.size(); i++) {
    INFO(saved[i].first);
    CHECK(bitwise_equal(loaded[saved.size() - 1 - i].second, saved[i].second));
  }
  CHECK(read_checkpoint_metadata(path) == sample_metadata);

  save_checkpoint(path, {}, {});  // overwrite with an empty checkpoint
  CHECK(load_checkpoint(path, {}).empty());
}

TEST_CASE("checkpoint save refuses what it cannot write", "[checkpoint]") {
  TempDir dir;
  Tensor t = Tensor::ones({2});
  CHECK_THROWS_WITH(save_checkpoint(dir.file("no/such/dir/x.ckpt"), {{"t", t}}, {}),
                    Contains("x.ckpt': the directory ") && Contains("no/such/dir does not exist"));
  CHECK_THROWS_WITH(save_checkpoint(dir.path, {{"t", t}}, {}), Contains("is a directory, not a file"));
  // the save is a rename over the path: it must not put a file in the place of a pipe (or a
  // device: --save /dev/null as root would replace the device)
  const std::string pipe = dir.file("pipe");
  REQUIRE(::mkfifo(pipe.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(save_checkpoint(pipe, {{"t", t}}, {}), Contains("'" + pipe + "': is not a regular file"));
  CHECK(fs::is_fifo(pipe));
  CHECK_THROWS_WITH(save_checkpoint(dir.file("x.ckpt"), {{"t", t}, {"t", t}}, {}), Contains("'t' appears twice"));
  CHECK_THROWS_WITH(save_checkpoint(dir.file("x.ckpt"), {{"u", Tensor()}}, {}), Contains("'u' is undefined"));
  CHECK_FALSE(fs::exists(dir.file("x.ckpt")));
  CHECK_FALSE(fs::exists(dir.file("x.ckpt.tmp." + std::to_string(::getpid()))));
}

TEST_CASE("checkpoint carries optimiser state: resumed training repeats exactly", "[checkpoint][optim]") {
  TempDir dir;
  auto train = [](SGD& sgd, Tensor& w, int steps) {
    for (int i = 0; i < steps; i++) {
      std::vector<real> g(w.numel());
      for (int64_t j = 0; j < w.numel(); j++) g[j] = w.data()[j] - 1;  // gradient of |w - 1|^2 / 2
      w.impl()->autograd_meta().grad = Tensor::from_data(w.shape(), g).impl_ptr();
      sgd.step();
    }
  };
  Tensor w = Tensor::from_data({3}, {3, -1, 0.5f});
  SGD sgd({w}, {.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
  train(sgd, w, 4);
  auto everything = [](Tensor& weights, SGD& optimizer) {
    NamedTensors all = {{"w", weights}};
    for (auto& [name, t] : optimizer.state()) all.emplace_back("optim." + name, t);
    return all;
  };
  save_checkpoint(dir.file("run.ckpt"), everything(w, sgd), {{"step", "4"}});

  Tensor w2 = Tensor::zeros({3});
  SGD sgd2({w2}, {.lr = 0.1f, .momentum = 0.9f, .nesterov = true});
  CHECK(load_checkpoint(dir.file("run.ckpt"), everything(w2, sgd2)).at("step") == "4");
  CHECK(sgd2.steps_taken() == 4);
  train(sgd, w, 3);
  train(sgd2, w2, 3);
  CHECK(bitwise_equal(w, w2));
}

// ---- refusals ----

// Loading `path` into fresh blanks must fail with a message naming the file and `problem`, and
// leave the blanks untouched.
static void check_refused(const std::string& path, const NamedTensors& request, const std::string& problem) {
  NamedTensors before;
  for (const auto& [name, t] : request) before.emplace_back(name, t.clone());
  CHECK_THROWS_WITH(load_checkpoint(path, request), Contains(path) && Contains(problem));
  for (size_t i = 0; i < request.size(); i++) CHECK(bitwise_equal(request[i].second, before[i].second));
}

TEST_CASE("checkpoint refuses bad files with a clear message, touching nothing", "[checkpoint]") {
  TempDir dir;
  std::string good = dir.file("good.ckpt"), bad = dir.file("bad.ckpt");
  NamedTensors saved = sample_tensors();
  save_checkpoint(good, saved, sample_metadata);
  const std::vector<uint8_t> bytes = read_bytes(good);
  NamedTensors dest = blank_like(saved);

  SECTION("no such file") { check_refused(dir.file("absent.ckpt"), dest, "cannot open"); }
  SECTION("wrong magic") {
    std::vector<uint8_t> b = bytes;
    b[0] = 'X';
    write_bytes(bad, b);
    check_refused(bad, dest, "bad magic");
    write_bytes(bad, std::vector<uint8_t>(1000, 0));  // zeros
    check_refused(bad, dest, "bad magic");
  }
  SECTION("unknown version") {
    std::vector<uint8_t> b = bytes;
    put_u32(b, 8, 2);
    write_bytes(bad, b);
    check_refused(bad, dest, "unknown format version 2");
  }
  SECTION("truncated") {
    for (size_t keep : {size_t{0}, size_t{5}, size_t{8}, size_t{19}, size_t{20}, bytes.size() / 2, bytes.size() - 8,
                        bytes.size() - 1}) {
      INFO("kept " << keep << " of " << bytes.size() << " bytes");
      write_bytes(bad, std::vector<uint8_t>(bytes.begin(), bytes.begin() + keep));
      check_refused(bad, dest, "truncated");
    }
  }
  SECTION("trailing bytes") {
    std::vector<uint8_t> b = bytes;
    b.push_back(0);
    write_bytes(bad, b);
    check_refused(bad, dest, "corrupt");
  }
  SECTION("bad checksum") {
    for (size_t at : {size_t{24}, bytes.size() / 2, bytes.size() - 12, bytes.size() - 1}) {
      INFO("flipped byte " << at);
      std::vector<uint8_t> b = bytes;
      b[at] ^= 0x10;
      write_bytes(bad, b);
      check_refused(bad, dest, "checksum mismatch");
    }
  }
  SECTION("missing tensor") {
    NamedTensors more = dest;
    more.emplace_back("fc.weight", Tensor::zeros({2, 2}));
    check_refused(good, more, "tensor 'fc.weight' is missing");
  }
  SECTION("unexpected extra tensor") {
    NamedTensors fewer(dest.begin(), dest.end() - 1);
    check_refused(good, fewer, "unexpected tensor 'special'");
  }
  SECTION("shape mismatch") {
    NamedTensors wrong = dest;
    wrong[0].second = Tensor::zeros({4, 3, 9});
    check_refused(good, wrong, "tensor 'conv1.weight' has shape (4, 3, 3, 3) in the file, expected (4, 3, 9)");
  }
  SECTION("metadata of a bad file") {
    write_bytes(bad, std::vector<uint8_t>(bytes.begin(), bytes.end() - 3));
    CHECK_THROWS_WITH(read_checkpoint_metadata(bad), Contains(bad) && Contains("truncated"));
  }
}

TEST_CASE("checkpoint refuses absurd sizes in a well-sealed file without allocating them", "[checkpoint]") {
  TempDir dir;
  std::string good = dir.file("good.ckpt"), bad = dir.file("bad.ckpt");
  save_checkpoint(good, {{"w", Tensor::ones({2, 3})}}, {{"k", "v"}});
  const std::vector<uint8_t> bytes = read_bytes(good);
  // layout: header 0..19 | metadata count 20..23 | key length 24..27, "k" 28 | value length 29..32,
  //         "v" 33 | tensor count 34..37 | name length 38..41, "w" 42 | ndim 43..46 | dims 47..62 |
  //         data 63..86 | checksum 87..94
  auto refused = [&](std::vector<uint8_t> b, const std::string& problem) {
    reseal(b);
    write_bytes(bad, b);
    NamedTensors dest = {{"w", Tensor::zeros({2, 3})}};
    CHECK_THROWS_WITH(load_checkpoint(bad, dest), Contains(bad) && Contains(problem));
  };
  std::vector<uint8_t> b = bytes;
  put_u32(b, 20, 0xFFFFFFFF);
  refused(b, "metadata entries cannot fit");
  b = bytes;
  put_u32(b, 24, 0xFFFFFFF0);  // key length
  refused(b, "metadata key needs");
  b = bytes;
  put_u32(b, 34, 0x7FFFFFFF);
  refused(b, "tensors cannot fit");
  b = bytes;
  put_u32(b, 43, 0xFFFFFFFF);
  refused(b, "claims 4294967295 dimensions");
  b = bytes;
  put_u64(b, 47, uint64_t{1} << 62);  // 2^62 x 3 values
  refused(b, "overruns the file");
  b = bytes;
  put_u64(b, 47, ~uint64_t{0});
  refused(b, "impossible dimension");
  b = bytes;
  put_u64(b, 47, 1);  // (1, 3): 12 bytes of data left over
  refused(b, "unexplained bytes");
  b = bytes;
  std::memcpy(b.data() + 42, "k", 1);  // a tensor renamed: "k" where "w" was wanted
  refused(b, "missing");
}

// A 64 GiB file (sparse: no disk, no memory) was read whole before its magic was checked. The
// header is read first and checked against the file's size: a file that is no checkpoint, or whose
// size is not the one its header states, is refused after one small read.
TEST_CASE("checkpoint reads the header and checks it against the file's size first", "[checkpoint]") {
  TempDir dir;
  const uintmax_t huge = uintmax_t{64} << 30;
  const std::string path = dir.file("huge.ckpt");
  NamedTensors dest = {{"w", Tensor::zeros({2, 3})}};

  write_bytes(path, {'n', 'o', 't', ' ', 'a', ' ', 'c', 'k', 'p', 't'});
  fs::resize_file(path, huge);
  CHECK_THROWS_WITH(load_checkpoint(path, dest), Contains(path) && Contains("bad magic"));
  CHECK_THROWS_WITH(read_checkpoint_metadata(path), Contains(path) && Contains("bad magic"));

  std::vector<uint8_t> header = {'G', 'L', 'I', 'M', 'P', 'S', 'E', 'C'};
  header.resize(20);
  put_u32(header, 8, 1);
  put_u64(header, 12, 1000);  // the size it states
  write_bytes(path, header);
  fs::resize_file(path, huge);
  CHECK_THROWS_WITH(load_checkpoint(path, dest),
                    Contains(path) && Contains("corrupt: 68719476736 bytes, the header says 1000"));
  put_u32(header, 8, 7);
  write_bytes(path, header);
  fs::resize_file(path, huge);
  CHECK_THROWS_WITH(load_checkpoint(path, dest), Contains(path) && Contains("unknown format version 7"));
}

// A checkpoint's metadata edited under a valid checksum gave "stoll" or "map::at": each read names
// the key, the file and what it expected.
TEST_CASE("checkpoint metadata reads name the key, the file and what was expected", "[checkpoint]") {
  const Metadata meta = {{"model", "resnet20"},           {"step", "12"},   {"epoch", "x"}, {"batch_in_epoch", "-1"},
                         {"big", "99999999999999999999"}, {"spaced", " 5"}, {"tail", "5x"}, {"empty", ""}};
  CHECK(metadata_text(meta, "model", "a.ckpt") == "resnet20");
  CHECK(metadata_int(meta, "step", "a.ckpt") == 12);
  CHECK_THROWS_WITH(metadata_text(meta, "seed", "a.ckpt"),
                    Contains("checkpoint 'a.ckpt'") && Contains("no metadata entry 'seed'"));
  CHECK_THROWS_WITH(metadata_int(meta, "seed", "a.ckpt"), Contains("a.ckpt") && Contains("'seed'"));
  for (const char* key : {"epoch", "batch_in_epoch", "big", "spaced", "tail", "empty"}) {
    INFO(key);
    CHECK_THROWS_WITH(metadata_int(meta, key, "a.ckpt"),
                      Contains("checkpoint 'a.ckpt'") &&
                          Contains(std::string("metadata '") + key + "' is '" + meta.at(key) + "'") &&
                          Contains("expected a whole number from 0 to 9223372036854775807"));
  }
  CHECK_THROWS_WITH(metadata_int(meta, "step", "a.ckpt", 0, 10),
                    Contains("metadata 'step' is '12', expected a whole number from 0 to 10"));
  CHECK(metadata_int(meta, "batch_in_epoch", "a.ckpt", -5, 5) == -1);
}

TEST_CASE("checkpoint parser survives random corruption", "[checkpoint]") {
  // A small fuzzer: random byte flips and cuts, half of them resealed (size and checksum fixed)
  // so that the structural checks behind the checksum are reached too. Every load must either
  // succeed or throw glimpse::Error; anything else (a crash, bad_alloc) fails the test.
  TempDir dir;
  std::string good = dir.file("good.ckpt");
  NamedTensors saved = sample_tensors();
  save_checkpoint(good, saved, {{"a", "1"}, {"bb", "22"}});
  const std::vector<uint8_t> bytes = read_bytes(good);
  Rng rng(2024);
  int refused = 0, accepted = 0;
  for (int trial = 0; trial < 1500; trial++) {
    std::vector<uint8_t> b = bytes;
    int flips = 1 + static_cast<int>(rng.randint(4));
    for (int f = 0; f < flips; f++) {
      // mostly in the first 100 bytes, where the counts and lengths live
      size_t at =
          rng.bernoulli(0.8f) ? static_cast<size_t>(rng.randint(100)) : static_cast<size_t>(rng.randint(b.size()));
      b[at] = static_cast<uint8_t>(rng.next_u64());
    }
    if (rng.bernoulli(0.2f)) b.resize(static_cast<size_t>(rng.randint(b.size())));
    if (rng.bernoulli(0.5f)) reseal(b);
    std::string bad = dir.file("bad" + std::to_string(trial) + ".ckpt");  // a new file: no flush-on-truncate
    write_bytes(bad, b);
    NamedTensors dest = blank_like(saved);
    try {
      load_checkpoint(bad, dest);
      accepted++;  // e.g. a flip inside float data, resealed
    } catch (const Error&) {
      refused++;
    }
    fs::remove(bad);
  }
  INFO("refused " << refused << ", accepted " << accepted);
  CHECK(refused > 1000);
}

// ---- crash safety ----

// The crash tests' moment to strike: waits (up to 10 s) until the child `pid` is writing `path`
// aside, then, in odd rounds, a random moment up to 80 ms longer. Returns the temporary's name.
std::string wait_for_write(const std::string& path, pid_t pid, int round, Rng& rng) {
  const std::string being_written = path + ".tmp." + std::to_string(pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!fs::exists(being_written) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  if (round % 2 == 1) std::this_thread::sleep_for(std::chrono::microseconds(rng.randint(80'000)));
  return being_written;
}

TEST_CASE("checkpoint writer killed mid-write leaves a complete checkpoint", "[checkpoint]") {
  // A child process saves a 20 MB checkpoint (versions v, v+1, ...) in a loop and reports each
  // finished save through a pipe; the parent kills it with SIGKILL while a write is under way
  // or a little later, then loads `path`: it must be complete and be either the last version
  // the child reported or the one it was writing when it died.
  TempDir dir;
  const std::string path = dir.file("big.ckpt");
  const int64_t n = 5'000'000 / 2;  // two tensors of 2.5M floats: 20 MB
  Tensor a = Tensor::empty({n}), b = Tensor::empty({2, n / 2});
  real* pa = a.data();
  real* pb = b.data();
  auto fill = [&](uint32_t version) {
    for (int64_t i = 0; i < n; i++) pa[i] = static_cast<real>(version * 1024 + (i & 1023));
    for (int64_t i = 0; i < n; i++) pb[i] = -static_cast<real>(version);
  };
  auto holds_version = [&](uint32_t version) {
    for (int64_t i = 0; i < n; i++)
      if (pa[i] != static_cast<real>(version * 1024 + (i & 1023)) || pb[i] != -static_cast<real>(version)) return false;
    return true;
  };
  const NamedTensors tensors = {{"a", a}, {"b", b}};
  fill(1);
  save_checkpoint(path, tensors, {{"version", "1"}});
  uint32_t known = 1;  // the version at `path` before this round

  Rng rng(99);
  int killed_mid_write = 0;
  const int rounds = 4;
  for (int round = 0; round < rounds; round++) {
    const uint32_t first = (round + 1) * 100;  // this round's child writes first, first + 1, ...
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // child: save forever; never returns into the test runner
      ::close(pipe_fds[0]);
      try {
        for (uint32_t version = first;; version++) {
          fill(version);
          save_checkpoint(path, tensors, {{"version", std::to_string(version)}});
          if (::write(pipe_fds[1], &version, sizeof version) != sizeof version) ::_exit(2);
        }
      } catch (...) {
        ::_exit(1);
      }
    }
    ::close(pipe_fds[1]);
    // wait until the child is writing a file; then kill it at once (even rounds) or at a random
    // moment within the next 80 ms (odd rounds), which may fall in a later save
    const std::string being_written = wait_for_write(path, pid, round, rng);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    killed_mid_write += fs::exists(being_written);  // the file being written outlives its writer
    fs::remove(being_written);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));  // not an early exit

    // versions the child finished
    uint32_t reported = 0, last_finished = known;
    while (::read(pipe_fds[0], &reported, sizeof reported) == sizeof reported) last_finished = reported;
    ::close(pipe_fds[0]);
    const uint32_t in_progress = last_finished == known ? first : last_finished + 1;

    std::fill(pa, pa + n, real(0));  // so that only the load can make the version appear
    std::fill(pb, pb + n, real(0));
    Metadata metadata = load_checkpoint(path, tensors);
    uint32_t version = static_cast<uint32_t>(std::stoul(metadata.at("version")));
    INFO("round " << round << ": loaded version " << version << ", last finished " << last_finished);
    CHECK((version == last_finished || version == in_progress));
    CHECK(holds_version(version));
    known = version;
  }
  INFO("killed mid-write " << killed_mid_write << " of " << rounds << " times");
  CHECK(killed_mid_write >= 1);
}

// The child of fork() runs `body` and ends with its status. SIGINT, SIGTERM and SIGHUP get their
// default actions first (Catch2 handles the first two), as in a program of glimpse.
template <typename Body>
int run_in_child(Body body) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    std::signal(SIGHUP, SIG_DFL);
    try {
      ::_exit(body());
    } catch (...) {
      ::_exit(99);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

bool ended_by(int status, int signal) { return WIFSIGNALED(status) && WTERMSIG(status) == signal; }

TEST_CASE("a stopping signal removes the file being written aside, then stops the program", "[checkpoint]") {
  TempDir dir;
  const std::string aside = dir.file("model.onnx.tmp.1");
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    INFO("signal " << signal);
    const int status = run_in_child([&] {
      std::ofstream(aside) << "half a file";
      RemovedOnSignal guard(aside);
      std::raise(signal);
      return 3;  // not reached: the signal ends the child
    });
    CHECK(ended_by(status, signal));
    CHECK_FALSE(fs::exists(aside));
  }
}

TEST_CASE("a program's own signal handler is left alone while a file is written aside", "[checkpoint]") {
  // a trainer's StopSignals lets the write finish and saves at the end of the step
  TempDir dir;
  const std::string aside = dir.file("run.ckpt.tmp.1");
  static volatile std::sig_atomic_t received = 0;
  const int status = run_in_child([&] {
    std::signal(SIGTERM, [](int) { received = 1; });
    std::ofstream(aside) << "half a file";
    {
      RemovedOnSignal guard(aside);
      std::raise(SIGTERM);
    }
    return received == 1 && fs::exists(aside) ? 0 : 1;
  });
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

using SignalHandler = void (*)(int);
SignalHandler handler_of(int signal) {
  struct sigaction current = {};
  sigaction(signal, nullptr, &current);
  return current.sa_handler;
}

TEST_CASE("a file written aside leaves the signals' actions as it found them", "[checkpoint]") {
  // the default actions are back once the guard is gone; an ignored signal (nohup's SIGHUP) stays ignored
  const int status = run_in_child([&] {
    std::signal(SIGHUP, SIG_IGN);
    bool guarded;
    {
      RemovedOnSignal guard("never.tmp");
      guarded = handler_of(SIGINT) != SIG_DFL && handler_of(SIGTERM) != SIG_DFL && handler_of(SIGHUP) == SIG_IGN;
    }
    const bool restored =
        handler_of(SIGINT) == SIG_DFL && handler_of(SIGTERM) == SIG_DFL && handler_of(SIGHUP) == SIG_IGN;
    return guarded && restored ? 0 : 1;
  });
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

TEST_CASE("SIGTERM while a checkpoint is written leaves no temporary file", "[checkpoint]") {
  // as the SIGKILL test above, but with a signal a program can act on: the child saves 20 MB again
  // and again; SIGTERM arrives while a temporary file exists, or a little later
  TempDir dir;
  const std::string path = dir.file("big.ckpt");
  Tensor a = Tensor::zeros({5'000'000});
  const NamedTensors tensors = {{"a", a}};
  Rng rng(7);
  int sent_mid_write = 0;
  for (int round = 0; round < 4; round++) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::signal(SIGTERM, SIG_DFL);
      try {
        for (;;) save_checkpoint(path, tensors, {});
      } catch (...) {
        ::_exit(1);
      }
    }
    const std::string being_written = wait_for_write(path, pid, round, rng);
    sent_mid_write += fs::exists(being_written);
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO("round " << round);
    CHECK(ended_by(status, SIGTERM));
    CHECK_FALSE(fs::exists(being_written));
    fs::remove(being_written);
  }
  INFO("SIGTERM sent while a temporary file existed " << sent_mid_write << " of 4 times");
  CHECK(sent_mid_write >= 1);  // or the test tested nothing
}
