// stn_paper: the Spatial Transformer paper's own networks for RTS MNIST (Jaderberg et al.,
// "Spatial Transformer Networks", NIPS 2015, Sec. 4.1 and appendix; MODELS.md, "stn_paper"),
// larger than stn_mnist's tutorial model. For a 1 x S x S input (S = 42 for RTS; S >= 28).
//
//   input U                                                  1 x S x S
//   spatial transformer, the paper's localisation net        1 x S x S    (layers/spatial_transformer.h:
//     (the input down-sampled by 2, two convolutions,                      Localisation::paper)
//     linear 20, linear 6 from the identity)
//   conv 9/1/0 1->64, maxpool 2, ReLU                        64 x P x P,  P = (S - 8) / 2      (S = 42: 17)
//   conv 7/1/0 64->64, maxpool 2, ReLU                       64 x Q x Q,  Q = (P - 6) / 2      (S = 42: 5)
//   flatten, linear 64*Q*Q -> 10                             10 logits
//
// With use_transformer = false it is the paper's CNN, the row the ST-CNN is compared with: the
// same classifier on U. Parameters at S = 42: transformer 520 + 10,020 + 6,420 + 126 = 17,086;
// classifier 5,248 + 200,768 + 16,010 = 222,026; 239,112 in all. The paper: RTS test error 0.8%
// (CNN) and 0.5% (ST-CNN, affine).
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/module.h"
#include "layers/spatial_transformer.h"

namespace glimpse {

class StnPaper : public Module {
 public:
  StnPaper(int64_t side, Rng& rng, bool use_transformer = true);

  std::string type_name() const override { return "StnPaper"; }
  std::string describe() const override;
  Tensor forward(const Tensor& U) override;  // (N, 1, S, S) -> (N, 10) logits

  int64_t side;
  std::shared_ptr<SpatialTransformer> transformer;  // null in the CNN
  std::shared_ptr<Conv2d> conv1;                    // 9/1/0, 1 -> 64
  std::shared_ptr<Conv2d> conv2;                    // 7/1/0, 64 -> 64
  std::shared_ptr<Linear> fc;                       // 64*Q*Q -> 10
};

}  // namespace glimpse
