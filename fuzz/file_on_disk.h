// For fuzz targets whose loader reads a file: the input written to a file of this process's own
// temp folder, so that the header-before-the-rest path (read_file_head, a checkpoint's header
// read) runs on the very bytes the in-memory decoder gets.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace fuzz {

// A folder made once per process and removed at its exit; in /dev/shm (memory) where there is
// one, since writing the files on a disk's file system made a target 10-20 times slower.
struct TempFolder {
  std::string path;
  TempFolder() {
    std::string pattern =
        std::filesystem::is_directory("/dev/shm") ? "/dev/shm/glimpse_fuzz_XXXXXX" : "/tmp/glimpse_fuzz_XXXXXX";
    if (!::mkdtemp(pattern.data())) std::abort();
    path = pattern;
  }
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

// Writes bytes to the file `name` of that folder and returns its path.
inline std::string write_temp_file(const std::string& name, const std::vector<uint8_t>& bytes) {
  static const TempFolder folder;
  const std::string path = folder.path + "/" + name;
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file || std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size() || std::fclose(file) != 0) std::abort();
  return path;
}

}  // namespace fuzz
