// NumPy's .npz files: named arrays that NumPy writes and reads (numpy.savez, numpy.load), and so
// PyTorch through it. Weights pass between glimpse and PyTorch by name, as a state_dict names them:
//
//   write_npz("r20.npz", model.state());       // glimpse's names are PyTorch's: "layer1.0.conv1.weight"
//   # Python: model.load_state_dict({k: torch.from_numpy(v) for k, v in numpy.load("r20.npz").items()})
//   # Python: numpy.savez("r20.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
//   std::vector<std::pair<std::string, Tensor>> arrays = read_npz("r20.npz");
//
// An .npz file is a zip archive holding one .npy file per array, named after it ("fc.weight.npy"):
//
//   for each array:   local header (30 bytes + the name)      then the .npy file, stored as it is
//   .npy file:        "\x93NUMPY" | version 1.0 | header length (u16) | header | the numbers
//   header:           {'descr': '<f4', 'fortran_order': False, 'shape': (10, 64), }  spaces, '\n'
//                     ('<f4': little-endian float32; the numbers row-major; the header padded so
//                      that the numbers start at a multiple of 64 bytes)
//   at the end:       the central directory (46 bytes + the name per entry), its end record (22)
//
// glimpse writes float32 arrays, uncompressed (as numpy.savez does). It reads what numpy.savez
// writes: little-endian float32, float64, int32, int64, uint8 and bool arrays, all held as float32
// here: a float64 is rounded to float32 (one beyond float32's range is refused), an integer above
// 2^24, which float32 cannot hold exactly, is refused.
// numpy.savez_compressed's deflated entries, Fortran order and zip64 archives (over 4 GB) are
// refused with a message that says so. Every read is bounds-checked; the CRC-32 of every entry is.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace glimpse {

// Writes the arrays atomically (io/dataset.h write_file_atomically). Names must be unique.
void write_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays);

// The arrays of an .npz file, in the archive's order, under their names without ".npy".
std::vector<std::pair<std::string, Tensor>> read_npz(const std::string& path);

// The same from the file's bytes (`path` names it in error messages).
std::vector<std::pair<std::string, Tensor>> read_npz_from_bytes(const std::vector<uint8_t>& bytes,
                                                                const std::string& path);

}  // namespace glimpse
