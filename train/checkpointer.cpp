#include "train/checkpointer.h"

#include <cmath>
#include <cstdio>

namespace glimpse {

// Flags of a run's identity that trainers began to record later (train_cifar's and train_dasnet's
// --holdout, train_dasnet's --policy): a checkpoint without one was written with this value.
static const Metadata identity_defaults{{"holdout", "0"}, {"policy", "full"}};

Checkpointer::Checkpointer(std::vector<NamedTensor> state, Metadata identity, std::string save_path, int64_t save_every)
    : state_(std::move(state)),
      identity_(std::move(identity)),
      save_path_(std::move(save_path)),
      save_every_(save_every) {
  auto model = identity_.find("model");
  if (model == identity_.end()) fail("Checkpointer: the identity must name the model");
  model_ = model->second;
}

Position Checkpointer::resume(const std::string& path, int64_t steps_per_epoch) {
  Metadata saved = read_checkpoint_metadata(path);
  const std::string& model = metadata_text(saved, "model", path);
  if (saved.count("weights_only"))
    fail("--resume " + path + ": holds the model's weights alone (convert_weights), not a run to go on with: " +
         "evaluate, predict and convert_weights read it");
  if (model != model_) fail("--resume " + path + ": the checkpoint holds model '" + model + "', not '" + model_ + "'");
  for (const auto& [key, value] : identity_) {
    const bool recorded_later = !saved.count(key) && identity_defaults.count(key);
    const std::string& was = recorded_later ? identity_defaults.at(key) : metadata_text(saved, key, path);
    if (key != "model" && was != value)
      fail("--resume " + path + ": the checkpoint was written with --" + key + " " + was + ", this run has --" + key +
           " " + value + "; resume with the same --" + key);
  }
  load_checkpoint(path, state_);
  return Position{.epoch = metadata_int(saved, "epoch", path),
                  .batch_in_epoch = metadata_int(saved, "batch_in_epoch", path, 0, steps_per_epoch),
                  .step = metadata_int(saved, "step", path)};
}

// The first tensor of the state with a value that is not finite, or null.
static const NamedTensor* first_not_finite(const std::vector<NamedTensor>& state) {
  for (const NamedTensor& named : state) {
    const real* data = named.second.data();
    for (int64_t i = 0; i < named.second.numel(); i++)
      if (!std::isfinite(data[i])) return &named;
  }
  return nullptr;
}

void Checkpointer::save(const Position& at) {
  if (save_path_.empty()) return;
  if (const NamedTensor* bad = first_not_finite(state_))
    fail("not saved: '" + bad->first + "' holds a value that is not finite; " + save_path_ +
         " keeps the last good checkpoint");
  Metadata metadata = identity_;
  metadata["epoch"] = std::to_string(at.epoch);
  metadata["batch_in_epoch"] = std::to_string(at.batch_in_epoch);
  metadata["step"] = std::to_string(at.step);
  save_checkpoint(save_path_, state_, metadata);
  last_saved_ = at;
}

void Checkpointer::print_last_save() const {
  if (last_saved_.step < 0) return;
  const bool mid_epoch = last_saved_.batch_in_epoch > 0;
  std::printf("checkpoint written to %s (step %lld, %s epoch %lld)\n", save_path_.c_str(),
              static_cast<long long>(last_saved_.step), mid_epoch ? "in" : "after",
              static_cast<long long>(last_saved_.epoch + (mid_epoch ? 1 : 0)));
}

void Checkpointer::save_if_due(const Position& at, int64_t steps_per_epoch, int64_t total_steps) {
  const bool loop_saves_anyway = at.batch_in_epoch == steps_per_epoch || at.step == total_steps;
  if (save_every_ > 0 && at.step % save_every_ == 0 && !loop_saves_anyway) save(at);
}

}  // namespace glimpse
