// Image data sets in memory, and the loaders that read MNIST and CIFAR-10 from disk.
//
// Every loader returns the same thing: an ImageDataset of bytes in NCHW order (N images,
// C channels, H rows, W columns), one label per image. The DataLoader (data_loader.h) turns
// them into float batches; nothing here knows about tensors.
//
// File formats read here:
//   MNIST idx (yann.lecun.com/exdb/mnist), all integers big-endian:
//     images  0x00000803, N, rows, cols, then N*rows*cols bytes (0 = background)
//     labels  0x00000801, N, then N bytes 0..9
//     either file may be gzip-compressed (detected by its first two bytes 1f 8b, not its name)
//   CIFAR-10 binary (www.cs.toronto.edu/~kriz/cifar.html): records of 3073 bytes,
//     1 label byte, then 1024 R, 1024 G, 1024 B bytes (a 32x32 image, rows top to bottom)
//   image folder: dir/<class>/<file>.png|jpg|jpeg|bmp, one sub-folder per class (as torchvision's
//     ImageFolder): classes sorted by name get labels 0, 1, 2, ...
//
// Every loader checks what it reads (magic numbers, header sizes against the file size,
// dimensions, label range) and raises glimpse::Error naming the file and what is wrong; a bad
// file never makes it crash or read out of bounds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glimpse {

struct ImageDataset {  // images stored as bytes, NCHW order
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // size() * channels * height * width
  std::vector<int64_t> labels;  // 0 .. classes-1
  std::vector<std::string> class_names;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t classes() const { return static_cast<int64_t>(class_names.size()); }
  int64_t image_bytes() const { return channels * height * width; }                    // C*H*W
  const uint8_t* image(int64_t i) const { return pixels.data() + i * image_bytes(); }  // (C, H, W)
};

// The name of class k: names[k] if there is one, else its number.
std::string class_name(const std::vector<std::string>& names, int64_t k);

// Images [first, first + count) of a data set, with its class names.
ImageDataset subset(const ImageDataset& data, int64_t first, int64_t count);

// A validation split: `count` images drawn at random by a fixed seed (the same images on every
// call for a data set of the same size, whatever a run's --seed), and the images left; each part
// keeps the data set's order. At random, because data sets are often sorted by class.
struct HeldOutSplit {
  ImageDataset kept, held_out;
};
HeldOutSplit hold_out(const ImageDataset& data, int64_t count);

// ---- MNIST ----
ImageDataset load_mnist(const std::string& images_path, const std::string& labels_path);
// The same from the two files' bytes (each raw or gzip), as load_mnist reads them; the paths
// only name the files in error messages.
ImageDataset decode_mnist(std::vector<uint8_t> images_file, std::vector<uint8_t> labels_file,
                          const std::string& images_path, const std::string& labels_path);
// train: train-images-idx3-ubyte / train-labels-idx1-ubyte, else t10k-...; each with or
// without .gz
ImageDataset load_mnist_dir(const std::string& dir, bool train);
// Writes one-channel images of any side and their labels (0..9) as the two raw idx files
// load_mnist reads: e.g. the distorted digits a trainer sees, for another framework to read.
void write_mnist(const ImageDataset& data, const std::string& images_path, const std::string& labels_path);

// ---- CIFAR-10 ----
const std::vector<std::string>& cifar10_class_names();  // airplane, automobile, ..., truck

// Per-channel mean and standard deviation of the training images (pixels scaled to [0, 1]),
// the usual normalisation for LoaderOptions::mean / stddev.
inline const std::vector<float> mnist_mean{0.1307f}, mnist_stddev{0.3081f};
inline const std::vector<float> cifar10_mean{0.4914f, 0.4822f, 0.4465f}, cifar10_stddev{0.2470f, 0.2435f, 0.2616f};
ImageDataset load_cifar10_binary(const std::vector<std::string>& files);  // 3073-byte records
// One binary batch file's bytes, as load_cifar10_binary reads each file; `path` names it in errors.
ImageDataset decode_cifar10_binary(const std::vector<uint8_t>& bytes, const std::string& path);
// train: data_batch_1.bin, data_batch_2.bin, ... (the official release has 5), else
// test_batch.bin; directly in dir or in dir/cifar-10-batches-bin. Class names from
// batches.meta.txt when present. Falls back to an image folder dir/train or dir/test.
ImageDataset load_cifar10_dir(const std::string& dir, bool train);
void write_cifar10_binary(const ImageDataset& data, const std::string& path);  // needs 3x32x32

// ---- image folder ----
// dir/<class>/*.png|jpg|jpeg|bmp, classes and files sorted by name; every image is converted
// to `channels` channels (1 grey, 3 RGB) and all must have one size. Hidden files are skipped.
ImageDataset load_image_folder(const std::string& dir, int64_t channels);
// The class names load_image_folder gives dir: its sub-folders, sorted, hidden ones skipped.
std::vector<std::string> image_folder_classes(const std::string& dir);
// Refuses two folders' class lists that differ (a train/ and a test/ folder), naming the first
// class one holds and the other lacks: the labels follow the sorted class names, so a class
// missing from one folder would shift every label after it.
void check_same_classes(const std::string& dir_a, const std::vector<std::string>& classes_a, const std::string& dir_b,
                        const std::vector<std::string>& classes_b);

// ---- bytes on disk ----
// The whole file, read in binary. `what` starts the error message ("mnist", "cifar10", ...).
// A file larger than max_bytes is refused before it is read.
std::vector<uint8_t> read_binary_file(const std::string& path, const std::string& what,
                                      uint64_t max_bytes = UINT64_MAX);
// A file's first n bytes (fewer if it is shorter) and its size: enough to check a header
// against the size before a file that may be huge is read whole.
struct FileHead {
  std::vector<uint8_t> bytes;
  uint64_t size = 0;
};
FileHead read_file_head(const std::string& path, const std::string& what, size_t n);
// Writes a whole file atomically: the bytes go to "<path>.tmp.<process id>", are flushed to disk
// (fsync), then renamed over <path>, and the directory is synced; a crash at any moment leaves the
// old file or the new one, never a mixture. Errors start with `what` ("checkpoint") and the path;
// a path that names a directory, a device, a pipe or a socket, or whose directory does not exist,
// is refused before anything is written. Ctrl-C, SIGTERM or SIGHUP during the write removes the
// temporary file before it ends the program, unless the program handles the signal itself (a
// trainer finishes the write) (io/temporary_file.h).
void write_file_atomically(const std::string& path, const uint8_t* bytes, size_t n, const std::string& what);
// Writes a whole file (a picture, a plot, a data file): atomically, as above, where `path` is a
// regular file or does not exist yet, so that a full disk or a crash leaves the old file whole;
// into the file itself where it is a device or a pipe (/dev/stdout), which a rename would replace.
void write_whole_file(const std::string& path, const uint8_t* bytes, size_t n, const std::string& what);
// Why `path` cannot be written ("" if it can): a directory, a missing or read-only directory
// above it, a file name longer than the file system takes, or, for a file renamed into place as
// write_file_atomically does, what is not a regular file (a device, a pipe or a socket, which the
// rename would replace; written into, /dev/stdout is fine).
std::string file_write_problem(const std::string& path, bool renamed_into_place);
// Whether two paths name one file, however spelled ("runs/a.csv", "./runs/a.csv", an absolute
// path, a symbolic link), whether or not it exists yet.
bool same_file(const std::string& a, const std::string& b);
// Decompresses a gzip file's bytes (RFC 1952: header, deflate stream, CRC-32 and length
// trailer, both checked). `what` names the file in error messages. Data that inflates to more
// than gunzip_max_bytes is refused (stb's inflater counts its output in an int).
inline constexpr int64_t gunzip_max_bytes = 2147483647;  // 2^31 - 1
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& bytes, const std::string& what);
// The CRC-32 of gzip and zip files (ISO 3309; polynomial 0xEDB88320): a checksum of their contents.
uint32_t crc32(const uint8_t* data, size_t n);
bool is_gzip(const std::vector<uint8_t>& bytes);  // starts with the magic bytes 1f 8b

}  // namespace glimpse
