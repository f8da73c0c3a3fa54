// stn_mnist: the Spatial Transformer Network for distorted MNIST (Jaderberg et al., "Spatial
// Transformer Networks", NIPS 2015, Sec. 4.1, Fig. 1-2), as specified in MODELS.md, for a
// 1 x S x S input (S = 28 MNIST or rotated, 42 RTS, 60 cluttered; any S >= 18).
//
//   input U                                                  1 x S x S
//   spatial transformer: theta = f_loc(U), V = sample(U)     1 x S x S    (layers/spatial_transformer.h)
//   conv 5/1/0 1->10, maxpool 2, ReLU                        10 x P x P,  P = (S - 4) / 2
//   conv 5/1/0 10->20, dropout2d 0.5, maxpool 2, ReLU        20 x Q x Q,  Q = (P - 4) / 2
//   flatten                                                  20*Q*Q       (S = 28: 320, 42: 980, 60: 2880)
//   linear ->50, ReLU, dropout 0.5                           50
//   linear 50->10                                            10 logits
//
// With use_transformer = false it is the paper's CNN baseline: the same classifier on U.
// Parameters at S = 28: transformer 400 + 2,010 + 2,912 + 198 = 5,520,
// classifier 260 + 5,020 + 16,050 + 510 = 21,840; 27,360 in all (the PyTorch STN tutorial's
// model, which this one is).
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/dropout2d.h"
#include "layers/linear.h"
#include "layers/module.h"
#include "layers/spatial_transformer.h"

namespace glimpse {

class StnMnist : public Module {
 public:
  StnMnist(int64_t side, Rng& rng, bool use_transformer = true);

  std::string type_name() const override { return "StnMnist"; }
  std::string describe() const override;
  Tensor forward(const Tensor& U) override;  // (N, 1, S, S) -> (N, 10) logits

  int64_t side;
  std::shared_ptr<SpatialTransformer> transformer;  // null in the CNN baseline
  std::shared_ptr<Conv2d> conv1;                    // 5/1/0, 1 -> 10
  std::shared_ptr<Conv2d> conv2;                    // 5/1/0, 10 -> 20
  std::shared_ptr<Dropout2d> conv2_drop;
  std::shared_ptr<Linear> fc1;  // 20*Q*Q -> 50
  std::shared_ptr<Dropout> fc1_drop;
  std::shared_ptr<Linear> fc2;  // 50 -> 10
};

}  // namespace glimpse
