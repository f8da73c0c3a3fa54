// dasnet_backprop: dasNet's gates trained by back-propagation instead of SNES, the diagnostic
// beside train_dasnet (docs/RESULTS.md, "dasNet"). Not part of the product: the paper trains the
// policy with SNES, and train_dasnet is its trainer.
//
// The gates are differentiable: a_{t+1} = 2 sigmoid(o_t theta^T), and every pass of the frozen
// resnet20 is a chain of ops with a backward. Here theta (784 x 784, from zero: the frozen
// network) follows the gradient of the last pass's cross-entropy by Adam, on the images SNES
// scores the gates on (--holdout N, the base trained without them), the base frozen (its
// weights, and its BN statistics). If this raises the test accuracy and SNES does not, the gap
// is SNES's; if this does not either, the gates on this base have little to give.
//
//   build/dasnet_backprop --base runs/dasnet_base_holdout.ckpt --holdout 5000 --data data/cifar10
//       --epochs 10 --lr 1e-3 --save runs/dasnet_backprop.ckpt                        (one command)
//
// It trains in train_classifier's loop (--save, --resume, --log, --plot, --max-steps); its
// checkpoint is a dasnet checkpoint, so `evaluate --checkpoint` scores it as it scores
// train_dasnet's. At the end: McNemar's exact test of the learnt gates against all gates at one.
#include <cstdio>
#include <memory>

#include "models/dasnet.h"
#include "optim/adam.h"
#include "train/classifier.h"
#include "train/dasnet_training.h"
#include "train/data_paths.h"
#include "train/paired_test.h"
#include "train/stop_signals.h"

using namespace glimpse;

// The T passes with a graph: what DasNet::forward computes, with theta's gradient recorded. With
// `diagonal_only` (a mask of theta's diagonal) the gradient off the diagonal is zero, so theta,
// which starts at zero, stays diagonal: train_dasnet --policy diagonal's gates.
static Tensor gated_logits_with_graph(DasNet& das, const Tensor& x, const Tensor& diagonal_only) {
  const Tensor theta = diagonal_only.defined() ? das.theta * diagonal_only : das.theta;
  return das.passes_after(x, das.first_pass(x), theta);  // each sets the base's BN to evaluation mode
}

int main(int argc, char** argv) {
  Flags flags("dasnet_backprop",
              "Trains dasNet's gates by back-propagation on held-out CIFAR-10 images (a diagnostic beside "
              "train_dasnet's SNES).");
  std::string& base_path = flags.add_string("base", "", "resnet20 checkpoint of train_cifar --holdout N (required)");
  int64_t& holdout =
      flags.add_int("holdout", 5000, "train the gates on the N training images the base never saw", 1, 1000000000);
  int64_t& passes = flags.add_int("passes", 5, "passes T over each image", 1, 100);
  std::string& policy = flags.add_choice("policy", "full", {"full", "diagonal"},
                                         "what is trained: all of theta (784 x 784), or its diagonal (784)");
  TrainingFlags common{.epochs = 10, .batch = 128, .lr = 1e-3};
  declare_training_flags(flags, common, {.lr = "Adam's learning rate of theta"});
  flags.parse(argc, argv);
  if (base_path.empty() && common.resume.empty()) flags.usage_error("--base FILE is required (or --resume)");
  check_output_paths(flags, common);

  try {
    apply_training_flags(common, "dasnet_backprop");
    auto [data, train_set, test_set, held_out] =
        load_cifar10_for("dasnet's resnet20", common.data, common.quiet, holdout);
    DataLoader train_loader(held_out, {.batch_size = common.batch,
                                       .shuffle = true,
                                       .seed = static_cast<uint64_t>(common.seed),
                                       .mean = cifar10_mean,
                                       .stddev = cifar10_stddev});
    DataLoader test_loader(test_set,
                           {.batch_size = 500, .shuffle = false, .mean = cifar10_mean, .stddev = cifar10_stddev});

    Rng rng(static_cast<uint64_t>(common.seed));
    auto base = std::make_shared<ResNet20>(rng);
    if (!base_path.empty()) load_dasnet_base(*base, base_path, holdout);        // a resumed run: from the checkpoint
    for (Tensor& weight : base->parameters()) weight.set_requires_grad(false);  // frozen: no weight gradients
    DasNet das(base, passes);
    das.theta.set_requires_grad(true);
    Adam adam({das.theta}, {.lr = static_cast<real>(common.lr)});
    Tensor diagonal_only;  // undefined: every entry of theta is trained
    if (policy == "diagonal") {
      std::vector<real> identity(static_cast<size_t>(dasnet_gates * dasnet_gates), 0);
      for (int64_t c = 0; c < dasnet_gates; c++) identity[static_cast<size_t>(c * dasnet_gates + c)] = 1;
      diagonal_only = Tensor::from_data({dasnet_gates, dasnet_gates}, identity);
    }

    ClassifierTraining run{.model_name = "dasnet",
                           .model_flags = {{"passes", std::to_string(passes)}, {"policy", policy}},
                           .data_flags = {{"holdout", std::to_string(holdout)}},
                           .model = &das,
                           .train_loader = &train_loader,
                           .test_loader = &test_loader,
                           .optimizer = &adam,
                           .step_loss =
                               [&](const Batch& batch) {
                                 Tensor logits = gated_logits_with_graph(das, batch.images, diagonal_only);
                                 Tensor loss = cross_entropy(logits, batch.labels);
                                 return StepLoss{.loss = loss, .shown_loss = loss.item(), .predicted = argmax(logits)};
                               },
                           .evaluate =
                               [&] {
                                 return evaluate_classifier(
                                     das, [&](const Tensor& x) { return das.forward(x); }, test_loader);
                               }};
    TrainResult result = train_classifier(run, common);

    const Evaluation gated = run.evaluate();
    const Evaluation frozen = evaluate_classifier(
        das, [&](const Tensor& x) { return das.base->forward(x); }, test_loader);
    std::printf(
        "test accuracy: %.4f with all gates at one (frozen resnet20), %.4f with the gates learnt by "
        "back-propagation\n%s\n",
        frozen.accuracy, gated.accuracy,
        describe_comparison(mcnemar_exact(gated.right, frozen.right), "with the learnt gates", "with all gates at one")
            .c_str());
    print_final_line(result);
  } catch (const std::exception& e) {
    return report_failure("dasnet_backprop", e);
  }
  return 0;
}
