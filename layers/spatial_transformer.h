// SpatialTransformer: the spatial transformer module of Jaderberg et al., "Spatial Transformer
// Networks", NIPS 2015, Fig. 2 and Sec. 3, Eq. 1, with the localisation net of stn_mnist
// (MODELS.md).
//
//   theta = f_loc(U)                         localisation net           (N, 6) -> (N, 2, 3)
//   grid  = T_theta(G)                       affine_grid: for every output pixel (x_t, y_t)
//           (x_s, y_s)^T = theta (x_t, y_t, 1)^T                        (N, H, W, 2)     Eq. 1
//   V     = bilinear sample of U at grid     grid_sample, zeros outside (N, 1, H, W)
//
// The output has the input's size; coordinates are normalised to [-1, 1] with
// align_corners = false, as PyTorch's affine_grid / grid_sample by default.
//
// Localisation net of stn_mnist (Localisation::tutorial), for a 1 x S x S input (S >= 18):
//   conv 7/1/0 1->8, maxpool 2, ReLU          -> 8 x A x A,   A = (S - 6) / 2
//   conv 5/1/0 8->10, maxpool 2, ReLU         -> 10 x B x B,  B = (A - 4) / 2
//   flatten, linear 10*B*B -> 32, ReLU        -> 32            (S = 28: 90 inputs, 42: 490, 60: 1210)
//   linear 32 -> 6                            -> theta
//
// Localisation net of the paper's ST-CNN for RTS MNIST (Localisation::paper, stn_paper in
// MODELS.md), which looks at the input down-sampled by 2 (S >= 28):
//   average pool 2                            -> 1 x D x D,   D = S / 2      (S = 42: 21)
//   conv 5/1/0 1->20, maxpool 2, ReLU         -> 20 x A x A,  A = (D - 4) / 2
//   conv 5/1/0 20->20, ReLU                   -> 20 x B x B,  B = A - 4       (S = 42: 20 x 4 x 4)
//   flatten, linear 20*B*B -> 20, ReLU        -> 20
//   linear 20 -> 6                            -> theta
// The last linear starts at weights 0 and bias (1, 0, 0, 0, 1, 0): at initialisation every
// theta is the identity and the module returns its input (Jaderberg et al. Sec. 4.1 start
// from the identity too).
#pragma once

#include <memory>

#include "engine/random.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/module.h"

namespace glimpse {

class SpatialTransformer : public Module {
 public:
  enum class Localisation { tutorial, paper };
  SpatialTransformer(int64_t side, Rng& rng, Localisation localisation = Localisation::tutorial);  // 1 x side x side

  std::string type_name() const override { return "SpatialTransformer"; }
  std::string describe() const override;
  Tensor forward(const Tensor& U) override;  // (N, 1, side, side) -> (N, 1, side, side)
  Tensor theta(const Tensor& U);             // (N, 1, side, side) -> (N, 2, 3), the localisation net

  int64_t side;
  Localisation localisation;
  std::shared_ptr<Conv2d> loc_conv1;  // tutorial: 7/1/0, 1 -> 8;    paper: 5/1/0, 1 -> 20
  std::shared_ptr<Conv2d> loc_conv2;  // tutorial: 5/1/0, 8 -> 10;   paper: 5/1/0, 20 -> 20
  std::shared_ptr<Linear> loc_fc1;    // tutorial: 10*B*B -> 32;    paper: 20*B*B -> 20
  std::shared_ptr<Linear> loc_fc2;    // -> 6, starts at the identity transform
};

}  // namespace glimpse
