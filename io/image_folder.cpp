// An image folder (torchvision's ImageFolder layout): dir/<class>/<file>.png|jpg|jpeg|bmp.
//
//   dir/airplane/0000.jpg   -> label 0      classes sorted by name: labels 0, 1, 2, ...
//   dir/airplane/0001.jpg   -> label 0      files sorted by name within a class
//   dir/automobile/0000.jpg -> label 1
//
// Decoding is the slow part (50,000 small JPEGs take seconds), so it runs in parallel over
// files; each image lands at its own index, so the result does not depend on the threads.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "engine/parallel.h"
#include "engine/tensor.h"
#include "io/dataset.h"
#include "io/image.h"

namespace glimpse {

namespace {

namespace fs = std::filesystem;

bool is_hidden(const fs::path& path) { return path.filename().string().starts_with("."); }

bool has_image_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

// The sorted entries of a folder, hidden ones skipped.
std::vector<fs::path> sorted_entries(const fs::path& dir) {
  std::vector<fs::path> entries;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir))
    if (!is_hidden(entry.path())) entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::string size_str(const Image& image) { return std::to_string(image.width) + "x" + std::to_string(image.height); }

// One image file, decoded to `channels`; a file too large for stb is refused before it is read.
Image read_image(const fs::path& file, int64_t channels) {
  const std::string path = file.string();
  return decode_image(read_binary_file(path, "image_folder", max_image_file_bytes), channels,
                      "image_folder: '" + path + "'");
}

// (H, W, C) interleaved -> (C, H, W) planar
void hwc_to_chw(uint8_t* chw, const Image& image) {
  int64_t plane = image.height * image.width;
  for (int64_t p = 0; p < plane; p++)
    for (int64_t c = 0; c < image.channels; c++) chw[c * plane + p] = image.pixels[p * image.channels + c];
}

// Why a path that is not a directory is not one.
std::string not_a_directory(const fs::path& path) {
  return fs::exists(path) ? "is a file, not a directory" : "does not exist";
}

}  // namespace

std::vector<std::string> image_folder_classes(const std::string& dir) {
  if (!fs::is_directory(dir)) fail("image_folder: '" + dir + "' " + not_a_directory(dir));
  std::vector<std::string> classes;
  for (const fs::path& entry : sorted_entries(dir))
    if (fs::is_directory(entry)) classes.push_back(entry.filename().string());
  return classes;
}

void check_same_classes(const std::string& dir_a, const std::vector<std::string>& classes_a, const std::string& dir_b,
                        const std::vector<std::string>& classes_b) {
  auto first_missing = [](const std::vector<std::string>& from, const std::vector<std::string>& in) {
    for (const std::string& name : from)
      if (std::find(in.begin(), in.end(), name) == in.end()) return name;
    return std::string();
  };
  auto refuse = [&](const std::string& name, const std::string& has, const std::string& lacks) {
    fail("image_folder: the class folder '" + name + "' is in '" + has + "' but not in '" + lacks + "'; '" + dir_a +
         "' and '" + dir_b + "' must hold the same classes (labels follow the sorted class " +
         "folders, so a class missing from one would shift every label after it)");
  };
  if (std::string name = first_missing(classes_a, classes_b); !name.empty()) refuse(name, dir_a, dir_b);
  if (std::string name = first_missing(classes_b, classes_a); !name.empty()) refuse(name, dir_b, dir_a);
  if (classes_a != classes_b)  // the same names in another order: sorted, they cannot be
    fail("image_folder: '" + dir_a + "' and '" + dir_b + "' list their classes in different orders");
}

// The image files of `dir`, one sub-folder per class in sorted order; fills in data's class
// names and each file's label.
static std::vector<fs::path> list_class_folders(const std::string& dir, ImageDataset& data) {
  std::vector<fs::path> files;
  for (const fs::path& class_dir : sorted_entries(dir)) {
    if (!fs::is_directory(class_dir))
      fail("image_folder: '" + class_dir.string() + "' is a file, not a directory; '" + dir +
           "' must hold one folder of images per class");
    int64_t label = data.classes();
    data.class_names.push_back(class_dir.filename().string());
    for (const fs::path& file : sorted_entries(class_dir)) {
      if (!fs::is_regular_file(file) || !has_image_extension(file))
        fail("image_folder: '" + file.string() + "' is not an image file (.png, .jpg, .jpeg, .bmp)");
      files.push_back(file);
      data.labels.push_back(label);
    }
  }
  if (files.empty()) fail("image_folder: '" + dir + "' holds no images in class folders");
  return files;
}

// Decodes every file into data's pixels (CHW): the first image sets the size every other must
// have. The files decode in parallel; of several bad ones, the first by index is reported.
static void decode_all(const std::vector<fs::path>& files, int64_t channels, ImageDataset& data) {
  Image first = read_image(files[0], channels);
  data.channels = channels;
  data.height = first.height;
  data.width = first.width;
  data.pixels.resize(files.size() * data.image_bytes());
  hwc_to_chw(data.pixels.data(), first);

  std::vector<std::string> errors(files.size());
  parallel_for(static_cast<int64_t>(files.size()) - 1, 64, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0 + 1; i < i1 + 1; i++) {
      const std::string path = files[i].string();
      try {
        Image image = read_image(files[i], channels);
        if (image.height != first.height || image.width != first.width)
          fail("image_folder: '" + path + "' is " + size_str(image) + " but '" + files[0].string() + "' is " +
               size_str(first) + "; all images must have one size");
        hwc_to_chw(data.pixels.data() + i * data.image_bytes(), image);
      } catch (const Error& error) {
        errors[i] = error.what();
      }
    }
  });
  for (const std::string& error : errors)
    if (!error.empty()) throw Error(error);
}

ImageDataset load_image_folder(const std::string& dir, int64_t channels) {
  if (channels < 1 || channels > 4) fail("image_folder: channels must be 1 to 4, got " + std::to_string(channels));
  if (!fs::is_directory(dir))
    fail("image_folder: '" + dir + "' " + not_a_directory(dir) + " (scripts/download_data.sh fetches the " +
         "official data sets; data/sample/ holds small ones)");
  ImageDataset data;
  decode_all(list_class_folders(dir, data), channels, data);
  return data;
}

}  // namespace glimpse
