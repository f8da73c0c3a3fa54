// da_resnet20: resnet20 with DANet's dual attention (Fu et al., "Dual Attention Network for Scene
// Segmentation", CVPR 2019, Fig. 2-3), as specified in docs/MODELS.md.
//
//   input 3x32x32
//   conv 3/1/1 3->16, BN, ReLU                                  -> 16x32x32
//   layer1, layer2, layer3 as in resnet20                       -> 64x8x8
//   DualAttention: (PAM(x) + CAM(x)) / 2                        -> 64x8x8
//   global average pool, linear 64->10                          -> 10 logits
//
// The position attention module lets each of the 64 positions attend to all 64; the channel
// attention module each of the 64 channels to all 64 (layers/dual_attention.h). Both add their
// result scaled by a learnt scalar that starts at 0: at initialisation the network computes
// exactly what resnet20 does.
#pragma once

#include <memory>

#include "engine/random.h"
#include "models/resnet20.h"

namespace glimpse {

std::shared_ptr<ResNet20> da_resnet20(Rng& rng, int64_t classes = 10);

}  // namespace glimpse
