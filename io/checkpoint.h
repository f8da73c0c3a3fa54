// Checkpoints: named tensors (model parameters and buffers, optimiser state, anything) and text
// metadata (model name, epoch, step, seed, batch, ...) in one file.
//
//     NamedTensors tensors = model.named_parameters();       // + buffers, optimizer.state(), ...
//     save_checkpoint("run/last.ckpt", tensors, {{"model", "resnet20"}, {"epoch", "12"}});
//     auto metadata = load_checkpoint("run/last.ckpt", tensors);  // fills the tensors in place
//
// File format, version 1 (every integer little-endian):
//
//     magic          8 bytes   "GLIMPSEC"
//     version        u32       1
//     file size      u64       total bytes, checksum included (a cut file is told apart at once)
//     metadata count u32
//       key          u32 byte length, then the bytes          } repeated
//       value        u32 byte length, then the bytes          }
//     tensor count   u32
//       name         u32 byte length, then the bytes          }
//       ndim         u32                                      } repeated
//       dims         ndim x i64                               }
//       data         numel x f32 (IEEE 754), row-major        }
//     checksum       u64       64-bit FNV-1a of every byte before it
//
// Saving is atomic: the bytes go to "<path>.tmp.<process id>", which is flushed to disk (fsync) and then
// renamed over <path>, and the directory is synced; a crash at any moment leaves either the
// previous checkpoint or the new one at <path>, never a mixture.
//
// Loading checks the whole file first (magic, version, size, checksum, structure, and that
// its tensors are exactly the requested ones with the same shapes) and only then copies the
// numbers, so a refused file leaves the destination tensors untouched. Every problem raises
// a glimpse::Error naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace glimpse {

using Metadata = std::map<std::string, std::string>;

void save_checkpoint(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                     const Metadata& metadata);

// Fills each given tensor in place from the entry of the same name; the file must hold exactly
// these names, with the same shapes. Returns the metadata.
Metadata load_checkpoint(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors);

// The same from a checkpoint file's bytes (`path` only names it in error messages).
Metadata load_checkpoint_from_bytes(const std::vector<uint8_t>& bytes, const std::string& path,
                                    const std::vector<std::pair<std::string, Tensor>>& tensors);

// The metadata alone (the whole file is still checked).
Metadata read_checkpoint_metadata(const std::string& path);

// Everything a checkpoint holds, for a reader that wants only part of it (a program that scores
// the model needs "model.*", not the optimiser's state): the metadata and every tensor, new, by
// name in the file's order. The whole file is checked as load_checkpoint checks it.
struct CheckpointContents {
  Metadata metadata;
  std::vector<std::pair<std::string, Tensor>> tensors;
};
CheckpointContents read_checkpoint(const std::string& path);

// One entry of a checkpoint's metadata, as the reader of `path` expects it: a missing key or a
// value that is not what is expected raises an Error naming the key, the file and what was
// expected (an edited checkpoint can hold anything under a valid checksum).
const std::string& metadata_text(const Metadata& metadata, const std::string& key, const std::string& path);
int64_t metadata_int(const Metadata& metadata, const std::string& key, const std::string& path, int64_t min_value = 0,
                     int64_t max_value = INT64_MAX);
double metadata_real(const Metadata& metadata, const std::string& key, const std::string& path, double min_value,
                     double max_value);

// A number as metadata text: the shortest that reads back as the same double (or float), so a
// flag's value prints as the user wrote it ("0.17", not "0.170000002").
std::string real_text(double value);
std::string real_text(float value);

}  // namespace glimpse
