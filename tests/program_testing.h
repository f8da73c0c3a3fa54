// Running the programs as a user runs them, for the command-line tests (test_cli.cpp,
// test_evaluate.cpp): the binaries built next to the test, a scratch directory per test.
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "io/dataset.h"

namespace glimpse::testing {

inline const std::string kBinaryDir = GLIMPSE_BINARY_DIR;

struct Outcome {
  int status = -1;     // the exit status; -1 if the program did not exit normally
  std::string output;  // stdout, and stderr unless asked apart
};

// Runs a shell command, capturing what it prints.
inline Outcome run_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  Outcome outcome;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) outcome.output.append(buffer, n);
  int status = pclose(pipe);
  if (WIFEXITED(status)) outcome.status = WEXITSTATUS(status);
  return outcome;
}

// Runs "<binary dir>/<program> <arguments>"; stderr joins stdout unless `drop_stderr`.
inline Outcome run(const std::string& program, const std::string& arguments, bool drop_stderr = false) {
  return run_command(kBinaryDir + "/" + program + " " + arguments + (drop_stderr ? " 2>/dev/null" : " 2>&1"));
}

// A file's bytes ("" if it cannot be read).
inline std::string file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// A fresh directory under the system's temporary one, removed with its contents at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("glimpse_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline const std::filesystem::path kSample = std::filesystem::path(GLIMPSE_SOURCE_DIR) / "data" / "sample";

// A small MNIST folder cut from the bundled sample (400 training, 100 test digits), so that the
// trainers run by the tests spend their time training rather than loading and evaluating.
inline const std::string& tiny_mnist_dir() {
  static TempDir dir;
  static const std::string path = [] {
    const std::string sample = (kSample / "mnist").string();
    write_mnist(subset(load_mnist_dir(sample, true), 0, 400), dir / "train-images-idx3-ubyte",
                dir / "train-labels-idx1-ubyte");
    write_mnist(subset(load_mnist_dir(sample, false), 0, 100), dir / "t10k-images-idx3-ubyte",
                dir / "t10k-labels-idx1-ubyte");
    return dir.path.string();
  }();
  return path;
}

// A small CIFAR-10 image folder cut from the bundled sample: the first 4 training and 2 test
// images of each class.
inline const std::string& tiny_cifar_dir() {
  namespace fs = std::filesystem;
  static TempDir dir;
  static const std::string path = [] {
    for (auto [split, count] : {std::pair{"train", 4}, std::pair{"test", 2}})
      for (const fs::directory_entry& class_dir : fs::directory_iterator(kSample / "cifar10" / split)) {
        std::vector<fs::path> files;
        for (const fs::directory_entry& file : fs::directory_iterator(class_dir)) files.push_back(file.path());
        std::sort(files.begin(), files.end());
        fs::path target = dir.path / split / class_dir.path().filename();
        fs::create_directories(target);
        for (int i = 0; i < count; i++) fs::copy_file(files[i], target / files[i].filename());
      }
    return dir.path.string();
  }();
  return path;
}

}  // namespace glimpse::testing
