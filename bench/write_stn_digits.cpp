// write_stn_digits: writes the digits a train_stn run trains and is scored on as the four idx
// files of MNIST (raw, 42x42 for rts), so that another framework can train the same model on the
// very same images (bench/train_stn_torch.py does, with PyTorch):
//
//   build/write_stn_digits --data DIR --dataset rts --seed 1 --redraw --epoch 3 --out FOLDER
//
// train-images/-labels hold the training digits of epoch --epoch of a train_stn run with the same
// --dataset, --seed and --redraw (every epoch the first draw without --redraw, each epoch its own
// with it), t10k-images/-labels the test digits every run is scored on (train/stn_digits.h). It
// prints the pixel mean and standard deviation train_stn normalises with (those of the first draw).
#include <cstdio>
#include <filesystem>
#include <string>

#include "io/dataset.h"
#include "train/data_paths.h"
#include "train/flags.h"
#include "train/stn_digits.h"

using namespace glimpse;

int main(int argc, char** argv) {
  Flags flags("write_stn_digits", "Writes the digits of a train_stn run as MNIST idx files.");
  std::string& data_dir = flags.add_string("data", "", "MNIST directory (none: data/mnist, else the bundled sample)");
  std::string& dataset = flags.add_choice("dataset", "rts", {"rts", "mnist"}, "train_stn's --dataset");
  int64_t& seed = flags.add_int("seed", 1, "train_stn's --seed");
  bool& redraw = flags.add_bool("redraw", "train_stn's --redraw: fresh distortions every epoch");
  int64_t& epoch = flags.add_int("epoch", 1, "the epoch whose training digits to write", 1, 1000000);
  std::string& out = flags.add_string("out", "", "the folder to write the four files into (created if missing)");
  flags.parse(argc, argv);
  if (out.empty()) flags.usage_error("--out FOLDER is needed");
  if (redraw && dataset == "mnist") flags.usage_error("--redraw needs distorted digits: --dataset rts");

  try {
    DataLocation data = find_data(data_dir, "mnist", false);
    const ImageDataset mnist_train = load_mnist_dir(data.dir, true);
    auto training_digits = [&](int64_t draw) {
      Rng distortions = stn_training_draw(seed, draw);
      return stn_digits(mnist_train, dataset, distortions, "the training digits");
    };
    ImageDataset train = training_digits(0);
    const auto [mean, stddev] = pixel_statistics(train);  // of the first draw, as train_stn's
    if (redraw && epoch > 1) train = training_digits(epoch - 1);
    Rng test_distortions(stn_test_seed);
    ImageDataset test = stn_digits(load_mnist_dir(data.dir, false), dataset, test_distortions, "the test digits");

    std::error_code error;
    std::filesystem::create_directories(out, error);
    if (error) fail("--out: cannot create the folder '" + out + "': " + error.message());
    const std::filesystem::path folder(out);
    write_mnist(train, folder / "train-images-idx3-ubyte", folder / "train-labels-idx1-ubyte");
    write_mnist(test, folder / "t10k-images-idx3-ubyte", folder / "t10k-labels-idx1-ubyte");
    std::printf(
        "wrote the %s training digits of epoch %lld and the test digits (%lldx%lld; pixel mean %.6f, "
        "std %.6f) to %s\n",
        dataset.c_str(), static_cast<long long>(epoch), static_cast<long long>(train.height),
        static_cast<long long>(train.width), mean, stddev, out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_stn_digits: %s\n", e.what());
    return 1;
  }
  return 0;
}
